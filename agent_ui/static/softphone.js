// The browser phone (issue 13): the agent's WebRTC endpoint on Asterisk, registered with SIP.js
// over a secure WebSocket. The credentials come from POST /api/me/phone, new at every start.
// Uses the page's api, $ and t (common.js). A call from the queue rings here (a ring tone, and a
// notification when the tab is hidden): answer or reject, or it answers by itself after a beep.
// In the call: mute and the DTMF keypad here; hold, transfer and hang-up are the desktop's
// server-side controls, which act on this same call in Asterisk.
// A phone that cannot take calls (microphone refused or missing, network gone, registration
// refused) says why and has the agent paused (POST /api/me/phone/fault).
import { Registerer, RegistererState, SessionState, UserAgent } from "/static/vendor/sip.js/index.js";

const phone = { ua: null, registerer: null, state: "", session: null, muted: false, autoAnswer: false, ringing: null, stopping: false, agentState: undefined };
const RECONNECT_MS = 3000;
const DIGIT = /^[0-9*#]$/;
const chosen = { mic: "cc_phone_mic", speaker: "cc_phone_speaker" };  // localStorage keys

// Sounds --------------------------------------------------------------------------------------------

let sounds = null;

function tone(seconds, hertz) {
  sounds ??= new AudioContext();
  const oscillator = sounds.createOscillator();
  const gain = sounds.createGain();
  gain.gain.value = 0.2;
  oscillator.frequency.value = hertz;
  oscillator.connect(gain).connect(sounds.destination);
  oscillator.start();
  oscillator.stop(sounds.currentTime + seconds);
}

function startRinging(invitation) {
  tone(1, 450);  // one second of 450 Hz every four: the ring cadence of Chinese networks
  phone.ringing = setInterval(() => tone(1, 450), 4000);
  if (document.hidden && "Notification" in window && Notification.permission === "granted") {
    const caller = invitation.remoteIdentity;
    new Notification(t("phone.incoming"), { body: caller.displayName || caller.uri.user || "", tag: "cc-phone" });
  }
}

function stopRinging() {
  clearInterval(phone.ringing);
  phone.ringing = null;
}

// Devices -------------------------------------------------------------------------------------------

function audioConstraints() {
  const mic = $("phone-mic").value;
  return { constraints: { audio: mic ? { deviceId: { exact: mic } } : true, video: false } };
}

async function listDevices() {
  const devices = await navigator.mediaDevices.enumerateDevices();
  for (const [kind, select] of [["audioinput", "phone-mic"], ["audiooutput", "phone-speaker"]]) {
    const key = kind === "audioinput" ? chosen.mic : chosen.speaker;
    const found = devices.filter((device) => device.kind === kind);
    $(select).replaceChildren(...found.map((device, index) => new Option(device.label || `${kind} ${index + 1}`, device.deviceId)));
    const saved = localStorage.getItem(key);
    if (saved && found.some((device) => device.deviceId === saved)) $(select).value = saved;
  }
  await useSpeaker();
}

async function useSpeaker() {
  const speaker = $("phone-speaker").value;
  localStorage.setItem(chosen.speaker, speaker);
  if (speaker && $("phone-audio").setSinkId) await $("phone-audio").setSinkId(speaker);
  if (speaker && sounds?.setSinkId) await sounds.setSinkId(speaker);
}

async function useMicrophone() {
  localStorage.setItem(chosen.mic, $("phone-mic").value);
  const connection = phone.session?.sessionDescriptionHandler?.peerConnection;
  if (!connection) return;
  const stream = await navigator.mediaDevices.getUserMedia(audioConstraints().constraints);
  const [track] = stream.getAudioTracks();
  track.enabled = !phone.muted;
  for (const sender of connection.getSenders()) if (sender.track?.kind === "audio") await sender.replaceTrack(track);
}

// Whether there is a microphone the page may use; the devices' names come with the permission.
async function microphoneReady() {
  try {
    if (!navigator.mediaDevices) throw Object.assign(new Error("no media devices in this page"), { name: "NotFoundError" });
    const stream = await navigator.mediaDevices.getUserMedia(audioConstraints().constraints);
    for (const track of stream.getTracks()) track.stop();
    await listDevices();
    return true;
  } catch (error) {
    await fail(error.name === "NotAllowedError" ? "microphone_denied" : "no_microphone", `${error.name}: ${error.message}`);
    return false;
  }
}

// The call ------------------------------------------------------------------------------------------

function showCall() {
  const ringing = phone.state === "ringing", talking = phone.state === "in_call";
  $("phone-answer").hidden = $("phone-reject").hidden = !ringing;
  const barAnswer = document.getElementById("bar-answer");  // the desktop's call bar (Alt+A)
  if (barAnswer) barAnswer.hidden = !ringing;
  $("phone-mute").hidden = $("phone-keypad").hidden = !talking;
}

// The other party's voice: the session's remote tracks into the page's <audio>.
function playRemote(session) {
  const connection = session.sessionDescriptionHandler.peerConnection;
  const stream = new MediaStream();
  for (const receiver of connection.getReceivers()) if (receiver.track) stream.addTrack(receiver.track);
  $("phone-audio").srcObject = stream;
}

function onInvite(invitation) {
  if (phone.session) { invitation.reject({ statusCode: 486 }); return; }  // one call at a time
  phone.session = invitation;
  show("ringing");
  startRinging(invitation);
  invitation.stateChange.addListener((state) => {
    if (state === SessionState.Established) {
      stopRinging();
      show("in_call");
      setMuted(false);
      playRemote(invitation);
    }
    if (state === SessionState.Terminated) {
      stopRinging();
      phone.session = null;
      show(phone.registerer?.state === RegistererState.Registered ? "registered" : "unregistered");
    }
  });
  if (phone.autoAnswer) {
    tone(0.15, 880);  // the beep that tells the agent a caller is there
    setTimeout(() => answer().catch((error) => show("failed", error.message)), 400);
  }
}

export async function answer() {
  if (phone.session && phone.state === "ringing") await phone.session.accept({ sessionDescriptionHandlerOptions: audioConstraints() });
}

export async function reject() {
  if (phone.session && phone.state === "ringing") await phone.session.reject();  // 480: app_queue rings the next agent
}

export function setMuted(muted) {
  phone.muted = muted;
  const connection = phone.session?.sessionDescriptionHandler?.peerConnection;
  for (const sender of connection?.getSenders() ?? []) if (sender.track) sender.track.enabled = !muted;
  $("phone-mute").setAttribute("aria-pressed", String(muted));
  $("phone-mute").textContent = t(muted ? "phone.unmute" : "phone.mute");
}

// A digit as SIP INFO (application/dtmf-relay): Asterisk takes it whatever the codec, where RFC 4733
// events depend on a telephone-event rate opus calls may not have negotiated.
export async function sendDigit(digit) {
  if (!phone.session || phone.state !== "in_call" || !DIGIT.test(digit)) return;
  const body = { contentDisposition: "render", contentType: "application/dtmf-relay", content: `Signal=${digit}\r\nDuration=160\r\n` };
  await phone.session.info({ requestOptions: { body } });
  tone(0.08, 1000);
}

// Registration ------------------------------------------------------------------------------------

function show(state, detail = "") {
  phone.state = state;
  const node = $("phone-state");
  node.dataset.state = state;
  node.textContent = t(`phone.${state}`) + (detail ? ` (${detail})` : "");
  showCall();
}

async function fail(problem, detail) {
  show("failed", t(`phone.${problem}`));
  $("phone-state").dataset.problem = problem;
  try {
    await api("POST", "/api/me/phone/fault", { problem, detail: String(detail).slice(0, 200) });
  } catch (error) {
    console.warn("the phone's fault was not reported:", error.message);  // the server's ContactStatus watch still pauses
  }
}

function reconnectLater() {
  setTimeout(async () => {
    if (!phone.ua || phone.stopping) return;
    try {
      await phone.ua.reconnect();
      await register();
    } catch {
      reconnectLater();
    }
  }, RECONNECT_MS);
}

// Shown on Asterisk's answer: after a reconnect the Registerer may already think itself registered,
// and then says nothing.
async function register() {
  await phone.registerer.register({
    requestDelegate: {
      onAccept: () => {
        delete $("phone-state").dataset.problem;
        if (!phone.session) show("registered");
      },
      onReject: (response) => fail("registration", `${response.message.statusCode} ${response.message.reasonPhrase}`),
    },
  });
}

export async function startPhone() {
  if (phone.ua) return;
  phone.stopping = false;
  show("registering");
  if ("Notification" in window && Notification.permission === "default") Notification.requestPermission().catch(() => {});
  if (!(await microphoneReady())) return;
  try {
    const credentials = await api("POST", "/api/me/phone");
    phone.autoAnswer = credentials.auto_answer;
    $("phone-auto-answer").checked = phone.autoAnswer;
    phone.ua = new UserAgent({
      uri: UserAgent.makeURI(credentials.uri),
      transportOptions: { server: credentials.wss_url },
      authorizationUsername: credentials.username,
      authorizationPassword: credentials.password,
      logLevel: "warn",
      sessionDescriptionHandlerFactoryOptions: audioConstraints(),
      delegate: {
        onInvite,
        onDisconnect: (error) => {
          if (!error || phone.stopping) return;
          fail("network", error.message);
          reconnectLater();
        },
      },
    });
    phone.registerer = new Registerer(phone.ua);
    phone.registerer.stateChange.addListener((state) => {
      if (state === RegistererState.Registered && !phone.session) show("registered");
      else if (state === RegistererState.Unregistered && !phone.session && phone.state !== "failed") show("unregistered");
    });
    await phone.ua.start();
    await register();
  } catch (error) {
    await fail("registration", error.message);
  }
}

export async function stopPhone() {
  if (!phone.ua) return;
  phone.stopping = true;
  const { ua, registerer } = phone;
  phone.ua = phone.registerer = null;
  try {
    if (registerer) await registerer.unregister();
  } finally {
    await ua.stop();
    show("unregistered");
  }
}

// The phone follows the agent: logged out of the queues, it unregisters; back in, it registers. The
// first state it is told is where it starts from (a page opened while logged out still registers).
export function followAgent(state) {
  const before = phone.agentState;
  phone.agentState = state;
  if (before === undefined || (before === "logged_out") === (state === "logged_out")) return;
  if (state === "logged_out") stopPhone().catch((error) => show("failed", error.message));
  else if (!phone.ua) startPhone();
}

async function saveAutoAnswer() {
  const wanted = $("phone-auto-answer").checked;
  try {
    await api("PUT", "/api/me/phone", { auto_answer: wanted });
    phone.autoAnswer = wanted;
  } catch (error) {
    $("phone-auto-answer").checked = phone.autoAnswer;
    $("phone-error").textContent = error.message;
  }
}

const failed = (error) => show("failed", error.message);
$("phone-answer").addEventListener("click", () => answer().catch(failed));
$("phone-reject").addEventListener("click", () => reject().catch(failed));
$("phone-mute").addEventListener("click", () => setMuted(!phone.muted));
$("phone-auto-answer").addEventListener("change", saveAutoAnswer);
$("phone-mic").addEventListener("change", () => useMicrophone().catch(failed));
$("phone-speaker").addEventListener("change", () => useSpeaker().catch(failed));
for (const digit of "123456789*0#") {
  const key = element("button", digit);
  key.type = "button";
  key.dataset.digit = digit;
  key.addEventListener("click", () => sendDigit(digit).catch(failed));
  $("phone-keypad").append(key);
}

window.softphone = phone;  // for the tests and the browser console
