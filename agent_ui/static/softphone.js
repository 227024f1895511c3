// The browser phone (issue 13): the agent's WebRTC endpoint on Asterisk, registered with SIP.js
// over a secure WebSocket. The credentials come from POST /api/me/phone, new at every start.
// Uses the page's api, $ and t (common.js). Answering, the ring and media come next.
import { Registerer, RegistererState, UserAgent } from "/static/vendor/sip.js/index.js";

const phone = { ua: null, registerer: null, state: "" };

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

window.softphone = phone;  // for the tests and the browser console
