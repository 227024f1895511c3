// Outbound campaigns on the agent desktop (GET /api/campaigns: those of the agent's queues): each with
// its type, mode and status, joined or not, and a button to join or leave (POST …/join, …/leave).
// While joined to a running progressive campaign the dialler rings the agent's phone with its next
// contact; the pop of such a call (campaign_id) shows the campaign's name and script. The list is
// read again every CAMPAIGNS_REFRESH_MS (a leader may pause or stop a campaign).
"use strict";

const CAMPAIGNS_REFRESH_MS = 30000;
const outbound = { rows: [], byId: new Map() };

function renderCampaigns() {
  const items = outbound.rows.map((campaign) => {
    const item = element("li");
    item.dataset.campaign = String(campaign.id);
    item.append(element("strong", campaign.name), " ",
      element("span", t(`call_type.${campaign.call_type}`), "badge"), " ",
      element("span", t(`campaigns.mode.${campaign.mode}`), "badge"), " ",
      element("span", t(`campaigns.status.${campaign.status}`), `badge campaign-${campaign.status}`), " ");
    if (campaign.joined) item.append(element("span", t("campaigns.joined"), "badge joined"), " ");
    if (campaign.status !== "stopped" || campaign.joined) {
      const button = element("button", t(campaign.joined ? "campaigns.leave" : "campaigns.join"), campaign.joined ? "campaign-leave" : "campaign-join");
      button.type = "button";
      button.addEventListener("click", () => joinOrLeave(campaign));
      item.append(button);
    }
    return item;
  });
  if (!items.length) items.push(element("li", t("campaigns.none")));
  $("campaign-list").replaceChildren(...items);
}

async function loadCampaigns() {
  const answer = await api("GET", "/api/campaigns");
  outbound.rows = answer.campaigns;
  for (const campaign of answer.campaigns) outbound.byId.set(campaign.id, campaign);
  renderCampaigns();
}

async function joinOrLeave(campaign) {
  $("campaign-message").textContent = "";
  try {
    await api("POST", `/api/campaigns/${campaign.id}/${campaign.joined ? "leave" : "join"}`);
    await loadCampaigns();
  } catch (error) {
    $("campaign-message").textContent = error.message;
  }
}

// The pop's campaign block: called by renderCall (desktop-call.js) for every call shown.
async function renderCampaignOfCall(call) {
  const id = call && call.campaign_id;
  $("pop-campaign").hidden = !id;
  if (!id) return;
  if (!outbound.byId.has(id)) {
    try {
      outbound.byId.set(id, (await api("GET", `/api/campaigns/${id}`)).campaigns[0]);
    } catch (error) {
      return;  // no longer visible to this agent: the pop goes without the script
    }
  }
  const campaign = outbound.byId.get(id);
  $("pop-campaign-name").textContent = campaign.name;
  $("pop-script").textContent = campaign.script;
}

function startCampaigns() {
  loadCampaigns().catch((error) => { $("campaign-message").textContent = error.message; });
  setInterval(() => loadCampaigns().catch(() => {}), CAMPAIGNS_REFRESH_MS);
}
