// The agent desktop. Every text shown comes from the translation catalogue (/static/i18n/*.json)
// or from data, and data is only ever inserted with textContent: caller names and notes are
// untrusted text.
"use strict";

const desk = {
  token: sessionStorage.getItem("cc_token"),
  lang: localStorage.getItem("cc_lang") || (navigator.language.toLowerCase().startsWith("zh") ? "zh-CN" : "en"),
  words: {},
  meta: { pause_reasons: [], disposition_codes: [] },
  agent: null,
  call: null,
  socket: null,
};

const $ = (id) => document.getElementById(id);

function t(key, values = {}) {
  const text = desk.words[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

function label(item) {
  return desk.lang === "zh-CN" ? item.zh : item.en;
}

async function loadLanguage(lang) {
  desk.lang = lang;
  localStorage.setItem("cc_lang", lang);
  desk.words = await (await fetch(`/static/i18n/${lang}.json`)).json();
  document.documentElement.lang = lang;
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll("[data-i18n-placeholder]")) node.placeholder = t(node.dataset.i18nPlaceholder);
  fillSelects();
  renderState();
  renderCall();
}

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: { "Authorization": `Bearer ${desk.token}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json();
  if (!response.ok) throw new Error(data.error || response.statusText);
  return data;
}

function fillSelects() {
  const reasons = $("pause-reason");
  reasons.replaceChildren(...desk.meta.pause_reasons.map((r) => new Option(label(r), r.code)));
  const codes = $("disposition-code");
  const keep = codes.value;
  codes.replaceChildren(new Option(t("record.choose"), ""), ...desk.meta.disposition_codes.map((c) => new Option(label(c), c.code)));
  codes.value = keep;
  $("transfer-queue").replaceChildren(...(desk.meta.queues || []).map((q) => new Option(q.display_name, q.name)));
}

async function control(path, body) {
  $("call-error").textContent = "";
  try {
    await api("POST", path, body);
  } catch (error) {
    $("call-error").textContent = error.message;
  }
}

// State --------------------------------------------------------------------------------------------

function renderState() {
  const agent = desk.agent;
  if (!agent) return;
  $("agent-state").textContent = t(`state.${agent.state}`);
  $("agent-state").dataset.state = agent.state;
  const reason = desk.meta.pause_reasons.find((r) => r.code === agent.reason);
  $("agent-reason").textContent = agent.state === "paused" && reason ? label(reason) : "";
  renderCountdown();
}

function renderCountdown() {
  const agent = desk.agent;
  const left = agent && agent.state === "wrap_up" && agent.wrapup_until
    ? Math.max(0, Math.ceil((Date.parse(agent.wrapup_until) - Date.now()) / 1000)) : null;
  $("wrapup-countdown").textContent = left === null ? "" : t("state.wrapup_left", { seconds: left });
}
setInterval(renderCountdown, 500);

async function changeState(body) {
  $("state-error").textContent = "";
  try {
    desk.agent = await api("PUT", "/api/me/state", body);
    renderState();
  } catch (error) {
    $("state-error").textContent = error.message;
  }
}

// The call -----------------------------------------------------------------------------------------

function renderCall() {
  const call = desk.call;
  $("pop").hidden = !call;
  if (!call) return;
  $("call-status").textContent = t(`call.${call.status}`);
  $("pop-caller").textContent = [call.caller_number, call.caller_name].filter(Boolean).join(" ");
  $("pop-queue").textContent = call.queue || "";
  $("pop-wait").textContent = call.wait_s == null ? "" : t("pop.seconds", { seconds: Math.round(call.wait_s) });
  const card = call.customer || { new: true, phones: [] };
  $("pop-new").hidden = !card.new;
  $("pop-name").textContent = card.new ? "" : card.name;
  $("pop-company").textContent = card.new ? (card.phones || []).join(", ") : card.company;
  $("pop-grade").textContent = card.new ? "" : t("pop.grade", { grade: card.grade });
  $("pop-grade").hidden = card.new;
  $("pop-key").hidden = !card.key_account;
  $("pop-risk").hidden = !card.at_risk;
  $("pop-region").textContent = card.new ? "" : card.region;
  $("pop-notes").textContent = card.new ? "" : card.notes;
  const history = (card.recent_calls || []).map((past) => {
    const item = document.createElement("li");
    const code = desk.meta.disposition_codes.find((c) => c.code === past.disposition_code);
    item.textContent = [new Date(past.started_at).toLocaleString(desk.lang), past.disposition, code ? label(code) : "", past.notes]
      .filter(Boolean).join(" · ");
    return item;
  });
  if (!history.length && !card.new) {
    const none = document.createElement("li");
    none.textContent = t("pop.no_calls");
    history.push(none);
  }
  $("pop-history").replaceChildren(...history);
}

function onCall(status) {
  return (payload) => {
    if (status === "ringing") {
      desk.call = { ...payload, status };
      $("record-form-area").hidden = true;
      $("record-message").textContent = "";
    } else if (desk.call && desk.call.call_id === payload.call_id) {
      desk.call = { ...desk.call, ...payload, customer: desk.call.customer, status };
    } else {
      return;
    }
    if (status === "ended" && desk.call.answered_at) $("record-form-area").hidden = false;
    renderCall();
  };
}

async function saveRecord(event) {
  event.preventDefault();
  $("record-message").textContent = "";
  try {
    await api("PATCH", `/api/calls/${encodeURIComponent(desk.call.call_id)}`, {
      disposition_code: $("disposition-code").value,
      notes: $("record-notes").value,
    });
    $("record-message").textContent = t("record.saved");
  } catch (error) {
    $("record-message").textContent = error.message;
  }
}

// Start --------------------------------------------------------------------------------------------

async function start() {
  desk.meta = await api("GET", "/api/meta");
  fillSelects();
  desk.agent = await api("GET", "/api/me/state");
  $("login-view").hidden = true;
  $("desktop-view").hidden = false;
  renderState();
  desk.socket = io({ auth: { token: desk.token }, transports: ["websocket"] });
  desk.socket.on("agent.state", (agent) => { desk.agent = { ...desk.agent, ...agent }; renderState(); });
  desk.socket.on("call.offered", onCall("ringing"));
  desk.socket.on("call.answered", onCall("answered"));
  desk.socket.on("call.held", onCall("held"));
  desk.socket.on("call.resumed", onCall("answered"));
  desk.socket.on("call.missed", onCall("missed"));
  desk.socket.on("call.ended", onCall("ended"));
}

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const response = await fetch("/api/login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username: form.get("username"), password: form.get("password") }),
  });
  const data = await response.json();
  if (!response.ok) { $("login-error").textContent = data.error; return; }
  desk.token = data.token;
  sessionStorage.setItem("cc_token", desk.token);
  await start();
});
$("go-available").addEventListener("click", () => changeState({ state: "available" }));
$("go-paused").addEventListener("click", () => changeState({ state: "paused", reason: $("pause-reason").value }));
$("go-logged-out").addEventListener("click", () => changeState({ state: "logged_out" }));
$("record-form").addEventListener("submit", saveRecord);
$("hang-up").addEventListener("click", () => desk.call && control(`/api/calls/${encodeURIComponent(desk.call.call_id)}/hangup`));
$("transfer").addEventListener("click", () => desk.call && control(
  `/api/calls/${encodeURIComponent(desk.call.call_id)}/transfer`, { kind: "blind", queue: $("transfer-queue").value }));
$("dial-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("state-error").textContent = "";
  try {
    const placed = await api("POST", "/api/me/dial", { number: $("dial-number").value });
    desk.call = { call_id: placed.call_id, caller_number: $("dial-number").value, status: "ringing", customer: null };
    renderCall();
  } catch (error) {
    $("state-error").textContent = error.message;
  }
});
for (const button of document.querySelectorAll("[data-lang]")) {
  button.addEventListener("click", () => loadLanguage(button.dataset.lang));
}

loadLanguage(desk.lang).then(() => (desk.token ? start().catch(() => sessionStorage.removeItem("cc_token")) : null));
