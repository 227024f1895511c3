// What the desktop and the wallboard share: the language catalogue, the API call, the login.
// Every text shown comes from /static/i18n/*.json or from data, and data is only ever inserted
// with textContent: caller names and notes are untrusted text.
"use strict";

const ui = {
  token: sessionStorage.getItem("cc_token"),
  lang: localStorage.getItem("cc_lang") || (navigator.language.toLowerCase().startsWith("zh") ? "zh-CN" : "en"),
  words: {},
};

const $ = (id) => document.getElementById(id);

function t(key, values = {}) {
  const text = ui.words[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

function label(item) {
  return ui.lang === "zh-CN" ? item.zh : item.en;
}

// A queue's (or any data item's) name in the page's language: its Chinese name in zh-CN, else its
// English one, else its id.
function displayName(item, id = "") {
  if (!item) return id;
  return (ui.lang === "zh-CN" && item.display_name_zh) || item.display_name || id;
}

// A queue named by its id, as people read it, from /api/meta's queues.
function queueName(queues, name) {
  return displayName(queues.find((q) => q.name === name), name || "");
}

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

async function loadCatalogue(lang) {
  ui.lang = lang;
  localStorage.setItem("cc_lang", lang);
  ui.words = await (await fetch(`/static/i18n/${lang}.json`)).json();
  document.documentElement.lang = lang;
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll("[data-i18n-placeholder]")) node.placeholder = t(node.dataset.i18nPlaceholder);
  for (const node of document.querySelectorAll("[data-i18n-aria-label]")) node.setAttribute("aria-label", t(node.dataset.i18nAriaLabel));
  for (const node of document.querySelectorAll("[data-i18n-title]")) node.title = t(node.dataset.i18nTitle);
}

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: { "Authorization": `Bearer ${ui.token}`, "Content-Type": "application/json", "Accept-Language": ui.lang },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json();
  if (!response.ok) throw Object.assign(new Error(data.error || response.statusText), { status: response.status, body: data });
  return data;
}

// The login form's submit: keep the token for this tab, then ``start`` the page.
async function logIn(event, start) {
  event.preventDefault();
  const form = new FormData(event.target);
  const response = await fetch("/api/login", {
    method: "POST",
    headers: { "Content-Type": "application/json", "Accept-Language": ui.lang },
    body: JSON.stringify({ username: form.get("username"), password: form.get("password") }),
  });
  const data = await response.json();
  if (!response.ok) {  // said in the page's language; another refusal keeps the server's words
    const known = { 400: "login.incomplete", 401: "login.wrong", 429: "login.too_many" }[response.status];
    $("login-error").textContent = known ? t(known) : data.error;
    return;
  }
  ui.token = data.token;
  sessionStorage.setItem("cc_token", ui.token);
  $("sign-out").hidden = false;
  await start();
}

// Signing out of the web app: the token is revoked and its sockets closed (the desktop's "log out of
// queues" is the agent's telephony state, apart from this).
async function signOut() {
  await api("POST", "/api/logout").catch(() => null);  // already expired: signed out all the same
  sessionStorage.removeItem("cc_token");
  location.reload();
}

// Seconds as a clock: m:ss, or h:mm:ss from an hour.
function clock(total) {
  const seconds = Math.max(0, Math.floor(total));
  const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = String(seconds % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

// A short message that comes and goes without a click (a control done, a setting saved), read out
// by screen readers; an error that needs the user stays where it happened, beside its form.
function toast(text, kind = "") {
  let shelf = $("toasts");
  if (!shelf) {
    shelf = element("div", undefined, "toasts");
    shelf.id = "toasts";
    shelf.setAttribute("role", "status");
    shelf.setAttribute("aria-live", "polite");
    document.body.append(shelf);
  }
  const note = element("div", text, `toast ${kind}`.trim());
  shelf.append(note);
  setTimeout(() => note.remove(), 4000);
}

// The page's own dialog for a reason in words (a dispute, a returned evaluation, a do-not-call
// override): themed, in the page's language, keyboard-ready (Esc cancels). The text, trimmed, or null
// when the user cancels or gives none.
function askText(question) {
  let ask = $("ask-dialog");
  if (!ask) {
    ask = element("dialog", undefined, "ask");
    ask.id = "ask-dialog";
    const form = element("form");
    form.method = "dialog";
    const label = element("label");
    const text = element("textarea");
    text.id = "ask-text";
    text.rows = 3;
    text.maxLength = 2000;
    label.append(element("span", "", "ask-question"), text);
    const buttons = element("p", undefined, "controls");
    const cancel = element("button", "", "ask-cancel");
    Object.assign(cancel, { type: "submit", value: "cancel", formNoValidate: true });
    const ok = element("button", "", "ask-ok primary");
    Object.assign(ok, { type: "submit", value: "ok" });
    buttons.append(cancel, ok);
    form.append(label, buttons);
    ask.append(form);
    document.body.append(ask);
  }
  ask.querySelector(".ask-question").textContent = question;
  ask.querySelector(".ask-cancel").textContent = t("dialog.cancel");
  ask.querySelector(".ask-ok").textContent = t("dialog.ok");
  $("ask-text").value = "";
  ask.returnValue = "";
  ask.showModal();
  return new Promise((resolve) => {
    ask.addEventListener("close", () => resolve(ask.returnValue === "ok" && $("ask-text").value.trim() ? $("ask-text").value.trim() : null), { once: true });
  });
}

// The caller's satisfaction survey key on a past call ("Satisfaction 4/5"), or nothing if not asked or not answered.
function satisfactionText(score) {
  return score == null ? "" : `${t("history.satisfaction")} ${score}/5`;
}

// The spans an agent paused a call's recording (a card number being taken), as the call log shows them.
function pausedText(spans) {
  if (!spans || !spans.length) return "";
  const seconds = spans.reduce((sum, span) => sum + (span.end ? (new Date(span.end) - new Date(span.start)) / 1000 : 0), 0);
  return t("calls.recording_paused", { spans: spans.length, seconds: Math.round(seconds) });
}

document.addEventListener("DOMContentLoaded", () => {
  $("sign-out").hidden = !ui.token;
  $("sign-out").addEventListener("click", signOut);
});
