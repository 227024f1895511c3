// A call ringing for the agent (issue 19): a banner over the page with who is calling (the card's
// name, grade, key account or at-risk), from which queue and how long they waited; a chime when the
// agent's phone is a desk phone (the browser phone rings by itself); and, when the tab is hidden, a
// browser notification, once the agent has allowed them (the bar's button asks: a browser asks only
// on a click). Uses desk, t, $ (desktop.js, common.js).
"use strict";

let chimes = null;

function chime() {
  try {
    chimes ??= new AudioContext();
    for (const [at, hertz] of [[0, 660], [0.25, 880]]) {
      const oscillator = chimes.createOscillator();
      const gain = chimes.createGain();
      gain.gain.value = 0.15;
      oscillator.frequency.value = hertz;
      oscillator.connect(gain).connect(chimes.destination);
      oscillator.start(chimes.currentTime + at);
      oscillator.stop(chimes.currentTime + at + 0.2);
    }
  } catch (error) {
    // no audio output: the banner and the notification still say it
  }
}

function incomingText(call) {
  const card = call.customer || {};
  const who = [card.name, otherNumber(call)].filter(Boolean).join(" · ");
  const campaign = call.campaign_id != null && outbound.byId.get(call.campaign_id);
  const where = [queueName(desk.meta.queues, call.queue), campaign ? campaign.name : "", call.wait_s == null ? "" : t("incoming.waited", { time: clock(call.wait_s) })];
  return { who, where: where.filter(Boolean).join(" · ") };
}

// Inbound calls and a campaign's calls ring the agent unasked; a click-to-dial is the agent's own.
function announces(call) {
  return call && call.status === "ringing" && (call.direction !== "outbound" || call.campaign_id != null);
}

function renderIncoming() {
  const call = desk.call;
  const show = announces(call);
  $("incoming").hidden = !show;
  if (!show) return;
  const card = call.customer || {};
  const text = incomingText(call);
  $("incoming-who").textContent = text.who;
  $("incoming-where").textContent = text.where;
  const known = !card.new && !card.unavailable && card.grade;
  $("incoming-grade").hidden = !known;
  $("incoming-grade").textContent = known ? t("pop.grade", { grade: card.grade }) : "";
  $("incoming-key").hidden = !card.key_account;
  $("incoming-risk").hidden = !card.at_risk;
}

// Once per ringing call: the sound and, in a hidden tab, the notification.
function announceIncoming() {
  const call = desk.call;
  if (!announces(call) || desk.announced === call.call_id) return;
  desk.announced = call.call_id;
  if (!desk.phone) chime();
  if (document.hidden && "Notification" in window && Notification.permission === "granted") {
    const text = incomingText(call);
    // The browser phone's own notification has the same tag: one call, one notification.
    const note = new Notification(t("incoming.title"), { body: [text.who, text.where].filter(Boolean).join("\n"), tag: "cc-phone" });
    note.onclick = () => { window.focus(); note.close(); };
  }
}

function renderNotificationButton() {
  $("enable-notifications").hidden = !("Notification" in window) || Notification.permission !== "default";
}

$("enable-notifications").addEventListener("click", async () => {
  const answer = await Notification.requestPermission().catch(() => "denied");
  renderNotificationButton();
  toast(t(answer === "granted" ? "incoming.notifications_on" : "incoming.notifications_off"));
});
renderNotificationButton();
