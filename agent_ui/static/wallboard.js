// The wallboard: queues, agents and alerts as the server pushes them (wallboard.snapshot on connect,
// then queue.stats, agent.states and alert over socket.io; docs/socketio.md), and the leader's actions on an agent. The page only
// redraws what it is sent; the one-second timer only advances the clocks shown.
"use strict";

const board = {
  meta: { pause_reasons: [] },
  queues: new Map(),
  agents: new Map(),
  alerts: new Map(),
  spying: new Map(),  // agent → {mode, spyId}: what this leader listens to now
  socket: null,
};

function secondsText(value) {
  return value == null ? "–" : t("board.seconds", { seconds: Math.round(value) });
}

function since(iso) {
  return iso ? Math.max(0, (Date.now() - Date.parse(iso)) / 1000) : 0;
}

// Rows are made once per queue or agent and then only their texts change, so a button is never
// replaced under the leader's mouse by the next push or the clock.
function rowFor(tbody, key, width, make) {
  let row = [...tbody.rows].find((r) => r.dataset.key === key);
  if (!row) {
    row = document.createElement("tr");
    row.dataset.key = key;
    for (let i = 0; i < width; i++) row.append(document.createElement("td"));
    make(row);
    const after = [...tbody.rows].find((r) => r.dataset.key.localeCompare(key) > 0);
    tbody.insertBefore(row, after || null);
  }
  return row;
}

function fill(row, texts) {
  texts.forEach((text, i) => {
    if (text !== null && row.cells[i].textContent !== text) row.cells[i].textContent = text;
  });
}

function count(value) {
  return String(value ?? "–");
}

// Queues -------------------------------------------------------------------------------------------

const QUEUE_STATES = ["available", "ringing", "on_call", "wrap_up", "paused", "logged_out"];

function renderQueues() {
  for (const q of board.queues.values()) {
    const row = rowFor($("queue-rows"), q.queue, 19, (made) => {
      made.dataset.queue = q.queue;
      for (const c of [...made.cells].slice(1)) c.className = "number";
    });
    const wait = q.oldest_waiting_since ? since(q.oldest_waiting_since) : 0;
    fill(row, [
      displayName(q, q.queue),
      count(q.waiting),
      clock(wait),
      ...QUEUE_STATES.map((s) => count(q.agents[s])),
      count(q.offered),
      count(q.answered),
      q.short_abandoned ? `${q.abandoned} (${q.short_abandoned})` : String(q.abandoned),
      q.callbacks_waiting ? `${q.callbacks} (${q.callbacks_waiting})` : String(q.callbacks ?? 0),
      q.service_level == null ? "–" : `${(q.service_level * 100).toFixed(1)}%`,
      secondsText(q.asa_s),
      secondsText(q.aht_s),
      secondsText(q.longest_talk_s),
      `${q.required_agents ?? "–"} / ${q.agents.available}`,
      q.csat == null ? "–" : `${(q.csat * 100).toFixed(0)}% (${q.csat_responses})`,
    ]);
    row.cells[13].classList.toggle("below-target", q.service_level != null && q.service_level < q.service_level_target);
  }
  renderTiles();
}

// Agents -------------------------------------------------------------------------------------------

function stateText(agent) {
  let text = t(`state.${agent.state}`);
  if (agent.state === "paused" && agent.reason) {
    const known = board.meta.pause_reasons.find((r) => r.code === agent.reason);
    text += ` · ${known ? label(known) : agent.reason}`;
  }
  return text;
}

function callText(call) {
  if (!call) return "";
  const who = [call.caller_number, call.caller_name].filter(Boolean).join(" ");
  const duration = call.answered_at ? clock(since(call.answered_at)) : t("call.ringing");
  return [who, call.queue ? displayName(board.queues.get(call.queue), call.queue) : t(`history.${call.direction}`), duration].filter(Boolean).join(" · ");
}

const SPY_MODES = ["listen", "whisper", "barge"];
const ACTIONS = {
  listen: (agent) => spy(agent, "listen"),
  whisper: (agent) => spy(agent, "whisper"),
  barge: (agent) => spy(agent, "barge"),
  stop: (agent) => stopSpy(agent),
  pause: (agent) => act("PUT", agent, "state", { state: "paused", reason: $("pause-reason").value }),
  log_off: (agent) => act("PUT", agent, "state", { state: "logged_out" }),
};

