// The call on the agent desktop: the screen pop with the customer card, the call controls, editing
// or creating the customer, click-to-dial and customer search. Uses desk, t, api... (desktop.js).
"use strict";

function callPath(suffix = "") {
  return `/api/calls/${encodeURIComponent(desk.call.call_id)}${suffix}`;
}

function otherNumber(call) {
  return call.direction === "outbound" ? call.called_number : call.caller_number;
}

// The pop ------------------------------------------------------------------------------------------

function renderCall() {
  const call = desk.call;
  $("pop").hidden = !call;
  const live = Boolean(call) && ["ringing", "answered", "held"].includes(call.status);
  $("bar-call").hidden = !live;
  $("hang-up").hidden = !live;
  renderIncoming();
  announceIncoming();
  if (!call) {
    $("hold").hidden = $("resume").hidden = $("bar-transfer").hidden = true;
    return;
  }
  $("call-status").textContent = t(`call.${call.status}`);
  $("bar-party").textContent = [t(`call.${call.status}`), otherNumber(call), call.customer && !call.customer.new ? call.customer.name : ""].filter(Boolean).join(" · ");
  renderCallTimer();
  $("hold").hidden = call.status !== "answered";
  $("resume").hidden = call.status !== "held";
  const talking = ["answered", "held"].includes(call.status);
  $("pause-recording").hidden = !talking || Boolean(call.recording_paused);
  $("resume-recording").hidden = !talking || !call.recording_paused;
  $("recording-paused").hidden = !talking || !call.recording_paused;
  $("transfer-form").hidden = !talking;
  $("bar-transfer").hidden = !talking;
  $("transfer-complete").hidden = !call.consulting;
  $("pop-caller").textContent = [otherNumber(call), call.caller_name].filter(Boolean).join(" ");
  // A queue callback: the customer asked to be called back; the wait runs from when they joined the queue.
  $("pop-queue").textContent = [queueName(desk.meta.queues, call.queue), call.callback ? t("pop.callback") : ""].filter(Boolean).join(" · ");
  $("pop-wait").textContent = call.wait_s == null ? "" : clock(call.wait_s);
  renderCard(call.customer || { new: true, phones: callerPhones(otherNumber(call)) });
  renderCampaignOfCall(call);
}

// The live call's talk time, from the answer, every second while the call is up.
function renderCallTimer() {
  const call = desk.call;
  const live = call && call.answered_at && ["answered", "held"].includes(call.status);
  $("call-timer").textContent = live ? clock((Date.now() - new Date(call.answered_at)) / 1000) : "";
}
setInterval(() => desk.call && renderCallTimer(), 1000);

function renderCard(card) {
  const blank = card.new || card.unavailable;  // unavailable: the CRM did not answer in time (retried)
  $("pop-new").hidden = !card.new;
  $("pop-unavailable").hidden = !card.unavailable;
  $("create-customer").hidden = !card.new;
  $("edit-customer").hidden = blank;
  $("pop-name").textContent = blank ? "" : card.name;
  $("pop-company").textContent = blank ? (card.phones || []).map((phone) => phone.number).join(", ") : card.company;
  $("pop-grade").textContent = blank ? "" : t("pop.grade", { grade: card.grade });
  $("pop-grade").hidden = blank;
  $("pop-key").hidden = !card.key_account;
  $("pop-risk").hidden = !card.at_risk;
  $("pop-region").textContent = blank ? "" : card.region;
  $("pop-notes").textContent = blank ? "" : card.notes;
  $("pop-phones").replaceChildren(...(blank ? [] : card.phones).map((phone) => phoneItem(phone, card.id)));
  const history = (card.recent_calls || []).map((past) => {
    return element("li", [new Date(past.started_at).toLocaleString(ui.lang), past.disposition ? t(`outcome.${past.disposition}`) : "",
      codeLabel(past.disposition_code), satisfactionText(past.satisfaction), past.summary, past.notes].filter(Boolean).join(" · "));
  });
  if (!history.length && !blank) history.push(element("li", t("pop.no_calls")));
  $("pop-history").replaceChildren(...history);
  renderCardTickets(card);
  renderCustomerExtras(card, blank);
}

// The phones of an unknown caller's card: the number of the call, whole.
function callerPhones(number) {
  return number ? [{ id: null, number, masked: false }] : [];
}

