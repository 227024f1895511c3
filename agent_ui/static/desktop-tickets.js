// Tickets on the agent desktop: complaints (客户投诉) and after-sales requests (售后服务). The list
// (GET /api/tickets, paged), one ticket with its history and the form of its next step, built from
// the ticket types in /api/meta (config/tickets.py), and what the record form adds to the ticket it
// opens. The server decides who may see, move or close which ticket; the page only shows it.
"use strict";

const TICKET_PAGE = 20;
const tickets = { offset: 0, total: 0, shown: null };

function ticketType(code) {
  return (desk.meta.ticket_types || []).find((kind) => kind.code === code);
}

function typeLabel(code) {
  const kind = ticketType(code);
  return kind ? label(kind) : code;
}

function stepLabel(kind, code) {
  const step = kind && kind.steps.find((s) => s.code === code);
  return step ? label(step) : code;
}

function categoryLabel(kind, code) {
  const category = kind && kind.categories.find((c) => c.code === code);
  return category ? label(category) : code;
}

function deadlineBadge(ticket) {
  const badge = element("span", t(`tickets.deadline_${ticket.deadline}`), `badge deadline-${ticket.deadline}`);
  if (["on_time", "due_soon", "overdue"].includes(ticket.deadline)) {
    badge.title = new Date(ticket.due_at).toLocaleString(ui.lang);
  }
  return badge;
}

// The customer card's open tickets ----------------------------------------------------------------

function renderCardTickets(card) {
  const items = (card.open_tickets || []).map((ticket) => {
    const item = element("li", "", "card-ticket");
    const open = element("button", ticket.number, "link");
    open.type = "button";
    open.addEventListener("click", () => showTicket(ticket.id));
    const kind = ticketType(ticket.type);
    item.append(open, " ", typeLabel(ticket.type), " · ", stepLabel(kind, ticket.status), " ", deadlineBadge(ticket));
    if (ticket.major) item.append(" ", element("span", t("tickets.major"), "badge risk"));
    if (ticket.title) item.append(" ", ticket.title);
    return item;
  });
  if (!items.length && !(card.new || card.unavailable)) items.push(element("li", t("tickets.none_open")));
  $("pop-tickets").replaceChildren(...items);
}

// The record form's ticket options ------------------------------------------------------------------

// The ticket types a record form with this disposition code and handling would open.
function typesOpenedBy(code, handling) {
  return (desk.meta.ticket_types || []).filter((kind) => kind.dispositions.includes(code) || (handling && kind.handlings.includes(handling)));
}

function renderRecordTicket() {
  const form = $("record-form").elements;
  const inbound = !desk.record || desk.record.direction === "inbound";
  const kinds = typesOpenedBy(form.disposition_code.value, inbound ? form.handling.value : "");
  const already = new Set(((desk.record && desk.record.tickets) || []).map((ticket) => ticket.type));
  const opening = kinds.filter((kind) => !already.has(kind.code));
  $("record-ticket").hidden = !opening.length;
  if (!opening.length) return;
  $("record-ticket-legend").textContent = t("tickets.record_opens", { types: opening.map(label).join(", ") });
  const category = $("record-ticket-category");
  const keep = category.value;
  category.replaceChildren(...opening[0].categories.map((c) => new Option(label(c), c.code)));
  if (keep && opening[0].categories.some((c) => c.code === keep)) category.value = keep;
  const severity = $("record-ticket-severity");
  const keepSeverity = severity.value || "ordinary";
  severity.replaceChildren(...["severe", "ordinary", "minor"].map((s) => new Option(t(`tickets.severity_${s}`), s)));
  severity.value = keepSeverity;
  $("record-ticket-major-label").hidden = !opening.some((kind) => kind.escalates);
}

// What the record form sends for its ticket, or undefined when it opens none.
function recordTicketDetails() {
  if ($("record-ticket").hidden) return undefined;
  const form = $("record-form").elements;
  return {
    category: form.ticket_category.value || null,
    severity: form.ticket_severity.value || null,
    major: form.ticket_major.checked,
    confidential: form.ticket_confidential.checked,
  };
}

function renderRecordTickets() {
  const linked = (desk.record && desk.record.tickets) || [];
  $("record-tickets").replaceChildren(...linked.map((ticket) => {
    const item = element("li", t("tickets.linked", { type: typeLabel(ticket.type) }) + " ");
    const open = element("button", ticket.number, "link");
    open.type = "button";
    open.addEventListener("click", () => showTicket(ticket.id));
    item.append(open);
    return item;
  }));
  renderRecordTicket();
}

$("disposition-code").addEventListener("change", renderRecordTicket);
$("record-form").elements.handling.addEventListener("change", renderRecordTicket);

