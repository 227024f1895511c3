// The wallboard's floor view (issue 19): per queue a tile of key figures coloured by their
// thresholds, the agents as a compact grid (state colour and time in state), the alerts as a feed
// (newest first, with when each began), and a TV mode — full screen, the floor view alone, large —
// for the display on the wall (also opened as /wallboard?tv=1). Uses board, t, $ (wallboard.js).
"use strict";

// Abandon rate thresholds: 5 % is the usual target of a service desk, twice that needs action now.
const ABANDON_WARN = 0.05, ABANDON_BAD = 0.10;
const SL_MARGIN = 0.05;  // within 5 points under target: a warning before it is missed

function level(bad, warn) {
  return bad ? "bad" : warn ? "warn" : "ok";
}

function figure(name, value, state) {
  const box = element("div", undefined, `figure ${state}`);
  box.dataset.figure = name;
  box.append(element("span", value, "value"), element("span", t(`board.tile.${name}`), "name"));
  return box;
}

// Erlang C's agents for the queue's target, against those staffed now (not paused, not logged out).
function staffingText(q) {
  if (q.required_agents == null) return { text: t("board.staffing_unknown"), state: "ok" };
  const staffed = ["available", "ringing", "on_call", "wrap_up"].reduce((sum, s) => sum + (q.agents[s] || 0), 0);
  const missing = q.required_agents - staffed;
  return missing > 0
    ? { text: t("board.need_agents", { count: missing }), state: "bad" }
    : { text: t("board.staffed", { staffed, required: q.required_agents }), state: "ok" };
}

function renderTiles() {
  const tiles = [...board.queues.values()].sort((a, b) => displayName(a, a.queue).localeCompare(displayName(b, b.queue)));
  $("tiles").replaceChildren(...tiles.map((q) => {
    const tile = element("section", undefined, "tile card");
    tile.dataset.queue = q.queue;
    const wait = q.oldest_waiting_since ? since(q.oldest_waiting_since) : 0;
    const abandonRate = q.abandon_rate;
    const staffing = staffingText(q);
    tile.append(
      element("h3", displayName(q, q.queue)),
      figure("waiting", count(q.waiting), level(q.waiting > 0 && wait >= q.alert_wait_s, q.waiting > 0)),
      figure("longest_wait", clock(wait), level(wait >= q.alert_wait_s, wait >= q.alert_wait_s / 2)),
      figure("service_level", q.service_level == null ? "–" : `${(q.service_level * 100).toFixed(0)}%`,
        q.service_level == null ? "ok" : level(q.service_level < q.service_level_target, q.service_level < q.service_level_target + SL_MARGIN)),
      figure("asa", secondsText(q.asa_s), level(q.asa_s != null && q.asa_s > q.service_level_s, false)),
      figure("abandoned", abandonRate == null ? "–" : `${(abandonRate * 100).toFixed(0)}%`,
        level(abandonRate != null && abandonRate >= ABANDON_BAD, abandonRate != null && abandonRate >= ABANDON_WARN)),
      element("p", staffing.text, `staffing ${staffing.state}`),
    );
    return tile;
  }));
}

function renderAgentGrid() {
  const agents = [...board.agents.values()].filter((a) => a.state !== "logged_out").sort((a, b) => a.agent.localeCompare(b.agent));
  $("agent-grid").replaceChildren(...agents.map((a) => {
    const item = element("li", undefined, "agent-cell");
    item.dataset.state = a.state;
    item.dataset.agent = a.agent;
    item.append(element("span", a.name || a.agent, "who"), element("span", stateText(a), "state"), element("span", clock(since(a.since)), "time number"));
    return item;
  }));
}

function setTvMode(on) {
  document.body.classList.toggle("tv", on);
  $("tv-mode").setAttribute("aria-pressed", String(on));
  $("tv-mode").dataset.i18n = on ? "board.tv_exit" : "board.tv_mode";  // a language switch keeps it
  $("tv-mode").textContent = t($("tv-mode").dataset.i18n);
}

$("tv-mode").addEventListener("click", async () => {
  const on = !document.body.classList.contains("tv");
  setTvMode(on);
  try {
    if (on && !document.fullscreenElement) await document.documentElement.requestFullscreen();
    if (!on && document.fullscreenElement) await document.exitFullscreen();
  } catch (error) {
    // no full screen here (a kiosk browser, a test): TV mode in the window
  }
});
document.addEventListener("fullscreenchange", () => { if (!document.fullscreenElement) setTvMode(false); });
if (new URLSearchParams(location.search).get("tv") === "1") setTvMode(true);
