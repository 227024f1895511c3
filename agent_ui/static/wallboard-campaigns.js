// Outbound campaigns on the wallboard: each campaign's figures (GET /api/reports/campaigns: records,
// dialled, connected, 接通率 against the handbook's 60%, contacts still to call, attempts per contact)
// and the leader's buttons to start, pause, resume or stop it (POST /api/campaigns/{id}/status; a
// stopped campaign is over). Read again every CAMPAIGN_REFRESH_MS and after each change.
"use strict";

const CAMPAIGN_REFRESH_MS = 10000;
const NEXT_STATUSES = { draft: ["running", "stopped"], running: ["paused", "stopped"], paused: ["running", "stopped"], stopped: [] };

function statusButton(row, status) {
  const word = status === "running" ? (row.status === "draft" ? "campaigns.start" : "campaigns.resume") : `campaigns.${status === "paused" ? "pause" : "stop"}`;
  const button = element("button", t(word), `campaign-to-${status}`);
  button.type = "button";
  button.addEventListener("click", async () => {
    $("campaign-error").textContent = "";
    try {
      await api("POST", `/api/campaigns/${row.campaign_id}/status`, { status });
      await loadCampaignFigures();
    } catch (error) {
      $("campaign-error").textContent = error.message;
    }
  });
  return button;
}

function renderCampaignFigures(rows) {
  $("campaign-rows").replaceChildren(...rows.map((row) => {
    const line = element("tr");
    line.dataset.campaign = String(row.campaign_id);
    const rate = element("td", row.connect_rate === null ? "–" : `${(row.connect_rate * 100).toFixed(1)}%`);
    if (row.meets_standard === false) {
      rate.className = "below-target";
      rate.title = t("campaigns.below_standard");
    }
    const actions = element("td");
    actions.append(...NEXT_STATUSES[row.status].map((status) => statusButton(row, status)));
    line.append(element("td", row.name), element("td", t(`campaigns.status.${row.status}`), `campaign-${row.status}`),
      element("td", String(row.records)), element("td", String(row.dialled)), element("td", String(row.connected)), rate,
      element("td", String(row.pending)), element("td", row.attempts_per_contact === null ? "–" : String(row.attempts_per_contact)), actions);
    return line;
  }));
}

async function loadCampaignFigures() {
  renderCampaignFigures((await api("GET", "/api/reports/campaigns")).rows);
}

function startCampaignFigures() {
  const refresh = () => loadCampaignFigures().catch((error) => { $("campaign-error").textContent = error.message; });
  refresh();
  setInterval(refresh, CAMPAIGN_REFRESH_MS);
}