// The list ------------------------------------------------------------------------------------------

function fillTicketTypes() {
  const select = $("ticket-type");
  const keep = select.value;
  select.replaceChildren(new Option(t("tickets.every_type"), ""), ...(desk.meta.ticket_types || []).map((kind) => new Option(label(kind), kind.code)));
  select.value = keep;
}

async function loadTickets() {
  const query = new URLSearchParams({ state: $("ticket-state").value, offset: String(tickets.offset), limit: String(TICKET_PAGE) });
  if ($("ticket-type").value) query.set("type", $("ticket-type").value);
  if ($("ticket-mine").checked) query.set("mine", "true");
  if ($("ticket-number").value.trim()) query.set("number", $("ticket-number").value.trim());
  $("ticket-list-message").textContent = "";
  try {
    const found = await api("GET", `/api/tickets?${query}`);
    tickets.total = found.total;
    renderTicketRows(found.tickets);
  } catch (error) {
    $("ticket-list-message").textContent = error.message;
  }
}

function renderTicketRows(rows) {
  $("ticket-rows").replaceChildren(...rows.map((ticket) => {
    const kind = ticketType(ticket.type);
    const row = document.createElement("tr");
    row.dataset.ticket = String(ticket.id);
    const open = element("button", ticket.number, "link");
    open.type = "button";
    open.addEventListener("click", () => showTicket(ticket.id));
    const number = element("td");
    number.append(open);
    const due = element("td");
    due.append(deadlineBadge(ticket));
    const customer = ticket.complainant_hidden ? t("tickets.hidden") : ticket.customer_name || "";
    row.append(number, element("td", typeLabel(ticket.type)), element("td", categoryLabel(kind, ticket.category)),
      element("td", ticket.title), element("td", customer), element("td", stepLabel(kind, ticket.status)),
      element("td", ticket.owner || ""), due);
    return row;
  }));
  if (!rows.length) {
    const row = document.createElement("tr");
    const cell = element("td", t("tickets.none"));
    cell.colSpan = 8;
    row.append(cell);
    $("ticket-rows").replaceChildren(row);
  }
  const last = Math.min(tickets.offset + TICKET_PAGE, tickets.total);
  $("ticket-page").textContent = t("tickets.page", { first: tickets.total ? tickets.offset + 1 : 0, last, total: tickets.total });
  $("ticket-prev").disabled = tickets.offset === 0;
  $("ticket-next").disabled = last >= tickets.total;
}

$("ticket-filter").addEventListener("submit", (event) => { event.preventDefault(); tickets.offset = 0; loadTickets(); });
$("ticket-prev").addEventListener("click", () => { tickets.offset = Math.max(0, tickets.offset - TICKET_PAGE); loadTickets(); });
$("ticket-next").addEventListener("click", () => { tickets.offset += TICKET_PAGE; loadTickets(); });

// One ticket ----------------------------------------------------------------------------------------

async function showTicket(id) {
  $("ticket-message").textContent = "";
  $("ticket-message").className = "";
  try {
    tickets.shown = await api("GET", `/api/tickets/${id}`);
  } catch (error) {
    $("ticket-list-message").textContent = error.message;
    return;
  }
  renderTicket();
  $("ticket-detail").scrollIntoView({ block: "nearest" });
}

function fieldValue(field, value) {
  if (field.kind === "choice") {
    const choice = field.choices.find((c) => c.code === value);
    return choice ? label(choice) : String(value);
  }
  return String(value);
}

function renderTicket() {
  const ticket = tickets.shown;
  $("ticket-detail").hidden = !ticket;
  if (!ticket) return;
  const kind = ticketType(ticket.type);
  $("ticket-detail").dataset.ticket = String(ticket.id);
  $("ticket-heading").textContent = `${ticket.number} ${ticket.title}`;
  const badges = [element("span", typeLabel(ticket.type), "badge"), element("span", categoryLabel(kind, ticket.category), "badge"),
    element("span", t(`tickets.severity_${ticket.severity}`), "badge"), element("span", stepLabel(kind, ticket.status), "badge ticket-step"),
    deadlineBadge(ticket)];
  if (ticket.major) badges.push(element("span", t("tickets.major"), "badge risk"));
  if (ticket.confidential) badges.push(element("span", t("tickets.confidential"), "badge key"));
  $("ticket-badges").replaceChildren(...badges.flatMap((badge) => [badge, " "]));
  const facts = [
    [t("tickets.customer"), ticket.complainant_hidden ? t("tickets.hidden") : [ticket.customer_name, ticket.contact, ticket.contact_phone].filter(Boolean).join(" · ")],
    [t("tickets.owner"), ticket.owner || ""],
    [t("tickets.opened"), new Date(ticket.opened_at).toLocaleString(ui.lang)],
    [t("tickets.due"), new Date(ticket.due_at).toLocaleString(ui.lang)],
    ...(kind ? kind.fields : []).filter((f) => ticket.fields[f.code] != null).map((f) => [label(f), fieldValue(f, ticket.fields[f.code])]),
  ];
  $("ticket-fields").replaceChildren(...facts.flatMap(([name, value]) => [element("dt", name), element("dd", value)]));
  $("ticket-description").textContent = ticket.description;
  $("ticket-events").replaceChildren(...ticket.events.map((event) => ticketEventItem(kind, event)));
  renderStepChoices(kind, ticket);
  $("ticket-reopen-form").hidden = !(ticket.closed_at && ticket.may_handle);
}

