// Follow-up tasks on the agent desktop (GET /api/tasks?mine=true): the agent's own and the untaken
// ones of their queues (dropped callers), soonest due first, each with a countdown to its due time,
// a one-click call (POST /api/me/dial with the task's id: a masked number is dialled whole by the
// server), take, and done with an outcome. The list is read again every TASKS_REFRESH_MS, after a
// record form is saved, and after each action; the countdowns tick every second in the page.
"use strict";

const TASKS_REFRESH_MS = 20000;
const followUps = { rows: [], finishing: null, timers: [] };

function taskKindLabel(code) {
  const kind = (desk.meta.task_kinds || []).find((k) => k.code === code);
  return kind ? label(kind) : code;
}

function clock(seconds) {
  const whole = Math.floor(Math.abs(seconds));
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const rest = String(whole % 60).padStart(2, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${rest}` : `${minutes}:${rest}`;
}

function renderCountdowns() {
  const now = Date.now();
  const nearMs = ((desk.meta.task_near_due_min ?? 5) * 60000);
  let overdue = 0;
  for (const span of document.querySelectorAll("#task-list .task-countdown")) {
    const left = (Date.parse(span.dataset.due) - now) / 1000;
    span.textContent = left > 0 ? t("tasks.due_in", { time: clock(left) }) : t("tasks.overdue_by", { time: clock(left) });
    span.className = `task-countdown ${left <= 0 ? "overdue" : left * 1000 <= nearMs ? "due_soon" : "on_time"}`;
    if (left <= 0) overdue += 1;
  }
  $("tasks-summary").textContent = t("tasks.summary", { open: followUps.rows.length, overdue });
}

function taskButton(text, className, handler) {
  const button = element("button", text, className);
  button.type = "button";
  button.addEventListener("click", handler);
  return button;
}

function renderTasks() {
  const items = followUps.rows.map((task) => {
    const item = element("li");
    item.dataset.task = String(task.id);
    item.append(element("span", taskKindLabel(task.kind), "badge"), " ");
    const words = [task.title, task.customer_name, task.phone].filter(Boolean).join(" · ");
    if (words) item.append(element("span", words, "task-words"));
    if (task.drops > 1) item.append(" ", element("span", t("tasks.drops", { count: task.drops }), "badge risk"));
    if (task.assignee_id === null && task.queue) item.append(" ", element("span", t("tasks.queue", { queue: task.queue }), "badge"));
    const countdown = element("span", "", "task-countdown");
    countdown.dataset.due = task.due_at;
    item.append(countdown, " ");
    if (task.dialable) item.append(taskButton(t("tasks.call"), "task-dial", () => callTask(task)));
    if (task.assignee_id === null) item.append(taskButton(t("tasks.take"), "task-take", () => takeTask(task)));
    item.append(taskButton(t("tasks.done"), "task-done", () => startFinishing(task)));
    if (task.note && task.note !== task.title) item.append(element("p", task.note, "task-note"));
    return item;
  });
  if (!items.length) items.push(element("li", t("tasks.none")));
  $("task-list").replaceChildren(...items);
  renderCountdowns();
}

async function loadTasks() {
  try {
    followUps.rows = (await api("GET", "/api/tasks?mine=true&limit=100")).tasks;
    renderTasks();
  } catch (error) {
    $("task-message").textContent = error.message;
  }
}

function taskSaid(text, failed = false) {
  $("task-message").textContent = text;
  $("task-message").className = failed ? "error" : "";
}

async function callTask(task) {
  try {
    await api("POST", "/api/me/dial", { task_id: task.id });  // the pop arrives as call.offered when the phone rings
    taskSaid(t("tasks.dialling"));
  } catch (error) {
    taskSaid(error.message, true);
  }
}

async function takeTask(task) {
  try {
    await api("PUT", `/api/tasks/${task.id}/assignee`, { user_id: desk.me.id });
    taskSaid(t("tasks.taken"));
    loadTasks();
  } catch (error) {
    taskSaid(error.message, true);
  }
}

function startFinishing(task) {
  followUps.finishing = task;
  const form = $("task-done-form");
  form.elements.outcome.replaceChildren(new Option(t("record.choose"), ""), ...(desk.meta.task_outcomes || []).map((o) => new Option(label(o), o.code)));
  form.elements.note.value = "";
  form.elements.again_at.value = "";
  $("task-done-heading").textContent = t("tasks.done_heading", { task: [taskKindLabel(task.kind), task.title].filter(Boolean).join(" · ") });
  form.hidden = false;
  form.elements.outcome.focus();
}

$("task-done-cancel").addEventListener("click", () => { $("task-done-form").hidden = true; followUps.finishing = null; });

$("task-done-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target.elements;
  const body = { outcome: form.outcome.value, note: form.note.value };
  if (form.again_at.value) body.again_at = new Date(form.again_at.value).toISOString();
  try {
    await api("POST", `/api/tasks/${followUps.finishing.id}/done`, body);
    $("task-done-form").hidden = true;
    followUps.finishing = null;
    taskSaid(t("tasks.saved"));
    loadTasks();
  } catch (error) {
    taskSaid(error.message, true);
  }
});

function startTasks() {
  loadTasks();
  followUps.timers.forEach(clearInterval);
  followUps.timers = [setInterval(renderCountdowns, 1000), setInterval(loadTasks, TASKS_REFRESH_MS)];
}
