// The customer card beyond the pop's basics: the registration (type, industry, tags), the 危险客户
// risk, contact people, notes (a private one is its author's alone) and the whole timeline; and the
// edit form's choices and risk fields. Every text from the CRM is inserted with textContent.
"use strict";

const CUSTOMER_CHOICES = {
  customer_type: ["existing", "target", "prospect", "partner"],
  risk_type: ["credit_deterioration", "long_arrears", "business_deterioration", "litigation", "malicious_complaints", "other"],
  risk_level: ["high", "medium", "low"],
  risk_action: ["stop_credit", "lower_limit", "collect", "legal", "watch"],
};

function fillCustomerChoices() {
  for (const select of document.querySelectorAll("select[data-options]")) {
    const chosen = select.value;
    const kind = select.dataset.options;
    select.replaceChildren(...CUSTOMER_CHOICES[kind].map((code) => new Option(t(`${kind}.${code}`), code)));
    if (chosen) select.value = chosen;
  }
}

function riskText(risk) {
  const parts = [t("pop.at_risk")];
  if (risk.type) parts.push(t(`risk_type.${risk.type}`), t(`risk_level.${risk.level}`), t(`risk_action.${risk.action}`));
  if (risk.since) parts.push(t("risk.since", { date: new Date(risk.since).toLocaleDateString(ui.lang) }));
  return parts.join(" · ");
}

function profileParts(card) {
  const parts = [];
  const about = [t(`customer_type.${card.customer_type}`), card.industry].filter(Boolean).join(" · ");
  if (about) parts.push(element("span", about));
  for (const tag of card.tags || []) parts.push(" ", element("span", tag, "badge tag"));
  return parts;
}

function contactItem(contact) {
  const text = [contact.name, contact.title, contact.decision_role, contact.phone].filter(Boolean).join(" · ");
  return element("li", text);
}

function noteItem(note) {
  const item = element("li", "");
  item.append(element("span", note.text));
  const about = [note.author, new Date(note.at).toLocaleString(ui.lang)].filter(Boolean).join(", ");
  item.append(" ", element("small", about));
  if (note.private) item.append(" ", element("span", t("notes.private"), "badge"));
  item.dataset.private = String(note.private);
  return item;
}

function renderCustomerExtras(card, blank) {
  $("pop-extras").hidden = blank;
  $("show-timeline").hidden = blank;
  $("pop-timeline").hidden = true;
  $("pop-risk-detail").hidden = blank || !card.risk;
  $("pop-risk-detail").textContent = card.risk ? riskText(card.risk) : "";
  $("pop-profile").replaceChildren(...(blank ? [] : profileParts(card)));
  $("pop-contacts").replaceChildren(...(blank ? [] : (card.contacts || []).map(contactItem)));
  $("pop-note-entries").replaceChildren(...(blank ? [] : (card.note_entries || []).map(noteItem)));
}

function timelineItem(item) {
  const when = new Date(item.at).toLocaleString(ui.lang);
  const what = t(`timeline.${item.kind}`);
  let detail = item.text || "";
  if (item.kind === "grade_change") detail = `${item.before} → ${item.after}: ${item.text}`;
  if (item.kind === "call") {
    detail = [item.disposition ? t(`outcome.${item.disposition}`) : "", item.agent, satisfactionText(item.satisfaction), item.text].filter(Boolean).join(" · ");
  }
  if (item.number && item.kind !== "call") detail = `${item.number} ${detail}`;
  const line = element("li", [when, what, detail].filter(Boolean).join(" · "));
  line.dataset.kind = item.kind;
  return line;
}

async function showTimeline() {
  const card = desk.call && desk.call.customer;
  if (!card || !card.id) return;
  try {
    const { items } = await api("GET", `/api/customers/${card.id}/timeline`);
    $("pop-timeline").replaceChildren(...items.map(timelineItem));
    $("pop-timeline").hidden = false;
  } catch (error) {
    $("call-message").textContent = error.message;
  }
}

async function addNote(event) {
  event.preventDefault();
  const card = desk.call && desk.call.customer;
  const form = event.target.elements;
  if (!card || !card.id) return;
  try {
    await api("POST", `/api/customers/${card.id}/notes`, { text: form.text.value, private: form.private.checked });
    desk.call.customer = await api("GET", `/api/customers/${card.id}`);
    event.target.reset();
    renderCall();
  } catch (error) {
    $("call-message").textContent = error.message;
  }
}

// The edit form's registration and risk fields: filled from the card, read back for the save.
function fillRegistration(form, card) {
  form.elements.customer_type.value = card.customer_type || "existing";
  form.elements.industry.value = card.industry || "";
  form.elements.address.value = card.address || "";
  form.elements.email.value = card.email || "";
  form.elements.tags.value = (card.tags || []).join(", ");
  const risk = card.risk || {};
  form.elements.risk_type.value = risk.type || "other";
  form.elements.risk_level.value = risk.level || "medium";
  form.elements.risk_action.value = risk.action || "watch";
  form.elements.amount_owed.value = "";
  $("risk-fields").hidden = !card.at_risk;
}

function readRegistration(form) {
  return {
    customer_type: form.customer_type.value,
    industry: form.industry.value,
    address: form.address.value,
    email: form.email.value,
    tags: form.tags.value.split(/[,，;；]/).map((tag) => tag.trim()).filter(Boolean),
  };
}

// The risk to send with at_risk: when the customer becomes 危险客户, or a leader reassesses it.
function readRisk(form, card) {
  if (!form.at_risk.checked) return null;
  const risk = { type: form.risk_type.value, level: form.risk_level.value, action: form.risk_action.value };
  if (form.amount_owed.value) risk.amount_owed = Number(form.amount_owed.value);
  const was = card.risk || {};
  const same = card.at_risk && was.type === risk.type && was.level === risk.level && was.action === risk.action && !risk.amount_owed;
  return same ? null : risk;
}

$("show-timeline").addEventListener("click", showTimeline);
$("note-form").addEventListener("submit", addNote);
$("customer-form").elements.at_risk.addEventListener("change", (event) => { $("risk-fields").hidden = !event.target.checked; });