// Who else is on the agent's call now (another leader, a supervisor): every board shows it, so two
// leaders do not barge in on one call without knowing.
function othersMonitoring(agent) {
  const mine = board.spying.get(agent.agent);
  return (agent.monitored_by || []).filter((m) => !mine || m.spy_id !== mine.spyId)
    .map((m) => `🎧 ${t("board.monitored_by", { leader: m.leader, mode: t(`board.monitoring.${m.mode}`) })}`).join(" · ");
}

function addActions(row) {
  const cell = row.cells[6];
  cell.className = "actions";
  for (const [name, run] of Object.entries(ACTIONS)) {
    const button = element("button");
    button.type = "button";
    button.dataset.action = name;
    button.addEventListener("click", () => run(row.dataset.agent));
    cell.append(button);
  }
}

function renderAgents() {
  for (const agent of board.agents.values()) {
    const row = rowFor($("agent-rows"), agent.agent, 7, (made) => {
      made.dataset.agent = agent.agent;
      for (const i of [2, 4, 5]) made.cells[i].className = "number";
      addActions(made);
    });
    const onCall = Boolean(agent.call && agent.call.answered_at);
    if (!onCall) board.spying.delete(agent.agent);  // the call ended: so did the listening
    const spying = board.spying.get(agent.agent);
    const others = othersMonitoring(agent);
    fill(row, [
      [`${agent.agent} ${agent.name || ""}`.trim(), spying ? `🎧 ${t(`board.monitoring.${spying.mode}`)}` : "", others].filter(Boolean).join(" · "),
      stateText(agent),
      clock(since(agent.since)),
      callText(agent.call),
      count(agent.handled_today),
      clock(agent.talk_today_s || 0),
      null,
    ]);
    row.cells[1].dataset.state = agent.state;
    row.classList.toggle("monitored", Boolean(spying || others));
    for (const button of row.cells[6].querySelectorAll("button")) {
      const name = button.dataset.action;
      button.textContent = t(`board.${name}`);
      const spyButton = SPY_MODES.includes(name);
      button.disabled = spyButton ? !onCall || Boolean(spying) : name !== "stop" && agent.state === "logged_out";
      button.hidden = name === "stop" && !spying;
      button.title = spyButton && !onCall ? t("board.spy_needs_call") : "";  // why it is greyed
    }
  }
  renderAgentGrid();
}

// Listening in (or whispering, barging): the leader's own phone rings; the row says so until the
// leader stops it or the call ends.
async function spy(agent, mode) {
  $("action-result").textContent = "";
  try {
    const started = await api("POST", `/api/agents/${encodeURIComponent(agent)}/spy`, { mode });
    board.spying.set(agent, { mode, spyId: started.spy_id });
    $("action-result").textContent = t("board.spying", { agent, mode: t(`board.monitoring.${mode}`) });
  } catch (error) {
    $("action-result").textContent = error.message;
  }
  renderAgents();
}

async function stopSpy(agent) {
  const spying = board.spying.get(agent);
  if (!spying) return;
  try {
    await api("DELETE", `/api/agents/${encodeURIComponent(agent)}/spy/${encodeURIComponent(spying.spyId)}`);
    $("action-result").textContent = t("board.spy_stopped", { agent });
  } catch (error) {
    $("action-result").textContent = error.message;  // it had ended already
  }
  board.spying.delete(agent);
  renderAgents();
}

async function act(method, agent, what, body) {
  $("action-result").textContent = "";
  try {
    await api(method, `/api/agents/${encodeURIComponent(agent)}/${what}`, body);
    $("action-result").textContent = t("board.action_done", { agent });
  } catch (error) {
    $("action-result").textContent = error.message;
  }
}

// Alerts -------------------------------------------------------------------------------------------

function alertText(a) {
  const value = a.kind === "service_level" ? `${(a.value * 100).toFixed(1)}%` : a.value;
  const threshold = a.kind === "service_level" ? `${(a.threshold * 100).toFixed(0)}%` : a.threshold;
  const key = a.kind === "task_overdue" && !a.agent ? "alert.task_overdue_queue" : `alert.${a.kind}`;
  const queue = board.queues.get(a.queue);
  const agent = board.agents.get(a.agent);
  return t(key, { queue: displayName(queue, a.queue || ""), agent: agent && agent.name ? `${a.agent} ${agent.name}` : a.agent || "", value, threshold });
}

