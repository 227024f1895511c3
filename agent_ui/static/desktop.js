// The agent desktop: the agent's state, the live push and today's history (common.js holds the
// language, the API call and the login shared with the wallboard). The call (desktop-call.js) and
// its record form (desktop-record.js) are beside it, and the tickets (desktop-tickets.js).
// Every text shown comes from the translation catalogue (/static/i18n/*.json) or from data, and
// data is only ever inserted with textContent: caller names and notes are untrusted text.
"use strict";

const desk = {
  meta: { pause_reasons: [], disposition_codes: [], queues: [], record_choices: {} },
  agent: null,
  call: null,
  socket: null,
  phone: null,  // the browser phone's module (softphone.js), for an agent whose phone it is
  statePushes: 0,  // agent.state pushes received: a read they overtook is stale (readState)
};

function codeLabel(code) {
  const known = desk.meta.disposition_codes.find((c) => c.code === code);
  return known ? label(known) : "";
}

async function loadLanguage(lang) {
  await loadCatalogue(lang);
  fillSelects();
  fillCustomerChoices();
  renderState();
  renderCall();
  renderRecord();
  renderRecordTickets();
  renderHistory();
  renderTicket();
}

function fillSelects() {
  const reasons = $("pause-reason");
  const keep = reasons.value;
  reasons.replaceChildren(...desk.meta.pause_reasons.map((r) => new Option(label(r), r.code)));
  if (keep) reasons.value = keep;
  $("transfer-queue").replaceChildren(...desk.meta.queues.map((q) => new Option(displayName(q, q.name), q.name)));
  fillRecordChoices();
  fillTicketTypes();
}

// State --------------------------------------------------------------------------------------------

function renderState() {
  const agent = desk.agent;
  if (!agent) return;
  $("agent-state").textContent = t(`state.${agent.state}`);
  $("agent-state").dataset.state = agent.state;
  let reason = "";
  if (agent.state === "paused" && agent.reason === desk.meta.disposition_pause) reason = t("state.disposition_required");
  else if (agent.state === "paused" && agent.reason === desk.meta.phone_pause) reason = t("state.phone_pause");
  else if (agent.state === "paused") {
    const known = desk.meta.pause_reasons.find((r) => r.code === agent.reason);
    reason = known ? label(known) : agent.reason || "";
  }
  // Paused during a call or its wrap-up: Asterisk holds the pause, which begins when they end.
  if (agent.state !== "paused" && agent.pause_reason && agent.pause_reason !== desk.meta.disposition_pause) {
    const known = desk.meta.pause_reasons.find((r) => r.code === agent.pause_reason);
    reason = t("state.paused_next", { reason: known ? label(known) : agent.pause_reason });
  }
  $("agent-reason").textContent = reason;
  renderCountdown();
  renderStateTime();
  renderRecord();
  if (desk.phone) desk.phone.followAgent(agent.state);
}

// How long the agent has been in this state (a wallboard's first question), m:ss, then h:mm:ss.
function renderStateTime() {
  const since = desk.agent && desk.agent.since && desk.agent.state !== "logged_out" ? Date.parse(desk.agent.since) : NaN;
  $("state-time").textContent = Number.isNaN(since) ? "" : clock((Date.now() - since) / 1000);
}
setInterval(() => desk.agent && renderStateTime(), 1000);

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
    const before = desk.agent && desk.agent.state;
    await readState("PUT", body);
    renderState();
    // A pause asked for in a call or its wrap-up does not show as a new state yet: say it was taken.
    if (body.state === "paused" && ["wrap_up", "on_call", "ringing"].includes(before)) toast(t("state.pause_after"));
  } catch (error) {
    $("state-error").textContent = error.message;
  }
}

// Today's history ----------------------------------------------------------------------------------

