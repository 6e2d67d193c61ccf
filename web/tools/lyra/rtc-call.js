// Calling another tab of this site: the same two data channels as the in-page loopback, but the
// peers live in different tabs and exchange their descriptions over a BroadcastChannel.
//
// Every page of this origin can read and write that channel (on a shared host, other sites too), so
// nothing on it is trusted:
// - Consent and pairing: the listener is asked before it answers, and both tabs show a code made from
//   both peers' DTLS fingerprints. DTLS proves the connection is with whoever holds the fingerprint
//   in the answer, so equal codes on both tabs mean the caller is connected to that listener; the
//   caller sends nothing until its user confirmed the code. An answer from any other id is ignored,
//   and two answers for one call (one of them forged) drop the call.
// - Only this machine: ICE candidates (in the descriptions and trickled) are accepted only when they
//   are host candidates with an mDNS name, a loopback address or one of this tab's own addresses;
//   before audio flows, the selected candidate pair is checked again, else the call is dropped.
import { opened } from "./rtc-link.js";

const CHANNEL = "codeclab-lyra-calls";
const GATHER_MS = 3000; // ICE gathering on loopback/LAN interfaces ends well within this
const newId = () => Math.random().toString(36).slice(2, 10);

export class CallRefusedError extends Error {
  constructor(message) { super(message); this.name = "CallRefusedError"; this.expected = false; }
}

// ---------------------------------------------------------------- ICE policy (pure)

/** {address, type} of an ICE candidate line ("candidate:f 1 udp prio ADDRESS port typ TYPE ..."), or null. */
export function parseCandidate(line) {
  const fields = String(line).replace(/^a=/, "").trim().split(/\s+/);
  const typ = fields.indexOf("typ");
  if (!fields[0]?.startsWith("candidate:") || fields.length < 8 || typ !== 6) return null;
  return { address: fields[4].toLowerCase(), type: fields[7] };
}

/** An address that can only be this machine: an mDNS name (.local), loopback, or one of `own`. */
export function isOnThisMachine(address, own = new Set()) {
  if (!address) return false;
  const a = address.toLowerCase().replace(/^\[|\]$/g, "");
  return a.endsWith(".local") || a === "::1" || /^127\./.test(a) || own.has(a);
}

/** Accept a remote candidate line only if it is a host candidate on this machine. */
export function acceptCandidate(line, own) {
  const candidate = parseCandidate(line);
  return candidate !== null && candidate.type === "host" && isOnThisMachine(candidate.address, own);
}

/** The description with every candidate this policy refuses taken out; `refused` counts them. */
export function filterDescription(description, own, refused = { count: 0 }) {
  const lines = description.sdp.split("\r\n").filter((line) => {
    if (!line.startsWith("a=candidate:")) return true;
    if (acceptCandidate(line, own)) return true;
    refused.count += 1;
    return false;
  });
  return { type: description.type, sdp: lines.join("\r\n") };
}

/** The addresses of this peer's own candidates (its final local description). */
function ownAddresses(pc) {
  const own = new Set();
  for (const line of pc.localDescription?.sdp.split("\r\n") ?? []) {
    const candidate = line.startsWith("a=candidate:") ? parseCandidate(line) : null;
    if (candidate) own.add(candidate.address);
  }
  return own;
}

/** Six digits from both peers' DTLS fingerprints: equal on both tabs only if they hold each other's. */
export async function pairingCode(offerSdp, answerSdp) {
  const fingerprints = (sdp) => sdp.split("\r\n").filter((l) => l.startsWith("a=fingerprint:")).sort().join("\n");
  const text = `${fingerprints(offerSdp)}\n--\n${fingerprints(answerSdp)}`;
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  const value = ((digest[0] << 16) | (digest[1] << 8) | digest[2]) % 1_000_000;
  const digits = String(value).padStart(6, "0");
  return `${digits.slice(0, 3)} ${digits.slice(3)}`;
}

/** The local description once ICE gathering ended (all candidates in it: nothing is trickled). */
async function gatheredDescription(pc) {
  await pc.setLocalDescription();
  if (pc.iceGatheringState !== "complete") {
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, GATHER_MS);
      pc.addEventListener("icegatheringstatechange", () => {
        if (pc.iceGatheringState === "complete") { clearTimeout(timer); resolve(); }
      });
    });
  }
  return pc.localDescription.toJSON();
}

