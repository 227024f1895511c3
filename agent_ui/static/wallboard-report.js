// The wallboard's reports: a table and a Chart.js chart of /api/reports/{queues,agents,tickets,customer-regions,
// at-risk-customers}, and the link to the same table as CSV. Queues and agents go by interval; tickets by
// category; the customer reports show the customer base as it is now.
"use strict";

const report = { data: null, kind: "queues", chart: null, asked: 0 };

const REPORT_COLUMNS = {
  queues: [
    ["queue", "board.queue"], ["offered", "board.offered"], ["answered", "board.answered"], ["abandoned", "board.abandoned"],
    ["short_abandoned", "report.short_abandoned"], ["service_level", "board.service_level"], ["asa_s", "board.asa"],
    ["aht_s", "board.aht"], ["avg_wrapup_s", "report.avg_wrapup"], ["transferred", "report.transferred"],
    ["csat", "board.csat"], ["csat_avg", "report.csat_avg"], ["csat_responses", "report.csat_responses"],
  ],
  agents: [
    ["agent", "board.agent"], ["handled", "board.handled"], ["talk_s", "report.talk"], ["aht_s", "board.aht"],
    ["avg_wrapup_s", "report.avg_wrapup"], ["hold_s", "report.hold"], ["login_s", "report.login"], ["paused_s", "state.paused"],
    ["occupancy", "report.occupancy"], ["transferred", "report.transferred"], ["outbound_attempts", "report.outbound_attempts"],
    ["outbound_connects", "report.outbound_connects"], ["csat", "board.csat"], ["csat_avg", "report.csat_avg"],
    ["csat_responses", "report.csat_responses"],
  ],
  tickets: [
    ["type", "report.ticket_type"], ["category", "report.ticket_category"], ["opened", "report.tickets_opened"],
    ["open", "report.tickets_open"], ["closed", "report.tickets_closed"], ["overdue", "report.tickets_overdue"],
    ["replied_on_time", "report.replied_on_time"], ["replied_late", "report.replied_late"],
    ["avg_hours_to_close", "report.avg_hours_to_close"], ["median_hours_to_close", "report.median_hours_to_close"],
  ],
  "customer-regions": [
    ["region", "report.region"], ["customers", "report.customers"], ["grade_A", "A"], ["grade_B", "B"], ["grade_C", "C"], ["grade_D", "D"],
    ["key_accounts", "report.key_accounts"], ["at_risk", "report.at_risk"], ["annual_sales", "report.annual_sales"],
    ["sales_share", "report.sales_share"],
  ],
  "at-risk-customers": [
    ["name", "report.customer"], ["grade", "report.grade"], ["region", "report.region"], ["risk_type", "report.risk_type"],
    ["risk_level", "report.risk_level"], ["risk_action", "report.risk_action"], ["since", "report.since"], ["found_by", "report.found_by"],
    ["approved_by", "report.approved_by"], ["amount_owed", "report.amount_owed"], ["owner", "report.owner"],
  ],
};
const BY_INTERVAL = new Set(["queues", "agents"]);
const AS_IT_IS_NOW = new Set(["customer-regions", "at-risk-customers"]);  // no range: the customer base today

function reportQuery(format) {
  const query = new URLSearchParams({ format });
  if (BY_INTERVAL.has($("report-kind").value)) query.set("interval", $("report-interval").value);
  if (!AS_IT_IS_NOW.has($("report-kind").value)) {
    if ($("report-from").value) query.set("from", $("report-from").value);
    if ($("report-to").value) query.set("to", $("report-to").value);
  }
  return `/api/reports/${$("report-kind").value}?${query}`;
}

// A ticket type's or category's name from /api/meta's ticket types.
function ticketName(row, key) {
  const kind = (board.meta.ticket_types || []).find((k) => k.code === row.type);
  if (!kind) return row[key];
  if (key === "type") return label(kind);
  const category = kind.categories.find((c) => c.code === row.category);
  return category ? label(category) : row.category;
}