// The alerts as a feed: the newest first, each with the time it began.
function renderAlerts() {
  const alerts = [...board.alerts.values()].sort((a, b) => (Date.parse(b.at) || 0) - (Date.parse(a.at) || 0));
  $("alerts").replaceChildren(...alerts.map((a) => {
    const item = element("li");
    item.dataset.kind = a.kind;
    const at = a.at ? new Date(a.at).toLocaleTimeString(ui.lang, { hour: "2-digit", minute: "2-digit" }) : "";
    item.append(element("time", at, "at"), element("span", alertText(a)));
    return item;
  }));
  $("no-alerts").hidden = alerts.length > 0;
}

function alertKey(a) {
  return `${a.kind}|${a.queue || ""}|${a.agent || ""}`;
}

// Start --------------------------------------------------------------------------------------------

// The whole picture, sent on every (re)connect: what is not in it is gone (an alert that cleared
// while the page was cut off, an agent moved to another team).
function takeSnapshot(snapshot) {
  board.queues = new Map(snapshot.queues.map((q) => [q.queue, q]));
  board.agents = new Map(snapshot.agents.map((a) => [a.agent, a]));
  board.alerts = new Map(snapshot.alerts.map((a) => [alertKey(a), a]));
  for (const [tbody, kept] of [[$("queue-rows"), board.queues], [$("agent-rows"), board.agents]]) {
    for (const row of [...tbody.rows]) if (!kept.has(row.dataset.key)) row.remove();
  }
  render();
}

function render() {
  renderQueues();
  renderAgents();
  renderAlerts();
}

async function loadLanguage(lang) {
  await loadCatalogue(lang);
  $("pause-reason").replaceChildren(...board.meta.pause_reasons.map((r) => new Option(label(r), r.code)));
  render();
  if (typeof renderReport === "function") renderReport();
}

const BOARD_ROLES = ["team_leader", "supervisor", "admin"];  // the wallboard API's (agent_ui/api/wallboard.py)

async function start() {
  const me = await api("GET", "/api/me");
  $("login-view").hidden = true;
  if (!BOARD_ROLES.includes(me.role)) {  // a clear refusal, not an empty board
    $("not-allowed").hidden = false;
    return;
  }
  board.meta = await api("GET", "/api/meta");
  $("board-view").hidden = false;
  // A team leader's agents are their team; a queue's figures count all its agents: the page says so.
  $("scope-note").hidden = me.role !== "team_leader";
  await loadLanguage(ui.lang);
  startCustomerFiles(me.may);
  startCampaignFigures();
  if (me.phone_type === "webrtc") {  // the leader listens in through the browser
    $("phone").hidden = false;
    (await import("/static/softphone.js")).startPhone();
  }
  board.socket = io({ auth: { token: ui.token }, transports: ["websocket"] });
  board.socket.on("wallboard.snapshot", takeSnapshot);
  board.socket.on("queue.stats", (q) => { board.queues.set(q.queue, q); renderQueues(); });
  board.socket.on("agent.states", ({ agents }) => {
    for (const a of agents) board.agents.set(a.agent, { ...board.agents.get(a.agent), ...a });
    renderAgents();
  });
  board.socket.on("alert", (a) => {
    if (a.active) board.alerts.set(alertKey(a), a); else board.alerts.delete(alertKey(a));
    renderAlerts();
  });
  setInterval(() => { renderQueues(); renderAgents(); }, 1000);
  startReports();
}

$("login-form").addEventListener("submit", (event) => logIn(event, start));
for (const button of document.querySelectorAll("[data-lang]")) {
  button.addEventListener("click", () => loadLanguage(button.dataset.lang));
}

// Starts once every script of the page has run (start calls into the ones after this one).
document.addEventListener("DOMContentLoaded", () => {
  loadCatalogue(ui.lang).then(() => (ui.token ? start().catch(() => sessionStorage.removeItem("cc_token")) : null));
});
