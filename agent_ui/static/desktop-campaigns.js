// Outbound campaigns on the agent desktop (GET /api/campaigns: those of the agent's queues): each with
// its type, mode and status, joined or not, and a button to join or leave (POST …/join, …/leave).
// While joined to a running progressive campaign the dialler rings the agent's phone with its next
// contact; the pop of such a call (campaign_id) shows the campaign's name and script. The list is
// read again every CAMPAIGNS_REFRESH_MS (a leader may pause or stop a campaign). In a preview
// campaign the agent asks for the next contact (POST …/next: held for them), sees who it is, their
// card and the script, then dials it (POST /api/campaign-contacts/{id}/dial) or skips it with a reason.
"use strict";

const CAMPAIGNS_REFRESH_MS = 30000;
const outbound = { rows: [], byId: new Map(), previewed: null };

function renderCampaigns() {
  const items = outbound.rows.map((campaign) => {
    const item = element("li");
    item.dataset.campaign = String(campaign.id);
    item.append(element("strong", campaign.name), " ",
      element("span", t(`call_type.${campaign.call_type}`), "badge"), " ",
      element("span", t(`campaigns.mode.${campaign.mode}`), "badge"), " ",
      element("span", t(`campaigns.status.${campaign.status}`), `badge campaign-${campaign.status}`), " ");
    if (campaign.joined) item.append(element("span", t("campaigns.joined"), "badge joined"), " ");
    if (campaign.joined && campaign.mode === "preview" && campaign.status === "running") {
      const next = element("button", t("campaigns.next"), "campaign-next");
      next.type = "button";
      next.addEventListener("click", () => previewNext(campaign));
      item.append(next, " ");
    }
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

async function previewNext(campaign) {
  $("campaign-message").textContent = "";
  try {
    const answer = await api("POST", `/api/campaigns/${campaign.id}/next`);
    showPreview(answer, campaign);
  } catch (error) {
    $("campaign-message").textContent = error.message;
  }
}

async function showPreview(answer, campaign) {
  outbound.previewed = answer.contact;
  $("campaign-preview").hidden = !answer.contact;
  if (!answer.contact) {
    $("campaign-message").textContent = t("campaigns.no_contact");
    return;
  }
  const contact = answer.contact;
  $("campaign-preview").dataset.contact = String(contact.id);
  $("preview-name").textContent = `${campaign.name}: ${contact.name || contact.number}`;
  $("preview-number").textContent = contact.number || "";
  $("preview-attempts").textContent = t("campaigns.attempts", { count: contact.attempts });
  $("preview-script").textContent = answer.script;
  $("preview-card").textContent = "";
  if (contact.customer_id) {
    const card = await api("GET", `/api/customers/${contact.customer_id}`).catch(() => null);
    if (card) $("preview-card").textContent = [card.company, t("pop.grade", { grade: card.grade }), card.region, card.notes].filter(Boolean).join(" · ");
  }
}

async function actOnPreview(action, body) {
  const contact = outbound.previewed;
  if (!contact) return;
  $("campaign-message").textContent = "";
  try {
    await api("POST", `/api/campaign-contacts/${contact.id}/${action}`, body);
    outbound.previewed = null;
    $("campaign-preview").hidden = true;  // a dial's pop arrives as call.offered when the phone rings
  } catch (error) {
    $("campaign-message").textContent = error.message;
  }
}

$("preview-dial").addEventListener("click", () => actOnPreview("dial"));
$("preview-skip").addEventListener("click", () => actOnPreview("skip", { reason: $("preview-skip-reason").value }));

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
