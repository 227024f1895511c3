// The business record form beside the pop: 呼入业务记录表 for inbound calls, 呼出业务记录表 for
// outbound ones (GET/PUT /api/calls/{id}/record). Its disposition code is required: until it is
// saved the agent is held after wrap-up (agent.state paused, reason "disposition"). A complaint or
// repair code opens its ticket (desktop-tickets.js adds the ticket's options to the form).
"use strict";

const RECORD_FIELDS = {
  inbound: ["contact", "summary", "handling", "transferred_to", "result", "reply_needed", "reply_deadline"],
  outbound: ["contact", "campaign", "call_type", "purpose", "connect_status", "feedback", "next_contact_at"],
};
const WHEN_FIELDS = new Set(["reply_deadline", "next_contact_at"]);

function fillRecordChoices() {
  for (const select of document.querySelectorAll("#record-form select[data-choices]")) {
    const keep = select.value;
    const kind = select.dataset.choices;
    const choices = (desk.meta.record_choices || {})[kind] || [];
    select.replaceChildren(new Option(t("record.choose"), ""), ...choices.map((code) => new Option(t(`${kind}.${code}`), code)));
    select.value = keep;
  }
  const codes = $("disposition-code");
  const keep = codes.value;
  const direction = desk.record ? desk.record.direction : "inbound";
  const mine = desk.meta.disposition_codes.filter((c) => c.direction === direction || c.direction === "both");
  codes.replaceChildren(new Option(t("record.choose"), ""), ...mine.map((c) => new Option(label(c), c.code)));
  codes.value = keep;
}

function resetRecord() {
  desk.record = null;
  $("record-form").reset();
  $("record-message").textContent = "";
  renderRecordTickets();
  hideRecord();
}

function hideRecord() {
  $("record-form-area").hidden = true;
}

// Local <input type="datetime-local"> value ⇄ an ISO time with its zone.
function toLocalInput(iso) {
  if (!iso) return "";
  const when = new Date(iso);
  return new Date(when.getTime() - when.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
}

async function showRecord() {
  const callId = desk.call.call_id;
  if (!desk.record || desk.record.call_id !== callId) {
    try {
      const loaded = await api("GET", callPath("/record"));
      if (!desk.call || desk.call.call_id !== callId) return;
      desk.record = loaded;
      fillRecordForm();
    } catch (error) {
      // The call log writes the row within a moment of the call starting: try again shortly.
      setTimeout(() => desk.call && desk.call.call_id === callId && !desk.record && showRecord(), 500);
      return;
    }
  }
  guessConnectStatus();
  $("record-form-area").hidden = false;
  renderRecord();
}

// What the call itself says about an outbound attempt, unless the agent chose already.
function guessConnectStatus() {
  const select = $("record-form").elements.connect_status;
  if (desk.record.direction !== "outbound" || select.value || !desk.call) return;
  const known = desk.meta.connect_status_of[desk.call.answered_at ? "answered" : desk.call.disposition];
  if (known) select.value = known;
}

function fillRecordForm() {
  const record = desk.record;
  const form = $("record-form").elements;
  fillRecordChoices();
  form.disposition_code.value = record.disposition_code || "";
  form.notes.value = record.notes || "";
  for (const name of RECORD_FIELDS[record.direction]) {
    const input = form[name];
    if (input.type === "checkbox") input.checked = Boolean(record[name]);
    else if (WHEN_FIELDS.has(name)) input.value = toLocalInput(record[name]);
    else input.value = record[name] ?? "";
  }
  renderRecordTickets();
}

function renderRecord() {
  const record = desk.record;
  if (!record) return;
  const inbound = record.direction === "inbound";
  $("record-title").textContent = t(inbound ? "record.title_inbound" : "record.title_outbound");
  $("disposition-label").textContent = t(inbound ? "record.business_type" : "record.call_result");
  $("record-no").textContent = record.record_no;
  $("record-inbound").hidden = !inbound;
  $("record-outbound").hidden = inbound;
  // Said only while the code holds the agent back: when codes are required and the agent is in the
  // wrap-up or paused for it — not once they are available again.
  const held = desk.meta.disposition_pause && desk.agent
    && (desk.agent.state === "wrap_up" || (desk.agent.state === "paused" && desk.agent.reason === desk.meta.disposition_pause));
  $("record-required").hidden = Boolean(record.disposition_code) || !desk.call || desk.call.status !== "ended" || !held;
}

$("record-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const record = desk.record;
  if (!record) return;
  const form = event.target.elements;
  const body = { disposition_code: form.disposition_code.value, notes: form.notes.value };
  if (record.customer_id) body.customer_id = record.customer_id;
  for (const name of RECORD_FIELDS[record.direction]) {
    const input = form[name];
    if (input.type === "checkbox") body[name] = input.checked;
    else if (WHEN_FIELDS.has(name)) body[name] = input.value ? new Date(input.value).toISOString() : null;
    else if (input.tagName === "SELECT") body[name] = input.value || null;
    else body[name] = input.value;
  }
  const ticket = recordTicketDetails();
  if (ticket) body.ticket = ticket;
  if (form.do_not_call.checked) body.do_not_call = true;  // 勿扰: the call's number goes on the do-not-call list
  $("record-message").className = "";
  try {
    desk.record = await api("PUT", `/api/calls/${encodeURIComponent(record.call_id)}/record`, body);
    $("record-message").textContent = t("record.saved");
    renderRecord();
    renderRecordTickets();
    if (desk.record.tickets.length) loadTickets();
    if (desk.record.tasks && desk.record.tasks.length) loadTasks();
    setTimeout(loadHistory, 300);
  } catch (error) {
    $("record-message").textContent = error.message;
    $("record-message").className = "error";
  }
});