function ticketEventItem(kind, event) {
  const step = kind && kind.steps.find((s) => s.code === event.step);
  const parts = [new Date(event.at).toLocaleString(ui.lang), event.actor || "", t(`tickets.event_${event.kind}`, { step: stepLabel(kind, event.step) })];
  for (const [code, value] of Object.entries(event.values || {})) {
    const field = step && step.fields.find((f) => f.code === code);
    parts.push(field ? `${label(field)}: ${fieldValue(field, value)}` : `${code}: ${value}`);
  }
  if (event.note) parts.push(event.note);
  return element("li", parts.filter(Boolean).join(" · "));
}

// The steps the ticket may go to: forward (what the server lists) and, to rework, back to an earlier one.
function renderStepChoices(kind, ticket) {
  const form = $("ticket-step-form");
  form.hidden = !ticket.may_handle || Boolean(ticket.closed_at) || !kind;
  if (form.hidden) return;
  const codes = kind.steps.map((s) => s.code);
  const here = codes.indexOf(ticket.status);
  const last = codes[codes.length - 1];
  const forward = ticket.next_steps.filter((code) => code !== last || ticket.may_close);
  const back = codes.slice(1, here);
  const select = $("ticket-next-step");
  select.replaceChildren(
    ...forward.map((code) => new Option(stepLabel(kind, code), code)),
    ...back.map((code) => {
      const option = new Option(t("tickets.back_to", { step: stepLabel(kind, code) }), code);
      option.dataset.back = "true";
      return option;
    }),
  );
  form.elements.note.value = "";
  renderStepFields();
}

function stepInput(field) {
  if (field.kind === "choice") {
    const select = document.createElement("select");
    select.append(new Option(t("record.choose"), ""), ...field.choices.map((c) => new Option(label(c), c.code)));
    return select;
  }
  if (field.kind === "long_text") {
    const area = document.createElement("textarea");
    area.rows = 3;
    area.maxLength = 5000;
    return area;
  }
  const input = document.createElement("input");
  input.type = field.kind === "date" ? "date" : field.kind === "number" ? "number" : "text";
  if (field.kind === "number") input.step = "any";
  if (field.kind === "text") input.maxLength = 500;
  return input;
}

function renderStepFields() {
  const kind = ticketType(tickets.shown.type);
  const option = $("ticket-next-step").selectedOptions[0];
  const step = option && !option.dataset.back ? kind.steps.find((s) => s.code === option.value) : null;
  $("ticket-step-fields").replaceChildren(...(step ? step.fields : []).map((field) => {
    const input = stepInput(field);
    input.dataset.field = field.code;
    input.dataset.kind = field.kind;
    input.required = field.required;
    const row = element("label");
    row.append(element("span", label(field) + (field.required ? " *" : "")), " ", input);
    return row;
  }));
}

$("ticket-next-step").addEventListener("change", renderStepFields);

async function ticketAction(path, body, method = "POST") {
  $("ticket-message").className = "";
  try {
    tickets.shown = await api(method, path, body);
    $("ticket-message").textContent = t("tickets.saved");
    renderTicket();
    loadTickets();
  } catch (error) {
    $("ticket-message").textContent = error.message;
    $("ticket-message").className = "error";
  }
}

$("ticket-step-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const values = {};
  for (const input of $("ticket-step-fields").querySelectorAll("[data-field]")) {
    if (input.value === "") continue;
    values[input.dataset.field] = input.dataset.kind === "number" ? Number(input.value) : input.value;
  }
  const body = { step: $("ticket-next-step").value, values, note: event.target.elements.note.value };
  ticketAction(`/api/tickets/${tickets.shown.id}/steps`, body);
});

$("ticket-reopen-form").addEventListener("submit", (event) => {
  event.preventDefault();
  ticketAction(`/api/tickets/${tickets.shown.id}/reopen`, { note: event.target.elements.note.value });
});
