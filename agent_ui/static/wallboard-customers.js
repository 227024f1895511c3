// Customer files on the wallboard: import a CSV (checked first, then all rows or none) and export
// one, for the roles the server says may (GET /api/me's ``may``; the server checks again).
"use strict";

async function sendCustomerFile(dryRun) {
  const file = $("import-file").files[0];
  if (!file) return;
  $("import-error").textContent = "";
  const response = await fetch(`/api/customer-import?dry_run=${dryRun}`, {
    method: "POST",
    headers: { "Authorization": `Bearer ${ui.token}`, "Content-Type": "text/csv", "Accept-Language": ui.lang },
    body: file,
  });
  const report = await response.json();
  if (response.status !== 200 && response.status !== 422) {
    $("import-error").textContent = report.error;
    return;
  }
  showImportReport(report);
}

function showImportReport(report) {
  const counts = t("files.checked", { rows: report.rows, valid: report.valid, rejected: report.rejected_rows });
  let verdict = t("files.ready", report);
  if (report.rejected_rows) verdict = t("files.nothing");
  else if (!report.dry_run) verdict = t("files.imported", report);
  $("import-result").textContent = `${counts}. ${verdict}`;
  $("import-run").disabled = !report.dry_run || report.rejected_rows > 0;
  $("import-rejected").hidden = report.rejected.length === 0;
  $("import-rows").replaceChildren(...report.rejected.map((r) => {
    const row = element("tr");
    row.append(element("td", String(r.line)), element("td", r.column), element("td", r.reason));
    return row;
  }));
}

function startCustomerFiles(may) {
  if (!may.import_customers && !may.export_customers) return;
  $("customer-files").hidden = false;
  $("import-form").hidden = !may.import_customers;
  $("export-form").hidden = !may.export_customers;
  $("import-file").addEventListener("change", () => { $("import-run").disabled = true; $("import-result").textContent = ""; });
  $("import-check").addEventListener("click", () => sendCustomerFile(true));
  $("import-run").addEventListener("click", () => sendCustomerFile(false));
  $("export-grade").addEventListener("change", (event) => {
    $("export-link").href = "/api/customer-export" + (event.target.value ? `?grade=${event.target.value}` : "");
  });
}