// One phone of a card: a masked one (138****8000) is dialled by its id, and revealed only on purpose
// (the reveal is in the audit log).
function phoneItem(phone, customerId) {
  const shown = element("span", phone.number, "phone-number");
  const item = element("li", "");
  item.append(shown, " ");
  const call = element("button", t("dial.call"), "dial-phone");
  call.type = "button";
  call.addEventListener("click", () => dial(phone.id ? { phone_id: phone.id } : { number: phone.number }));
  item.append(call);
  if (phone.masked && phone.id && customerId) {
    const reveal = element("button", t("dial.reveal"), "reveal-phone");
    reveal.type = "button";
    reveal.addEventListener("click", async () => {
      try {
        shown.textContent = (await api("POST", `/api/customers/${customerId}/reveal`, { phone_id: phone.id })).number;
        reveal.remove();
      } catch (error) {
        $("state-error").textContent = error.message;
      }
    });
    item.append(" ", reveal);
  }
  if (phone.do_not_call) {
    item.append(" ", element("span", t("dnc.listed"), "badge risk dnc"));
  } else if (phone.id && customerId) {  // the customer asks not to be called again (勿扰)
    const optOut = element("button", t("dnc.add"), "dnc-add");
    optOut.type = "button";
    optOut.addEventListener("click", async () => {
      try {
        await api("POST", "/api/dnc", { phone_id: phone.id, reason: "opt_out" });
        desk.call.customer = await api("GET", `/api/customers/${customerId}`);
        renderCall();
      } catch (error) {
        $("state-error").textContent = error.message;
      }
    });
    item.append(" ", optOut);
  }
  return item;
}

function onCall(status) {
  return (payload) => {
    const current = desk.call && desk.call.call_id === payload.call_id;
    if (status === "ringing" && !current) {
      desk.call = { ...payload, status };
      $("call-message").textContent = "";
      $("customer-form").hidden = true;
      resetRecord();
    } else if (current) {
      desk.call = { ...desk.call, ...payload, customer: payload.customer || desk.call.customer, status };
      if (status !== "held") desk.call.consulting = false;
    } else {
      return;
    }
    if (["answered", "ended"].includes(status) && (desk.call.answered_at || desk.call.direction === "outbound")) showRecord();
    if (status === "transferred") hideRecord();  // the call is the next agent's now
    if (status === "ended" || status === "transferred") setTimeout(loadHistory, 700);
    if (status === "ringing" && desk.call.customer && desk.call.customer.unavailable) retryCard(desk.call.call_id);
    renderCall();
  };
}

// The card of a call's customer: by the call's customer id, else by the other party's number.
async function lookUpCard(customerId, number) {
  if (!customerId && number) {
    const found = (await api("GET", `/api/customers?phone=${encodeURIComponent(number)}`)).customers;
    customerId = found.length ? found[0].id : null;
  }
  return customerId ? await api("GET", `/api/customers/${customerId}`) : { new: true, phones: callerPhones(number) };
}

// The pop came without the card (the CRM was slow): ask again, less and less often, while the call lasts.
function retryCard(callId, delay = 2000) {
  setTimeout(async () => {
    const current = () => desk.call && desk.call.call_id === callId && desk.call.customer && desk.call.customer.unavailable;
    if (!current()) return;
    try {
      const customer = await lookUpCard(desk.call.customer_id, otherNumber(desk.call));
      if (current()) { desk.call.customer = customer; renderCall(); }
    } catch (error) {
      retryCard(callId, Math.min(delay * 2, 30000));
    }
  }, delay);
}

// A page opened (or reloaded) during a call picks it up from the call log.
async function adoptCall(callId) {
  try {
    const row = await api("GET", `/api/calls/${encodeURIComponent(callId)}`);
    const number = row.direction === "outbound" ? row.called_number : row.caller_number;
    const customer = await lookUpCard(row.customer_id, number);
    const status = row.ended_at ? "ended" : row.answered_at ? "answered" : "ringing";
    desk.call = { ...row, call_id: row.linkedid, customer, status };
    if (row.answered_at) showRecord();
    renderCall();
  } catch (error) {
    $("state-error").textContent = error.message;  // not logged yet: the next push brings the call
  }
}

// Controls -----------------------------------------------------------------------------------------

async function control(suffix, body, done) {
  $("call-message").textContent = "";
  $("call-message").className = "";
  try {
    await api("POST", callPath(suffix), body);
    $("call-message").textContent = t(done);
    toast(t(done));
    return true;
  } catch (error) {
    $("call-message").textContent = error.message;
    $("call-message").className = "error";
    return false;
  }
}

function transferTarget() {
  const to = $("transfer-to").value;
  if (to === "queue") return { queue: $("transfer-queue").value };
  return { [to]: $("transfer-target").value.trim() };
}

$("hang-up").addEventListener("click", () => desk.call && control("/hangup", undefined, "call.done"));
$("hold").addEventListener("click", () => desk.call && control("/hold", undefined, "call.held"));
$("resume").addEventListener("click", () => desk.call && control("/resume", undefined, "call.answered"));
$("pause-recording").addEventListener("click", () => desk.call && control("/pause-recording", undefined, "call.recording_paused"));
$("resume-recording").addEventListener("click", () => desk.call && control("/resume-recording", undefined, "call.recording_resumed"));
$("transfer-to").addEventListener("change", () => {
  const toQueue = $("transfer-to").value === "queue";
  $("transfer-queue").hidden = !toQueue;
  $("transfer-target").hidden = toQueue;
});
$("transfer-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!desk.call) return;
  const kind = $("transfer-kind").value;
  const started = await control("/transfer", { kind, ...transferTarget() }, kind === "attended" ? "transfer.consulting" : "transfer.sent");
  if (started && kind === "attended") { desk.call.consulting = true; renderCall(); }
});
$("transfer-complete").addEventListener("click", () => desk.call && control("/transfer/complete", undefined, "transfer.sent"));

