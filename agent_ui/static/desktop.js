// The agent desktop: language, API calls, the agent's state, the live push and today's history.
// The call (desktop-call.js) and its record form (desktop-record.js) are beside it.
// Every text shown comes from the translation catalogue (/static/i18n/*.json) or from data, and
// data is only ever inserted with textContent: caller names and notes are untrusted text.
"use strict";

const desk = {
  token: sessionStorage.getItem("cc_token"),
  lang: localStorage.getItem("cc_lang") || (navigator.language.toLowerCase().startsWith("zh") ? "zh-CN" : "en"),
  words: {},
  meta: { pause_reasons: [], disposition_codes: [], queues: [], record_choices: {} },
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

function codeLabel(code) {
  const known = desk.meta.disposition_codes.find((c) => c.code === code);
  return known ? label(known) : "";
}

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
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
  renderRecord();
  renderHistory();
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
  const keep = reasons.value;
  reasons.replaceChildren(...desk.meta.pause_reasons.map((r) => new Option(label(r), r.code)));
  if (keep) reasons.value = keep;
  $("transfer-queue").replaceChildren(...desk.meta.queues.map((q) => new Option(q.display_name, q.name)));
  fillRecordChoices();
}

// State --------------------------------------------------------------------------------------------

function renderState() {
  const agent = desk.agent;
  if (!agent) return;
  $("agent-state").textContent = t(`state.${agent.state}`);
  $("agent-state").dataset.state = agent.state;
  let reason = "";
  if (agent.state === "paused" && agent.reason === desk.meta.disposition_pause) reason = t("state.disposition_required");
  else if (agent.state === "paused") {
    const known = desk.meta.pause_reasons.find((r) => r.code === agent.reason);
    reason = known ? label(known) : agent.reason || "";
  }
  $("agent-reason").textContent = reason;
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

// Today's history ----------------------------------------------------------------------------------

function minutes(seconds) {
  return seconds == null ? "–" : t("history.minutes", { minutes: (seconds / 60).toFixed(1) });
}

function renderHistory() {
  const today = desk.history;
  if (!today) return;
  $("history-handled").textContent = String(today.calls_handled);
  $("history-talk").textContent = minutes(today.talk_s);
  $("history-aht").textContent = today.average_handle_time_s == null ? "–" : t("pop.seconds", { seconds: Math.round(today.average_handle_time_s) });
  $("history-rows").replaceChildren(...today.calls.map((call) => {
    const row = document.createElement("tr");
    row.append(
      element("td", new Date(call.started_at).toLocaleTimeString(desk.lang)),
      element("td", t(`history.${call.direction}`)),
      element("td", (call.direction === "inbound" ? call.caller_number : call.called_number) || ""),
      element("td", call.disposition ? t(`outcome.${call.disposition}`) : t("history.live")),
      element("td", codeLabel(call.disposition_code)),
      element("td", call.talk_s == null ? "" : String(Math.round(call.talk_s))),
    );
    return row;
  }));
}

async function loadHistory() {
  try {
    desk.history = await api("GET", "/api/me/calls");
    renderHistory();
  } catch (error) {
    $("state-error").textContent = error.message;
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
  loadHistory();
  if (desk.agent.call_id) adoptCall(desk.agent.call_id);
  desk.socket = io({ auth: { token: desk.token }, transports: ["websocket"] });
  desk.socket.on("agent.state", (agent) => { desk.agent = { ...desk.agent, ...agent }; renderState(); });
  desk.socket.on("call.offered", onCall("ringing"));
  desk.socket.on("call.answered", onCall("answered"));
  desk.socket.on("call.held", onCall("held"));
  desk.socket.on("call.resumed", onCall("answered"));
  desk.socket.on("call.missed", onCall("missed"));
  desk.socket.on("call.transferred", onCall("transferred"));
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
for (const button of document.querySelectorAll("[data-lang]")) {
  button.addEventListener("click", () => loadLanguage(button.dataset.lang));
}

// Starts once the page's other scripts have loaded (the catalogue fetch comes after them).
loadLanguage(desk.lang).then(() => (desk.token ? start().catch(() => sessionStorage.removeItem("cc_token")) : null));