/** The candidate pair in use, and whether both of its ends are on this machine. */
export async function checkedPair(pc) {
  const stats = await pc.getStats();
  const own = ownAddresses(pc);
  for (const report of stats.values()) if (report.type === "local-candidate" && report.address) own.add(report.address.toLowerCase());
  for (const report of stats.values()) {
    if (report.type === "candidate-pair" && report.state === "succeeded" && report.nominated) {
      const local = stats.get(report.localCandidateId);
      const remote = stats.get(report.remoteCandidateId);
      // A peer-reflexive remote is a host candidate whose description came after its first check.
      const onThisMachine = local?.candidateType === "host" && ["host", "prflx"].includes(remote?.candidateType)
        && (!remote.address || isOnThisMachine(remote.address, own));
      return {
        protocol: local?.protocol, candidateType: local?.candidateType, remoteCandidateType: remote?.candidateType,
        rttMs: (report.currentRoundTripTime ?? 0) * 1000, onThisMachine,
      };
    }
  }
  return null;
}

/** Refuse a connection whose selected pair leaves this machine (before any audio is sent or played). */
async function requireLocalPair(pc) {
  const pair = await checkedPair(pc);
  if (!pair?.onThisMachine) {
    pc.close();
    throw new CallRefusedError("the call was dropped: its connection would leave this computer "
      + `(${pair ? `${pair.candidateType} to ${pair.remoteCandidateType}` : "no connection"}); calls between tabs stay on this machine`);
  }
  return pair;
}

/** Add remote candidates that pass the policy, once the remote description is set; count the rest. */
function candidateSink(pc, refused) {
  const pending = [];
  const add = (candidate) => {
    if (!acceptCandidate(candidate?.candidate ?? "", ownAddresses(pc))) { refused.count += 1; return; }
    pc.addIceCandidate(candidate).catch(() => {});
  };
  return {
    add(candidate) { if (pc.remoteDescription) add(candidate); else pending.push(candidate); },
    flush() { for (const c of pending.splice(0)) add(c); },
  };
}

function withTimeout(promise, ms, message) {
  let timer;
  const timeout = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(message)), ms); });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Tabs that are listening for calls: calls onChange(list of ids) whenever that changes. */
export function watchListeners(onChange) {
  const bc = new BroadcastChannel(CHANNEL);
  const listeners = new Set();
  bc.onmessage = ({ data }) => {
    if (data.type === "listening") listeners.add(data.from);
    else if (data.type === "gone") listeners.delete(data.from);
    else return;
    onChange([...listeners]);
  };
  bc.postMessage({ type: "who-listens" });
  return { list: () => [...listeners], close: () => bc.close() };
}

/**
 * Make this tab a receiver. For each incoming call, `confirm(code)` asks the user (resolves true to
 * answer); then onCall(link) once both channels are open and the connection stays on this machine.
 * One call at a time.
 */
export function listen({ confirm, onCall, onError }) {
  const id = newId();
  const bc = new BroadcastChannel(CHANNEL);
  let pc = null;
  const refused = { count: 0 };
  const announce = () => bc.postMessage({ type: "listening", from: id });
  bc.onmessage = async ({ data }) => {
    if (data.type === "who-listens") { announce(); return; }
    if (data.to !== id || data.type !== "offer") return; // nothing is trickled: candidates come in the descriptions
    const caller = data.from;
    try {
      pc?.close();
      const thisPc = pc = new RTCPeerConnection();
      const channels = new Map();
      const both = new Promise((resolve) => {
        thisPc.ondatachannel = (event) => {
          event.channel.binaryType = "arraybuffer";
          channels.set(event.channel.label, event.channel);
          if (channels.has("media") && channels.has("control")) resolve();
        };
      });
      // Our own addresses are known only once gathered, so the offer is filtered after our answer is made.
      await thisPc.setRemoteDescription({ type: "offer", sdp: data.description.sdp.split("\r\n").filter((l) => !l.startsWith("a=candidate:")).join("\r\n") });
      const answer = await gatheredDescription(thisPc);
      const offered = filterDescription(data.description, ownAddresses(thisPc), refused);
      for (const line of offered.sdp.split("\r\n").filter((l) => l.startsWith("a=candidate:"))) {
        await thisPc.addIceCandidate({ candidate: line.slice(2), sdpMLineIndex: 0 }).catch(() => {});
      }
      const code = await pairingCode(data.description.sdp, answer.sdp);
      if (!(await confirm(code))) {
        thisPc.close();
        bc.postMessage({ type: "declined", from: id, to: caller });
        return;
      }
      bc.postMessage({ type: "answer", from: id, to: caller, description: answer });
      await both;
      const media = channels.get("media"), control = channels.get("control");
      await Promise.all([opened(media), opened(control)]);
      await requireLocalPair(thisPc);
      onCall(receiverLink(thisPc, media, control, refused));
    } catch (err) { onError?.(err); }
  };
  announce();
  return { id, refused, close() { bc.postMessage({ type: "gone", from: id }); bc.close(); pc?.close(); } };
}