function reportValue(key, value, row) {
  if (value == null) return "–";
  if (key === "type" || key === "category") return ticketName(row, key);
  if (["service_level", "occupancy", "sales_share", "csat"].includes(key)) return `${(value * 100).toFixed(1)}%`;
  if (key === "risk_type" || key === "risk_level" || key === "risk_action") return t(`${key}.${value}`);
  if (key === "since") return new Date(value).toLocaleDateString(ui.lang);
  return String(value);
}

function renderReport() {
  if (!report.data) return;
  const columns = REPORT_COLUMNS[report.kind];
  const byInterval = BY_INTERVAL.has(report.kind);
  const head = document.createElement("tr");
  if (byInterval) head.append(element("th", t("report.interval_start")));
  head.append(...columns.map(([, key]) => element("th", t(key))));
  $("report-head").replaceChildren(head);
  $("report-rows").replaceChildren(...report.data.rows.map((row) => {
    const line = document.createElement("tr");
    if (byInterval) line.append(element("td", new Date(row.interval_start).toLocaleString(ui.lang)));
    line.append(...columns.map(([key]) => element("td", reportValue(key, row[key], row))));
    return line;
  }));
  renderChart();
}

function renderChart() {
  // Queues: offered, answered and abandoned per interval (all queues together); agents: calls handled;
  // tickets: opened, closed and overdue per category.
  const rows = report.data.rows;
  if (report.kind === "customer-regions") {
    renderBars(rows.map((row) => row.region || "–"), ["A", "B", "C", "D"].map((grade) => ({ label: grade, data: rows.map((row) => row[`grade_${grade}`]) })));
    return;
  }
  if (report.kind === "at-risk-customers") {
    const levels = ["high", "medium", "low"];
    renderBars(levels.map((level) => t(`risk_level.${level}`)), [{ label: t("report.at_risk"), data: levels.map((level) => rows.filter((r) => r.risk_level === level).length) }]);
    return;
  }
  if (report.kind === "tickets") {
    renderBars(rows.map((row) => ticketName(row, "category")), [["opened", "report.tickets_opened"], ["closed", "report.tickets_closed"],
      ["overdue", "report.tickets_overdue"]].map(([field, name]) => ({ label: t(name), data: rows.map((row) => row[field]) })));
    return;
  }
  const labels = [...new Set(rows.map((r) => r.interval_start))].sort();
  const sum = (field) => labels.map((at) => rows.filter((r) => r.interval_start === at).reduce((n, r) => n + (r[field] || 0), 0));
  const fields = report.kind === "queues" ? ["offered", "answered", "abandoned"] : ["handled"];
  const names = { offered: "board.offered", answered: "board.answered", abandoned: "board.abandoned", handled: "board.handled" };
  renderBars(labels.map((at) => new Date(at).toLocaleString(ui.lang)), fields.map((field) => ({ label: t(names[field]), data: sum(field) })));
}

function renderBars(labels, datasets) {
  if (report.chart) report.chart.destroy();
  report.chart = new Chart($("report-chart"), {
    type: "bar",
    data: { labels, datasets },
    options: { animation: false, maintainAspectRatio: false },
  });
}

async function loadReport() {
  $("report-error").textContent = "";
  const asked = ++report.asked;  // only the latest request's answer is shown
  const kind = $("report-kind").value;
  try {
    const data = await api("GET", reportQuery("json"));
    if (asked !== report.asked) return;
    Object.assign(report, { kind, data });
    $("report-csv").href = reportQuery("csv");
    renderReport();
  } catch (error) {
    if (asked === report.asked) $("report-error").textContent = error.message;
  }
}

function startReports() {
  $("report-form").addEventListener("submit", (event) => { event.preventDefault(); loadReport(); });
  $("report-kind").addEventListener("change", () => {
    const kind = $("report-kind").value;
    $("report-interval").hidden = !BY_INTERVAL.has(kind);
    for (const id of ["report-from", "report-to"]) $(id).parentElement.hidden = AS_IT_IS_NOW.has(kind);
  });
  loadReport();
}