// Click-to-dial and search -------------------------------------------------------------------------

// target: { number } or { phone_id } (a customer's phone, dialled whole even when shown masked)
async function dial(target) {
  $("state-error").textContent = "";
  try {
    await api("POST", "/api/me/dial", target);  // the pop arrives as call.offered when the phone rings
  } catch (error) {
    // A number on the do-not-call list is dialled only on purpose, with the reason (audited).
    const why = error.body && error.body.dnc && !target.dnc_override ? await askText(t("dnc.override")) : null;
    if (why) return dial({ ...target, dnc_override: why });
    $("state-error").textContent = error.message;
  }
}

$("dial-form").addEventListener("submit", (event) => {
  event.preventDefault();
  dial({ number: $("dial-number").value });
});

$("search-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = $("search-text").value.trim();
  if (!text) return;
  const query = /^[\d\s+()-]+$/.test(text) ? `phone=${encodeURIComponent(text)}` : `q=${encodeURIComponent(text)}`;
  try {
    const found = (await api("GET", `/api/customers?${query}`)).customers;
    const items = found.map((customer) => {
      const item = element("li", [customer.name, customer.company, t("pop.grade", { grade: customer.grade })].filter(Boolean).join(" · ") + " ");
      item.append(...customer.phones.map((phone) => phoneItem(phone, customer.id)));
      return item;
    });
    $("search-results").replaceChildren(...(items.length ? items : [element("li", t("search.none"))]));
  } catch (error) {
    $("search-results").replaceChildren(element("li", error.message, "error"));
  }
});

// Editing and creating the customer ----------------------------------------------------------------

function openCustomerForm() {
  const card = (desk.call && desk.call.customer) || { new: true, phones: [] };
  const form = $("customer-form");
  // A masked number goes back as shown: the server keeps the stored one.
  const phones = card.new && !card.phones.length && desk.call ? callerPhones(otherNumber(desk.call)) : card.phones;
  form.elements.name.value = card.new ? "" : card.name;
  form.elements.phones.value = (phones || []).map((phone) => phone.number).filter(Boolean).join(", ");
  form.elements.company.value = card.company || "";
  form.elements.grade.value = card.grade || "C";
  form.elements.region.value = card.region || "";
  form.elements.key_account.checked = Boolean(card.key_account);
  form.elements.at_risk.checked = Boolean(card.at_risk);
  form.elements.notes.value = card.notes || "";
  fillRegistration(form, card);
  form.elements.reason.value = "";
  $("customer-message").textContent = "";
  form.elements.allow_duplicate.checked = false;
  $("customer-duplicate").hidden = true;
  form.hidden = false;
}

$("edit-customer").addEventListener("click", openCustomerForm);
$("create-customer").addEventListener("click", openCustomerForm);
$("customer-cancel").addEventListener("click", () => { $("customer-form").hidden = true; });
$("customer-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target.elements;
  const card = desk.call.customer || { new: true };
  const fields = {
    name: form.name.value,
    phones: form.phones.value.split(/[,，;；]/).map((p) => p.trim()).filter(Boolean),
    company: form.company.value,
    grade: form.grade.value,
    region: form.region.value,
    key_account: form.key_account.checked,
    at_risk: form.at_risk.checked,
    notes: form.notes.value,
    ...readRegistration(form),
  };
  const risk = readRisk(form, card);
  if (risk) fields.risk = risk;
  // Handbook §1.4: an agent proposes a new grade or risk flag, a leader or supervisor approves it.
  const proposal = {};
  if (!card.new && desk.me.role === "agent") {
    if (fields.grade !== card.grade) proposal.grade = fields.grade;
    if (fields.at_risk !== Boolean(card.at_risk)) proposal.at_risk = fields.at_risk;
    if (proposal.at_risk && fields.risk) proposal.risk = fields.risk;
    delete fields.grade;
    delete fields.at_risk;
    delete fields.risk;
  } else if (!card.new) {
    fields.reason = form.reason.value;
  }
  try {
    const creating = { ...fields, allow_duplicate: form.allow_duplicate.checked };
    if (Object.keys(proposal).length) {
      await api("POST", `/api/customers/${card.id}/changes`, { ...proposal, reason: form.reason.value });
    }
    const saved = card.new ? await api("POST", "/api/customers", creating) : await api("PATCH", `/api/customers/${card.id}`, fields);
    desk.call.customer = await api("GET", `/api/customers/${saved.id}`);  // the card, with its history
    if (desk.record) desk.record.customer_id = saved.id;  // the record links the call to it
    $("customer-form").hidden = true;
    $("call-message").textContent = t(Object.keys(proposal).length ? "customer.proposed" : "customer.saved");
    renderCall();
  } catch (error) {
    $("customer-message").textContent = error.message;
    $("customer-message").className = "error";
    // Another customer has this number: the agent opens that one (a leader merges them) or creates anyway.
    if (error.status === 409 && error.body.duplicates) $("customer-duplicate").hidden = false;
  }
});