/** The receiving end of a call: packets and control messages in, reports out. */
function receiverLink(pc, media, control, refused) {
  // Messages that arrive before this tab's receiver is ready (it may still be starting its
  // decoder) are held, with their arrival times, and handed over when the handlers are set.
  const held = { packets: [], control: [] };
  let onPacket = null;
  let onControl = null;
  const link = {
    mediaConfig: { ordered: media.ordered, maxRetransmits: media.maxRetransmits, protocol: media.protocol },
    get onPacket() { return onPacket; },
    set onPacket(handler) { onPacket = handler; for (const [bytes, at] of held.packets.splice(0)) handler?.(bytes, at); },
    get onControl() { return onControl; },
    set onControl(handler) { onControl = handler; for (const message of held.control.splice(0)) handler?.(message); },
    control(message) { if (control.readyState === "open") control.send(JSON.stringify(message)); },
    selectedPair: () => checkedPair(pc),
    refusedCandidates: () => refused.count,
    close() { media.close(); control.close(); pc.close(); },
  };
  media.onmessage = (event) => {
    const packet = [new Uint8Array(event.data), performance.now()];
    if (onPacket) onPacket(...packet); else held.packets.push(packet);
  };
  control.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (onControl) onControl(message); else held.control.push(message);
  };
  return link;
}

/**
 * Call the listening tab `listenerId`. Once it answered, `confirm(code)` asks this tab's user to check
 * that the other tab shows the same code (resolves true to go on). Resolves with the sending end once
 * both channels are open and the connection stays on this machine.
 */
export async function call(listenerId, { confirm, timeoutMs = 30000 } = {}) {
  const id = newId();
  const bc = new BroadcastChannel(CHANNEL);
  const pc = new RTCPeerConnection();
  const refused = { count: 0 };
  const sink = candidateSink(pc, refused);
  const media = pc.createDataChannel("media", { ordered: false, maxRetransmits: 0 });
  const control = pc.createDataChannel("control", { ordered: true });
  media.binaryType = "arraybuffer";
  const hangUp = () => { bc.close(); pc.close(); };
  try {
    const offer = await gatheredDescription(pc);
    let forged;
    const forgery = new Promise((_, reject) => { forged = reject; });
    forgery.catch(() => {});
    const answered = new Promise((resolve, reject) => {
      let answers = 0;
      bc.onmessage = ({ data }) => {
        if (data.to !== id || data.from !== listenerId) return; // only the tab this call was placed to
        if (data.type === "declined") reject(new CallRefusedError("the other tab declined the call"));
        else if (data.type === "answer") {
          // Two answers "from" one listener: someone else on this origin answers in its name.
          if (++answers > 1) forged(new CallRefusedError("the call was dropped: two tabs answered as the listening tab"));
          else resolve(data.description);
        } else if (data.type === "candidate") sink.add(data.candidate);
      };
    });
    bc.postMessage({ type: "offer", from: id, to: listenerId, description: offer });
    const answer = await withTimeout(answered, timeoutMs, "the other tab did not answer the call (is it still listening?)");
    await pc.setRemoteDescription(filterDescription(answer, ownAddresses(pc), refused));
    sink.flush();
    const code = await pairingCode(offer.sdp, answer.sdp);
    const channelsOpen = withTimeout(Promise.all([opened(media), opened(control)]), timeoutMs, "the call did not connect");
    channelsOpen.catch(() => {});
    // A second (forged) answer arriving while the user compares the codes drops the call.
    const agreed = await Promise.race([confirm(code), forgery]);
    if (!agreed) throw new CallRefusedError("the call was cancelled: the codes were not confirmed");
    await channelsOpen;
    await requireLocalPair(pc);
  } catch (err) { hangUp(); throw err; }
  const link = {
    mediaConfig: { ordered: media.ordered, maxRetransmits: media.maxRetransmits, protocol: media.protocol },
    remote: true,
    bytesSent: 0,
    messagesSent: 0,
    onControl: null,
    send(bytes) {
      if (media.readyState !== "open") return false;
      media.send(bytes);
      link.bytesSent += bytes.byteLength;
      link.messagesSent += 1;
      return true;
    },
    control(message) { if (control.readyState === "open") control.send(JSON.stringify(message)); },
    selectedPair: () => checkedPair(pc),
    refusedCandidates: () => refused.count,
    close() { media.close(); control.close(); hangUp(); },
  };
  control.onmessage = (event) => link.onControl?.(JSON.parse(event.data));
  return link;
}