function renderHistory() {
  const today = desk.history;
  if (!today) return;
  $("history-handled").textContent = String(today.calls_handled);
  // Every duration on the desktop is a clock (m:ss, h:mm:ss), as the call bar's timers are.
  $("history-talk").textContent = today.talk_s == null ? "–" : clock(today.talk_s);
  $("history-aht").textContent = today.average_handle_time_s == null ? "–" : clock(today.average_handle_time_s);
  $("history-rows").replaceChildren(...today.calls.map((call) => {
    const row = document.createElement("tr");
    row.append(
      element("td", new Date(call.started_at).toLocaleTimeString(ui.lang)),
      element("td", t(`history.${call.direction}`)),
      element("td", (call.direction === "inbound" ? call.caller_number : call.called_number) || ""),
      element("td", call.disposition ? t(`outcome.${call.disposition}`) : t("history.live")),
      element("td", [codeLabel(call.disposition_code), satisfactionText(call.satisfaction), pausedText(call.recording_paused)].filter(Boolean).join(" · ")),
      element("td", call.talk_s == null ? "" : clock(call.talk_s), "number"),
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

// The agent's state as the server has it now (or after a change: PUT). An agent.state push that arrives while this read is on
// its way is as new as the read or newer (a push older than the socket's joining never arrives), and
// the read's answer, parsed after it, must not put the older state back: the push's is kept.
async function readState(method = "GET", body = undefined) {
  const pushes = desk.statePushes;
  const state = await api(method, "/api/me/state", body);
  if (desk.statePushes === pushes) desk.agent = state;
}

// After a reconnect (a network cut, a restarted server) the pushes sent meanwhile are lost: read the
// agent's state again, pick up a call that began, and close one that ended.
async function catchUp() {
  await readState();
  renderState();
  loadHistory();
  const live = desk.agent.call_id;
  if (live) {
    adoptCall(live);  // a new call, or the same one answered meanwhile
  } else if (desk.call && ["ringing", "answered", "held"].includes(desk.call.status)) {
    const row = await api("GET", `/api/calls/${encodeURIComponent(desk.call.call_id)}`).catch(() => ({}));
    onCall("ended")({ ...row, call_id: desk.call.call_id });
  } else {
    adoptUncoded();
  }
}

async function readAgainOnJoining() {
  await readState();
  renderState();
  if (desk.agent.call_id && desk.agent.call_id !== desk.call?.call_id) adoptCall(desk.agent.call_id);
  else adoptUncoded();
}

// A call that ended while the page was loading or cut off, and still needs its code: its record
// form, so the agent is not left paused with nothing to fill in.
function adoptUncoded() {
  const waiting = desk.agent.pending_disposition;
  if (waiting && waiting !== desk.call?.call_id) adoptCall(waiting);
}

async function start() {
  desk.meta = await api("GET", "/api/meta");
  fillSelects();
  desk.agent = await api("GET", "/api/me/state");
  $("login-view").hidden = true;
  $("desktop-view").hidden = false;
  renderState();
  loadHistory();
  loadTickets();
  if (desk.agent.call_id) adoptCall(desk.agent.call_id);
  else adoptUncoded();
  desk.me = await api("GET", "/api/me");
  startTasks();
  startCampaigns();
  if (desk.me.phone_type === "webrtc") {  // the browser is the agent's phone
    $("phone").hidden = false;
    desk.phone = await import("/static/softphone.js");
    desk.phone.followAgent(desk.agent.state);
    desk.phone.startPhone();
  }
  desk.socket = io({ auth: { token: ui.token }, transports: ["websocket"] });
  let connectedBefore = false;
  desk.socket.on("connect", () => {
    // The first time, what changed between start's read and this socket's joining is lost too (a
    // phone that failed at once has already paused its agent): read the state again.
    (connectedBefore ? catchUp() : readAgainOnJoining()).catch((error) => { $("state-error").textContent = error.message; });
    connectedBefore = true;
  });
  desk.socket.on("agent.state", (agent) => {
    desk.statePushes += 1;
    desk.agent = { ...desk.agent, ...agent };
    renderState();
  });
  desk.socket.on("call.offered", onCall("ringing"));
  desk.socket.on("call.answered", onCall("answered"));
  desk.socket.on("call.held", onCall("held"));
  desk.socket.on("call.resumed", onCall("answered"));
  // Paused or resumed recording: the call keeps its status (answered or held), with the new flag.
  desk.socket.on("call.recording_paused", (payload) => desk.call && onCall(desk.call.status)(payload));
  desk.socket.on("call.missed", onCall("missed"));
  desk.socket.on("call.transferred", onCall("transferred"));
  desk.socket.on("call.ended", onCall("ended"));
}

$("login-form").addEventListener("submit", (event) => logIn(event, start));
$("go-available").addEventListener("click", () => changeState({ state: "available" }));
$("go-paused").addEventListener("click", () => changeState({ state: "paused", reason: $("pause-reason").value }));
$("go-logged-out").addEventListener("click", () => changeState({ state: "logged_out" }));
for (const button of document.querySelectorAll("[data-lang]")) {
  button.addEventListener("click", () => loadLanguage(button.dataset.lang));
}

// Starts once every script of the page has run: loadLanguage calls into the ones after this one, and
// the catalogue's fetch can come back while the browser is still loading them.
document.addEventListener("DOMContentLoaded", () => {
  loadLanguage(ui.lang).then(() => (ui.token ? start().catch(() => sessionStorage.removeItem("cc_token")) : null));
});
