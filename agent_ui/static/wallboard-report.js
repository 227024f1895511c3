// The wallboard's reports: a table and a Chart.js chart of /api/reports/{queues,agents}, and the
// link to the same table as CSV.
"use strict";

const report = { data: null, kind: "queues", chart: null, asked: 0 };

const REPORT_COLUMNS = {
  queues: [
    ["queue", "board.queue"], ["offered", "board.offered"], ["answered", "board.answered"], ["abandoned", "board.abandoned"],
    ["short_abandoned", "report.short_abandoned"], ["service_level", "board.service_level"], ["asa_s", "board.asa"],
    ["aht_s", "board.aht"], ["avg_wrapup_s", "report.avg_wrapup"], ["transferred", "report.transferred"],
  ],
  agents: [
    ["agent", "board.agent"], ["handled", "board.handled"], ["talk_s", "report.talk"], ["aht_s", "board.aht"],
    ["avg_wrapup_s", "report.avg_wrapup"], ["hold_s", "report.hold"], ["login_s", "report.login"], ["paused_s", "state.paused"],
    ["occupancy", "report.occupancy"], ["transferred", "report.transferred"], ["outbound_attempts", "report.outbound_attempts"],
    ["outbound_connects", "report.outbound_connects"],
  ],
};

function reportQuery(format) {
  const query = new URLSearchParams({ interval: $("report-interval").value, format });
  if ($("report-from").value) query.set("from", $("report-from").value);
  if ($("report-to").value) query.set("to", $("report-to").value);
  return `/api/reports/${$("report-kind").value}?${query}`;
}

function reportValue(key, value) {
  if (value == null) return "–";
  if (key === "service_level" || key === "occupancy") return `${(value * 100).toFixed(1)}%`;
  return String(value);
}

function renderReport() {
  if (!report.data) return;
  const columns = REPORT_COLUMNS[report.kind];
  const head = document.createElement("tr");
  head.append(element("th", t("report.interval_start")), ...columns.map(([, key]) => element("th", t(key))));
  $("report-head").replaceChildren(head);
  $("report-rows").replaceChildren(...report.data.rows.map((row) => {
    const line = document.createElement("tr");
    line.append(
      element("td", new Date(row.interval_start).toLocaleString(ui.lang)),
      ...columns.map(([key]) => element("td", reportValue(key, row[key]))),
    );
    return line;
  }));
  renderChart();
}

function renderChart() {
  // Queues: offered, answered and abandoned per interval (all queues together); agents: calls handled.
  const rows = report.data.rows;
  const labels = [...new Set(rows.map((r) => r.interval_start))].sort();
  const sum = (field) => labels.map((at) => rows.filter((r) => r.interval_start === at).reduce((n, r) => n + (r[field] || 0), 0));
  const fields = report.kind === "queues" ? ["offered", "answered", "abandoned"] : ["handled"];
  const names = { offered: "board.offered", answered: "board.answered", abandoned: "board.abandoned", handled: "board.handled" };
  if (report.chart) report.chart.destroy();
  report.chart = new Chart($("report-chart"), {
    type: "bar",
    data: {
      labels: labels.map((at) => new Date(at).toLocaleString(ui.lang)),
      datasets: fields.map((field) => ({ label: t(names[field]), data: sum(field) })),
    },
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
  loadReport();
}
