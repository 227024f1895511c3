// The browser phone (issue 13): the agent's WebRTC endpoint on Asterisk, registered with SIP.js
// over a secure WebSocket. The credentials come from POST /api/me/phone, new at every start.
// Uses the page's api, $ and t (common.js). A call from the queue rings here: answer or reject.
import { Registerer, RegistererState, SessionState, UserAgent } from "/static/vendor/sip.js/index.js";

const phone = { ua: null, registerer: null, state: "", session: null };
const AUDIO_ONLY = { constraints: { audio: true, video: false } };

function showCall(ringing) {
  $("phone-answer").hidden = !ringing;
  $("phone-reject").hidden = !ringing;
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
  showCall(true);
  invitation.stateChange.addListener((state) => {
    if (state === SessionState.Established) { show("in_call"); showCall(false); playRemote(invitation); }
    if (state === SessionState.Terminated) { phone.session = null; showCall(false); show("registered"); }
  });
}

export async function answer() {
  if (phone.session && phone.state === "ringing") await phone.session.accept({ sessionDescriptionHandlerOptions: AUDIO_ONLY });
}

export async function reject() {
  if (phone.session && phone.state === "ringing") await phone.session.reject();
}

function show(state, detail = "") {
  phone.state = state;
  const node = $("phone-state");
  node.dataset.state = state;
  node.textContent = t(`phone.${state}`) + (detail ? ` (${detail})` : "");
}

export async function startPhone() {
  show("registering");
  try {
    const credentials = await api("POST", "/api/me/phone");
    phone.ua = new UserAgent({
      uri: UserAgent.makeURI(credentials.uri),
      transportOptions: { server: credentials.wss_url },
      authorizationUsername: credentials.username,
      authorizationPassword: credentials.password,
      logLevel: "warn",
      sessionDescriptionHandlerFactoryOptions: AUDIO_ONLY,
      delegate: { onInvite },
    });
    phone.registerer = new Registerer(phone.ua);
    phone.registerer.stateChange.addListener((state) => {
      if (state === RegistererState.Registered) show("registered");
      else if (state === RegistererState.Unregistered) show("unregistered");
    });
    await phone.ua.start();
    await phone.registerer.register({
      requestDelegate: { onReject: (response) => show("failed", `${response.message.statusCode} ${response.message.reasonPhrase}`) },
    });
  } catch (error) {
    show("failed", error.message);
  }
}

export async function stopPhone() {
  if (!phone.ua) return;
  try {
    if (phone.registerer) await phone.registerer.unregister();
  } finally {
    await phone.ua.stop();
    phone.ua = phone.registerer = null;
  }
}

$("phone-answer").addEventListener("click", () => answer().catch((error) => show("failed", error.message)));
$("phone-reject").addEventListener("click", () => reject().catch((error) => show("failed", error.message)));

window.softphone = phone;  // for the tests and the browser console
