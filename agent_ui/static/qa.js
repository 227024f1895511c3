// The QA page. Inspectors: the review queue, the two-channel player (wavesurfer.js: agent above,
// customer below), auto-QA findings and transcript with their timestamps, the record form, and the
// scorecard form pre-filled by the auto-QA. Agents: their evaluations, to acknowledge or dispute.
"use strict";

const qa = { me: null, meta: null, scorecard: null, call: null, auto: null, customer: null, player: null, queue: [], mine: [], disputes: [], report: null, calibration: null, calibrations: [], spread: null };

function clockText(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

function itemLabel(item) {
  return ui.lang === "zh-CN" ? item.zh : item.en;
}

// The review queue -----------------------------------------------------------------------------------

// The queue as the inspector narrows and orders it: by reason, by agent; weightiest reasons first
// (the server's order), the lowest auto score first, or the newest call first.
function reasonKind(reason) {
  return reason.split(":")[0];
}

function renderQueueFilters() {
  const keep = { reason: $("queue-reason").value, agent: $("queue-agent").value };
  const reasons = [...new Set(qa.queue.flatMap((call) => call.reasons.map(reasonKind)))].sort();
  const agents = [...new Set(qa.queue.map((call) => call.agent).filter(Boolean))].sort();
  $("queue-reason").replaceChildren(new Option(t("qa.filter.all_reasons"), ""), ...reasons.map((r) => new Option(t(`qa.reason.${r}`), r)));
  $("queue-agent").replaceChildren(new Option(t("qa.filter.all_agents"), ""), ...agents.map((a) => new Option(a, a)));
  if (reasons.includes(keep.reason)) $("queue-reason").value = keep.reason;
  if (agents.includes(keep.agent)) $("queue-agent").value = keep.agent;
}

function shownQueue() {
  const reason = $("queue-reason").value, agent = $("queue-agent").value, order = $("queue-sort").value;
  const shown = qa.queue.filter((call) => (!reason || call.reasons.some((r) => reasonKind(r) === reason)) && (!agent || call.agent === agent));
  if (order === "auto_score") shown.sort((a, b) => (a.auto_score ?? 101) - (b.auto_score ?? 101));
  if (order === "newest") shown.sort((a, b) => b.call_id - a.call_id);
  return shown;
}

function renderQueue() {
  renderQueueFilters();
  const shown = shownQueue();
  $("queue-count").textContent = t("qa.filter.shown", { shown: shown.length, total: qa.queue.length });
  if (!shown.length) {
    const empty = element("td", t(qa.queue.length ? "qa.filter.none_match" : "qa.queue_empty"));
    empty.colSpan = 5;
    const row = element("tr");
    row.append(empty);
    $("queue-rows").replaceChildren(row);
    return;
  }
  $("queue-rows").replaceChildren(...shown.map((call) => {
    const row = document.createElement("tr");
    row.dataset.call = call.call_id;
    const open = element("button", `#${call.call_id}`);
    open.type = "button";
    open.addEventListener("click", () => review(call.call_id));
    const first = element("td");
    first.append(open);
    row.append(first, element("td", call.agent || ""), element("td", queueName(qa.meta ? qa.meta.queues : [], call.queue)),
      element("td", call.reasons.map((r) => r === "low_satisfaction" ? `${t("qa.reason.low_satisfaction")} (${call.satisfaction}/5)` : t(`qa.reason.${r.split(":")[0]}`)).join(", ")),
      element("td", call.auto_score == null ? "–" : String(call.auto_score)));
    return row;
  }));
}

async function pickCall(event) {
  event.preventDefault();
  try {
    await api("POST", "/api/qa/queue", { call_id: Number($("pick-call").value) });
    $("pick-result").textContent = "";
    await loadQueue();
  } catch (error) {
    $("pick-result").textContent = error.message;
  }
}

// Reviewing one call ----------------------------------------------------------------------------------

async function review(callId, calibrationId = null) {
  qa.calibration = calibrationId;
  qa.call = await api("GET", `/api/calls/${callId}`);
  qa.auto = await api("GET", `/api/calls/${callId}/qa`).catch(() => null);
  qa.record = await api("GET", `/api/calls/${callId}/record`).catch(() => null);
  qa.customer = qa.call.customer_id ? await api("GET", `/api/customers/${qa.call.customer_id}`).catch(() => null) : null;
  $("review").hidden = false;
  $("review-call").textContent = [`#${callId} ${qa.call.caller_number || ""}`, calibrationId ? `${t("qa.calibration")} ${calibrationId}` : "",
    satisfactionText(qa.call.satisfaction), pausedText(qa.call.recording_paused)].filter(Boolean).join(" · ");
  $("grade-result").textContent = "";
  $("case-form").hidden = true;
  $("case-result").textContent = "";
  if (qa.player) qa.player.destroy();
  qa.player = WaveSurfer.create({
    container: "#waveform",
    url: `/api/calls/${callId}/recording/stereo`,
    splitChannels: [{ waveColor: "#2c6fbb", progressColor: "#163d6b" }, { waveColor: "#3c9a5f", progressColor: "#1f5233" }],
    height: 60,
    fetchParams: { headers: { Authorization: `Bearer ${ui.token}`, "Accept-Language": ui.lang } },
  });
  qa.player.on("timeupdate", (at) => { $("position").textContent = clockText(at); });
  qa.regions = qa.player.registerPlugin(WaveSurfer.Regions.create());
  qa.player.on("decode", markFindings);
  renderReview();
  $("review").scrollIntoView({ block: "start" });  // the review opens where the user looks, not at the bottom of the page
}

// Where the answer is in the recording: the auto-QA counts its times from it.
function answerOffset() {
  return qa.player.getDuration() - (qa.auto?.metrics?.duration_s ?? qa.player.getDuration());
}

function seek(seconds) {
  if (!qa.player) return;
  qa.player.setTime(answerOffset() + seconds);
}

// The findings and mood signals as marks on the waveform, where they were heard: a failed rule red,
// a passed one green, a signal amber; each labelled, and a click plays from there.
const MARK_COLOURS = { failed: "rgb(200 40 40 / .35)", passed: "rgb(40 150 80 / .3)", signal: "rgb(230 150 20 / .35)" };

function markFindings() {
  if (!qa.regions) return;
  qa.regions.clearRegions();
  const offset = answerOffset();
  const mark = (start, end, kind, text) => {
    const content = element("span", text, `mark ${kind}`);
    qa.regions.addRegion({ start: offset + start, end: offset + Math.max(end, start + 0.3), color: MARK_COLOURS[kind], content, drag: false, resize: false });
  };
  for (const finding of qa.auto?.findings || []) {
    for (const e of finding.evidence.slice(0, 3)) mark(e.start, e.end ?? e.start, finding.passed ? "passed" : "failed", t(`qa.rule.${finding.rule}`));
  }
  for (const signal of qa.auto?.signals || []) {
    for (const e of signal.evidence) mark(e.start, e.end, "signal", t(`qa.signal.${signal.kind}`));
  }
}

function renderReview() {
  if (!qa.call) return;
  const findings = qa.auto?.findings || [];
  const unchecked = (qa.auto?.not_assessed || []).map((n) => element("li", `? ${t(`qa.rule.${n.rule}`)} — ${t("qa.not_assessed")}: ${n.why}`, "not-assessed"));
  $("findings").replaceChildren(...findings.map((f) => {
    const at = f.evidence[0]?.start;
    const item = element("li", `${f.passed ? "✓" : "✗"} ${t(`qa.rule.${f.rule}`)}${at == null ? "" : ` @ ${clockText(at)}`} — ${f.detail}`, f.passed ? "passed" : "failed");
    if (at != null) item.addEventListener("click", () => seek(at));
    return item;
  }), ...unchecked);
  // Mood signals: where to listen, never a score (qa/sentiment.py).
  const signals = qa.auto?.signals || [];
  $("signals").replaceChildren(...(signals.length ? signals.flatMap((s) => s.evidence.map((e) => {
    const what = [t(`qa.signal.${s.kind}`), t(`qa.side.${s.side}`), e.phrase, e.db_above == null ? "" : `+${e.db_above} dB`].filter(Boolean).join(" · ");
    const item = element("li", `${clockText(e.start)}–${clockText(e.end)} ${what}`, "signal");
    item.addEventListener("click", () => seek(e.start));
    return item;
  })) : [element("li", t("qa.no_signals"))]));
  const covers = qa.auto?.auto_score_covers;
  $("auto-coverage").textContent = covers == null || qa.auto?.auto_score == null ? ""
    : t("qa.auto_covers", { score: qa.auto.auto_score, share: Math.round(covers * 100) });
  const transcript = qa.auto?.transcript;
  $("transcript").replaceChildren(...(transcript ? transcript.map((u) => {
    const line = element("li", `${clockText(u.start)} ${t(`qa.side.${u.side}`)}: ${u.text}`);
    line.addEventListener("click", () => seek(u.start));
    return line;
  }) : [element("li", t("qa.no_transcript"))]));
  const record = qa.record || {};
  $("record").replaceChildren(...[["qa.code", qa.call.disposition_code], ["qa.summary", record.summary], ["qa.notes", qa.call.notes]]
    .flatMap(([key, value]) => [element("dt", t(key)), element("dd", value || "–")]));
  const customer = qa.customer || {};
  $("customer").replaceChildren(...[["qa.customer_name", customer.name], ["qa.customer_grade", customer.grade], ["qa.company", customer.company]]
    .flatMap(([key, value]) => [element("dt", t(key)), element("dd", value || "–")]));
  renderGradeForm();
  if (qa.player && qa.player.getDuration()) markFindings();  // their labels in the page's language
}

function renderGradeForm() {
  const prefilled = qa.auto?.prefilled || {};
  // Items whose auto-QA rule could not run (no transcript): blank and required, never passed by default.
  const unjudged = new Set((qa.auto?.not_assessed || []).map((n) => n.item));
  $("grade-items").replaceChildren(...qa.scorecard.sections.map((section) => {
    const box = element("fieldset");
    box.append(element("legend", itemLabel(section)));
    for (const item of section.items) {
      const line = element("div", undefined, "grade-item");
      line.dataset.item = item.code;
      const auto = prefilled[item.code];
      const input = document.createElement("input");
      if (item.fatal) {
        input.type = "checkbox";
        input.checked = Boolean(auto?.failed);
        input.title = t("qa.fatal_failed");
      } else {
        Object.assign(input, { type: "number", min: 0, max: item.max_points, step: 0.5 });
        input.value = auto ? auto.points : item.max_points;
        if (!auto && unjudged.has(item.code)) Object.assign(input, { value: "", required: true, placeholder: "?" });
      }
      input.name = item.code;
      input.addEventListener("input", renderTotal);
      const name = element("span", `${itemLabel(item)} (${item.fatal ? t("qa.fatal") : item.max_points})`);
      if (auto) name.append(element("span", ` · ${t("qa.auto")}`, "auto"));
      else if (unjudged.has(item.code)) name.append(element("span", ` · ${t("qa.not_assessed")}`, "auto not-assessed"));
      const comment = document.createElement("input");
      comment.name = `${item.code}#comment`;
      comment.placeholder = t("qa.comment");
      line.append(name, input, comment);
      box.append(line);
    }
    return box;
  }));
  renderTotal();
}

function grades() {
  const items = {};
  for (const line of document.querySelectorAll(".grade-item")) {
    const [input, comment] = line.querySelectorAll("input");
    items[line.dataset.item] = input.type === "checkbox"
      ? { failed: input.checked, comment: comment.value }
      : { points: input.value === "" ? null : Number(input.value), comment: comment.value };
  }
  return items;
}

function renderTotal() {
  const items = Object.values(grades());
  const open = items.filter((i) => i.points === null).length;  // still to judge: no total yet
  const total = items.some((i) => i.failed) ? 0 : items.reduce((n, i) => n + (i.points || 0), 0);
  $("grade-total").textContent = open ? t("qa.total_open", { count: open }) : String(total);
}

async function submitGrades(event) {
  event.preventDefault();
  const form = new FormData(event.target);
  const comments = {};
  for (const key of ["strengths", "problems", "advice", "training"]) if (form.get(key)) comments[key] = form.get(key);
  try {
    const saved = await api("POST", "/api/qa/evaluations", {
      call_id: qa.call.id, items: grades(), comments, method: form.get("method"), calibration_id: qa.calibration ?? undefined,
    });
    $("grade-result").textContent = t("qa.saved", { total: saved.total });
    qa.saved = saved.id;
    $("case-form").hidden = saved.calibration_id !== null;  // a calibration grade is an exercise, not a case
    await loadQueue();
  } catch (error) {
    $("grade-result").textContent = error.message;
  }
}

// Disputes to resolve, and the QA reports -----------------------------------------------------------

function renderDisputes() {
  $("dispute-rows").replaceChildren(...qa.disputes.map((e) => {
    const row = document.createElement("tr");
    row.dataset.evaluation = e.id;
    const said = [...e.events].reverse().find((event) => event.kind === "disputed");
    const comment = document.createElement("input");
    comment.placeholder = t("qa.resolution");
    const uphold = element("button", t("qa.resolve"));
    uphold.type = "button";
    uphold.addEventListener("click", async () => {
      try {
        await api("POST", `/api/qa/evaluations/${e.id}/resolve`, { comment: comment.value });
        await loadDisputes();
      } catch (error) {
        comment.setCustomValidity(error.message);
        comment.reportValidity();
      }
    });
    const actions = element("td");
    // The grader never judges the appeal against their own grading: another inspector or a supervisor does.
    if (e.inspector_id === qa.me.id) actions.append(element("span", t("qa.not_your_dispute"), "hint"));
    else actions.append(comment, uphold);
    row.append(element("td", `#${e.call_id}`), element("td", String(e.agent_id ?? "")), element("td", String(e.total)),
      element("td", said ? said.comment : ""), actions);
    return row;
  }));
}

async function loadDisputes() {
  const all = (await api("GET", "/api/qa/evaluations")).evaluations.filter((e) => e.status === "disputed");
  qa.disputes = await Promise.all(all.map((e) => api("GET", `/api/qa/evaluations/${e.id}`)));
  renderDisputes();
}

function renderReport() {
  if (!qa.report) return;
  const rows = qa.report.rows;
  const columns = rows.length ? Object.keys(rows[0]).filter((k) => !["en", "zh"].includes(k)) : [];
  const head = document.createElement("tr");
  head.append(...columns.map((c) => element("th", t(`qa.col.${c}`))));
  $("qa-report-head").replaceChildren(head);
  $("qa-report-rows").replaceChildren(...rows.map((row) => {
    const line = document.createElement("tr");
    line.append(...columns.map((c) => element("td", c === "item" ? `${row.item} ${ui.lang === "zh-CN" ? row.zh : row.en}` : String(row[c] ?? "–"))));
    return line;
  }));
}

async function loadReport(event) {
  if (event) event.preventDefault();
  const by = $("qa-report-by").value;
  qa.report = await api("GET", `/api/qa/reports?by=${by}`);
  $("qa-report-csv").href = `/api/qa/reports?by=${by}&format=csv`;
  renderReport();
}

// Calibration: several inspectors grade one call blind; the spread shows how far apart they are -----

function button(key, onClick) {
  const node = element("button", t(key));
  node.type = "button";
  node.addEventListener("click", onClick);
  return node;
}

function renderCalibrations() {
  $("calibration-rows").replaceChildren(...qa.calibrations.map((c) => {
    const row = document.createElement("tr");
    row.dataset.calibration = c.id;
    const actions = element("td");
    actions.append(button("qa.grade", () => review(c.call_id, c.id)), button("qa.spread", () => showSpread(c.id)));
    row.append(element("td", String(c.id)), element("td", `#${c.call_id}`), actions);
    return row;
  }));
  $("spread").hidden = !qa.spread;
  if (!qa.spread) return;
  $("spread-rows").replaceChildren(...qa.spread.items.map((item) => {
    const row = document.createElement("tr");
    row.dataset.item = item.item;
    const points = Object.entries(item.by_inspector).map(([who, value]) => `${who}: ${value}`).join(", ");
    row.append(element("td", item.item), element("td", points), element("td", String(item.range ?? "–")), element("td", String(item.stdev ?? "–")));
    return row;
  }));
}

async function loadCalibrations() {
  qa.calibrations = (await api("GET", "/api/qa/calibrations")).calibrations;
  renderCalibrations();
}

async function showSpread(id) {
  try {
    qa.spread = await api("GET", `/api/qa/calibrations/${id}`);
    $("calibration-result").textContent = "";
  } catch (error) {
    qa.spread = null;
    $("calibration-result").textContent = error.message;  // blind until you have graded it
  }
  renderCalibrations();
}

async function createCalibration(event) {
  event.preventDefault();
  const inspectors = $("calibration-inspectors").value.split(/[,，\s]+/).filter(Boolean);
  try {
    await api("POST", "/api/qa/calibrations", { call_id: Number($("calibration-call").value), inspectors });
    await loadCalibrations();
  } catch (error) {
    $("calibration-result").textContent = error.message;
  }
}

// 组长/主管复核: the evaluations drawn for a leader's or supervisor's review -------------------------------

async function loadReviews() {
  qa.reviews = (await api("GET", "/api/qa/reviews")).evaluations;
  renderReviews();
}

function renderReviews() {
  $("review-rows").replaceChildren(...(qa.reviews || []).map((e) => {
    const row = document.createElement("tr");
    row.dataset.evaluation = e.id;
    const actions = element("td");
    for (const verdict of ["agreed", "returned"]) {
      const button = element("button", t(`qa.review.${verdict}`));
      button.type = "button";
      button.dataset.verdict = verdict;
      button.addEventListener("click", () => reviewVerdict(e.id, verdict));
      actions.append(button);
    }
    const open = element("button", t("qa.open"));
    open.type = "button";
    open.addEventListener("click", () => review(e.call_id));
    actions.append(open);
    row.append(element("td", `#${e.call_id}`), element("td", String(e.agent_id ?? "")), element("td", String(e.total)),
      element("td", t(`qa.method.${e.method}`)), element("td", e.comments.problems || ""), actions);
    return row;
  }));
}

async function reviewVerdict(id, verdict) {
  const comment = verdict === "returned" ? await askText(t("qa.review.why")) : "";
  if (verdict === "returned" && !comment) return;
  try {
    await api("POST", `/api/qa/evaluations/${id}/review`, { verdict, comment });
    $("reviews-result").textContent = t(`qa.review.done_${verdict}`);
    await loadReviews();
  } catch (error) {
    $("reviews-result").textContent = error.message;
  }
}

// The case library (典型案例) ---------------------------------------------------------------------------

async function markCase() {
  try {
    await api("PUT", `/api/qa/evaluations/${qa.saved}/case`, { kind: $("case-kind").value, note: $("case-note").value });
    $("case-result").textContent = t("qa.case_marked");
    await loadCases();
  } catch (error) {
    $("case-result").textContent = error.message;
  }
}

async function loadCases() {
  const kind = $("case-filter").value;
  qa.cases = (await api("GET", `/api/qa/cases${kind ? `?kind=${kind}` : ""}`)).cases;
  renderCases();
}

function renderCases() {
  $("case-rows").replaceChildren(...(qa.cases || []).map((c) => {
    const row = document.createElement("tr");
    row.dataset.evaluation = c.id;
    row.className = `case-${c.case}`;
    const actions = element("td");
    if (!$("inspector").hidden) {
      const open = element("button", t("qa.open"));
      open.type = "button";
      open.addEventListener("click", () => review(c.call_id));
      actions.append(open);
    } else {
      actions.append(playButton(c.call_id));  // an agent listens to the example; the inspector's player is above
    }
    row.append(element("td", `#${c.call_id}`), element("td", t(`qa.case.${c.case}`)), element("td", c.case_note), element("td", String(c.total)),
      element("td", t(`qa.method.${c.method}`)), actions);
    return row;
  }));
}

// The agent's evaluations -------------------------------------------------------------------------------

function renderMine() {
  $("mine-rows").replaceChildren(...qa.mine.map((e) => {
    const row = document.createElement("tr");
    row.dataset.evaluation = e.id;
    const actions = element("td");
    for (const step of ["acknowledge", "dispute"]) {
      const button = element("button", t(`qa.${step}`));
      button.type = "button";
      button.dataset.step = step;
      button.disabled = step === "acknowledge" ? e.status !== "submitted" : !["submitted", "acknowledged"].includes(e.status);
      button.addEventListener("click", () => answer(e.id, step));
      actions.append(button);
    }
    actions.append(playButton(e.call_id));
    row.append(element("td", `#${e.call_id}`), element("td", String(e.total)), element("td", t(`qa.status.${e.status}`)),
      element("td", e.comments.problems || ""), actions);
    return row;
  }));
}

// Listening to a call without the inspector's workspace: both sides (agent left, customer right) in one player, fetched
// with the user's token (the audio element cannot send it), as far as the user may hear the call.
function playButton(callId) {
  const button = element("button", t("qa.play"));
  button.type = "button";
  button.dataset.play = callId;
  button.addEventListener("click", () => play(callId));
  return button;
}

async function play(callId) {
  const player = $("call-player");
  try {
    const response = await fetch(`/api/calls/${callId}/recording/stereo`, { headers: { Authorization: `Bearer ${ui.token}` } });
    if (!response.ok) throw new Error((await response.json().catch(() => ({}))).error || response.statusText);
    if (player.src) URL.revokeObjectURL(player.src);
    player.src = URL.createObjectURL(await response.blob());
    player.hidden = false;
    player.dataset.call = callId;
    $("player-result").textContent = `#${callId}`;
    await player.play().catch(() => {});  // autoplay may be refused: the controls are there
  } catch (error) {
    $("player-result").textContent = error.message;
  }
}

async function answer(id, step) {
  const comment = step === "dispute" ? await askText(t("qa.dispute_why")) : "";
  if (step === "dispute" && !comment) return;
  try {
    await api("POST", `/api/qa/evaluations/${id}/${step}`, { comment });
    await loadMine();
  } catch (error) {
    $("mine-result").textContent = error.message;
  }
}

// Start ---------------------------------------------------------------------------------------------------

async function loadQueue() {
  qa.queue = (await api("GET", "/api/qa/queue")).calls;
  renderQueue();
}

async function loadMine() {
  qa.mine = (await api("GET", "/api/qa/evaluations")).evaluations;
  renderMine();
}

async function loadLanguage(lang) {
  await loadCatalogue(lang);
  renderQueue();
  renderMine();
  renderDisputes();
  renderCalibrations();
  renderReport();
  renderCases();
  renderReviews();
  if (qa.call) renderReview();
}

async function start() {
  [qa.me, qa.meta] = await Promise.all([api("GET", "/api/me"), api("GET", "/api/meta")]);
  $("login-view").hidden = true;
  $("qa-view").hidden = false;
  if (qa.me.role === "agent") {
    $("mine").hidden = false;
    await Promise.all([loadMine(), loadCases()]);
  } else {
    const cards = (await api("GET", "/api/qa/scorecards")).scorecards;
    qa.scorecard = await api("GET", `/api/qa/scorecards/${cards[0].id}`);
    $("inspector").hidden = false;
    $("disputes").hidden = !["qa_inspector", "supervisor", "admin"].includes(qa.me.role);
    $("calibration-form").hidden = $("disputes").hidden;
    $("reviews").hidden = !["team_leader", "supervisor", "admin"].includes(qa.me.role);
    await Promise.all([loadQueue(), loadReport(), loadCalibrations(), loadCases(), $("disputes").hidden ? null : loadDisputes(),
      $("reviews").hidden ? null : loadReviews()]);
  }
}

$("login-form").addEventListener("submit", (event) => logIn(event, start));
$("grade-form").addEventListener("submit", submitGrades);
$("qa-report-form").addEventListener("submit", loadReport);
$("calibration-form").addEventListener("submit", createCalibration);
$("pick-form").addEventListener("submit", pickCall);
$("case-mark").addEventListener("click", markCase);
$("case-filter").addEventListener("change", () => loadCases());
$("play").addEventListener("click", () => qa.player && qa.player.playPause());
for (const id of ["queue-reason", "queue-agent", "queue-sort"]) $(id).addEventListener("change", renderQueue);
for (const button of document.querySelectorAll("[data-lang]")) {
  button.addEventListener("click", () => loadLanguage(button.dataset.lang));
}

// Starts once every script of the page has run (start calls into the ones after this one).
document.addEventListener("DOMContentLoaded", () => {
  loadCatalogue(ui.lang).then(() => (ui.token ? start().catch(() => sessionStorage.removeItem("cc_token")) : null));
});
