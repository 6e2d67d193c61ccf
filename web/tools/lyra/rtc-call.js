// Calling another tab of this site: the same two data channels as the in-page loopback, but the
// peers live in different tabs and exchange their descriptions over a BroadcastChannel.
//
// Every page of this origin can read and write that channel (on a shared host, other sites too), so
// nothing on it is trusted:
// - Pairing before anything else: the caller sends a fresh ECDH public key ("hello"), the listener
//   answers with its own ("accept"), and both tabs show a six-digit code made from both keys and ids.
//   Only once the user confirmed the code on a tab does that tab send its description, and then only
//   sealed (AES-GCM under a key both derive from ECDH): a third page never sees the ICE credentials or
//   the DTLS fingerprint, so it can neither take part in ICE nor pose as the peer in DTLS, and a
//   description it forges does not unseal. A key exchange "from" the same tab twice (someone answering
//   or calling in another's name) drops the call; messages from any other id are ignored.
// - Only this machine: ICE candidates in the descriptions are accepted only when they are host
//   candidates with an mDNS name, a loopback address or one of this tab's own addresses; before audio
//   flows, the selected candidate pair is checked again, else the call is dropped.
// - A connection whose ICE or DTLS fails is dropped and tried once more with a fresh one.
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

// ---------------------------------------------------------------- pairing (WebCrypto)

const toBytes = (value) => new Uint8Array(value instanceof ArrayBuffer ? value : value?.buffer ?? []);
const concat = (...parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const part of parts) { out.set(part, at); at += part.byteLength; }
  return out;
};
const utf8 = (text) => new TextEncoder().encode(text);

/** A fresh ECDH key pair for one call; `publicKey` is its raw P-256 point (sent in the clear). */
export async function pairingKeys() {
  const keys = await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, false, ["deriveBits"]);
  return { privateKey: keys.privateKey, publicKey: new Uint8Array(await crypto.subtle.exportKey("raw", keys.publicKey)) };
}

/** What both tabs agree on: the call's ids and both public keys, in the caller's order. */
function transcript(callerId, listenerId, callerKey, listenerKey) {
  return concat(utf8(`codeclab lyra call\0${callerId}\0${listenerId}\0`), toBytes(callerKey), toBytes(listenerKey));
}

/**
 * Six digits from the call's ids and both public keys. A tab that put its own key in between shows
 * another code than the tab it impersonates (one chance in a million to match), so equal codes on
 * both tabs, confirmed by the user, mean each holds the other's key.
 */
export async function pairingCode(callerId, listenerId, callerKey, listenerKey) {
  const bytes = concat(utf8("code\0"), transcript(callerId, listenerId, callerKey, listenerKey));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const value = ((digest[0] << 16) | (digest[1] << 8) | digest[2]) % 1_000_000;
  const digits = String(value).padStart(6, "0");
  return `${digits.slice(0, 3)} ${digits.slice(3)}`;
}

/**
 * The AES-GCM key both tabs derive (ECDH, then HKDF over the transcript): only the two paired tabs
 * hold it, so only they can read or write the sealed descriptions.
 */
export async function sessionKey(privateKey, peerKey, callerId, listenerId, callerKey, listenerKey) {
  const peer = await crypto.subtle.importKey("raw", toBytes(peerKey), { name: "ECDH", namedCurve: "P-256" }, false, []);
  const shared = await crypto.subtle.deriveBits({ name: "ECDH", public: peer }, privateKey, 256);
  const hkdfKey = await crypto.subtle.importKey("raw", shared, "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: transcript(callerId, listenerId, callerKey, listenerKey), info: utf8("sealed descriptions") },
    hkdfKey, { name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
}

/** A description sealed for the paired tab; its kind, sender and receiver are bound in as well. */
export async function seal(key, kind, from, to, description) {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const data = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: utf8(`${kind}\0${from}\0${to}`) },
    key, utf8(JSON.stringify(description)));
  return { type: "sealed", kind, from, to, iv, data };
}

/** The description in a sealed message, or null when it was not sealed with `key` for this kind and pair. */
export async function unseal(key, message) {
  try {
    const plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: toBytes(message.iv), additionalData: utf8(`${message.kind}\0${message.from}\0${message.to}`) },
      key, toBytes(message.data));
    const description = JSON.parse(new TextDecoder().decode(plain));
    return typeof description?.sdp === "string" ? description : null;
  } catch { return null; }
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

function withTimeout(promise, ms, message) {
  let timer;
  const timeout = new Promise((_, reject) => { timer = setTimeout(() => reject(new CallRefusedError(message)), ms); });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A promise that only ever rejects (with what `drop` is given), and `drop`. */
function dropper() {
  let drop;
  const dropped = new Promise((_, reject) => { drop = reject; });
  dropped.catch(() => {});
  return { dropped, drop };
}

/** Messages from the other tab, held until asked for (at most MAILBOX_MAX: the rest of the origin can write too). */
const MAILBOX_MAX = 64;
function mailbox() {
  const held = [];
  const waiting = [];
  return {
    push(message) {
      const i = waiting.findIndex((w) => w.accept(message));
      if (i >= 0) { waiting.splice(i, 1)[0].resolve(message); return; }
      held.push(message);
      if (held.length > MAILBOX_MAX) held.shift();
    },
    next(accept) {
      const i = held.findIndex(accept);
      if (i >= 0) return Promise.resolve(held.splice(i, 1)[0]);
      return new Promise((resolve) => waiting.push({ accept, resolve }));
    },
    /** The next description of `kind` sealed with `key`; anything else of that kind (forged) is skipped. */
    async sealed(key, kind) {
      for (;;) {
        const description = await unseal(key, await this.next((m) => m.type === "sealed" && m.kind === kind));
        if (description) return description;
      }
    },
  };
}

/** Resolves "failed" once ICE or DTLS failed on `pc`. */
function failure(pc) {
  return new Promise((resolve) => {
    const check = () => { if (pc.connectionState === "failed" || pc.connectionState === "closed") resolve("failed"); };
    pc.addEventListener("connectionstatechange", check);
    check();
  });
}

/** Resolves "open" once every channel is open, or "failed" if the connection fails first. */
const connected = (pc, channels) => Promise.race([Promise.all(channels.map(opened)).then(() => "open"), failure(pc)]);

const sameBytes = (a, b) => {
  const x = toBytes(a), y = toBytes(b);
  return x.length === y.length && x.every((v, i) => v === y[i]);
};

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
 * Make this tab a receiver. For each incoming call, `confirm(code, signal)` asks the user (resolves true
 * to answer; `signal` aborts when the call ended meanwhile); then onCall(link) once both channels are open and the connection stays on this machine.
 * One call at a time: a new one replaces one still being paired.
 */
export function listen({ confirm, onCall, onError }) {
  const id = newId();
  const bc = new BroadcastChannel(CHANNEL);
  const refused = { count: 0 };
  let pairing = null; // the call being paired or connected: { caller, callerKey, inbox, stop(err) }
  const announce = () => bc.postMessage({ type: "listening", from: id });
  bc.onmessage = ({ data }) => {
    if (data?.type === "who-listens") { announce(); return; }
    if (data?.to !== id) return;
    if (data.type === "hello") {
      if (pairing?.caller === data.from) {
        // Two keys "from" one caller: someone else on this origin calls in its name.
        if (!sameBytes(pairing.callerKey, data.key)) pairing.stop(new CallRefusedError("the call was dropped: two tabs called as the same caller"));
        return;
      }
      pairing?.stop(null);
      pairing = answer(data);
    } else if (pairing?.caller === data.from) pairing.inbox.push(data);
  };

  function answer(hello) {
    const caller = hello.from;
    const { dropped, drop } = dropper();
    let pc = null;
    const current = { caller, callerKey: toBytes(hello.key), inbox: mailbox(), stop: (err) => { pc?.close(); drop(err); } };
    const hungUp = current.inbox.next((m) => m.type === "hangup")
      .then(() => { throw new CallRefusedError("the calling tab ended the call before it connected"); });
    hungUp.catch(() => {});
    const until = (promise) => Promise.race([promise, dropped, hungUp]);
    const asking = new AbortController(); // closes the question when the call ends first
    until(new Promise(() => {})).catch(() => asking.abort());
    (async () => {
      const keys = await pairingKeys();
      const callerKey = toBytes(hello.key);
      const code = await pairingCode(caller, id, callerKey, keys.publicKey);
      const key = await sessionKey(keys.privateKey, callerKey, caller, id, callerKey, keys.publicKey);
      bc.postMessage({ type: "accept", from: id, to: caller, key: keys.publicKey });
      if (!(await until(confirm(code, asking.signal)))) {
        bc.postMessage({ type: "declined", from: id, to: caller });
        return;
      }
      // Each sealed offer gets a fresh connection (the caller sends a new one when ICE or DTLS failed).
      for (let attempt = 1; ; attempt++) {
        const offer = await until(current.inbox.sealed(key, `offer ${attempt}`));
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
        await thisPc.setRemoteDescription({ type: "offer", sdp: offer.sdp.split("\r\n").filter((l) => !l.startsWith("a=candidate:")).join("\r\n") });
        const description = await gatheredDescription(thisPc);
        const offered = filterDescription(offer, ownAddresses(thisPc), refused);
        for (const line of offered.sdp.split("\r\n").filter((l) => l.startsWith("a=candidate:"))) {
          await thisPc.addIceCandidate({ candidate: line.slice(2), sdpMLineIndex: 0 }).catch(() => {});
        }
        bc.postMessage(await seal(key, `answer ${attempt}`, id, caller, description));
        const state = await until(Promise.race([
          both.then(() => connected(thisPc, [channels.get("media"), channels.get("control")])), failure(thisPc)]));
        if (state === "failed") continue;
        const media = channels.get("media"), control = channels.get("control");
        await requireLocalPair(thisPc);
        if (pairing === current) pairing = null; // the link owns the connection from here
        onCall(receiverLink(thisPc, media, control, refused));
        return;
      }
    })().catch((err) => { pc?.close(); if (pairing === current) pairing = null; if (err) onError?.(err); });
    return current;
  }

  announce();
  return { id, refused, close() { bc.postMessage({ type: "gone", from: id }); bc.close(); pairing?.stop(null); } };
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
 * Call the listening tab `listenerId`. Once it answered, `confirm(code, signal)` asks this tab's user to check
 * that the other tab shows the same code (resolves true to go on). Only then is this tab's description
 * sent, sealed for the paired tab. Resolves with the sending end once both channels are open and the
 * connection stays on this machine; a connection whose ICE or DTLS fails is dropped and tried once more.
 */
export async function call(listenerId, { confirm, timeoutMs = 30000, answerMs = 120000, attempts = 2 } = {}) {
  const id = newId();
  const bc = new BroadcastChannel(CHANNEL);
  const inbox = mailbox();
  const refused = { count: 0 };
  const { dropped, drop } = dropper();
  let pc = null;
  let accepts = 0;
  bc.onmessage = ({ data }) => {
    if (data?.to !== id || data.from !== listenerId) return; // only the tab this call was placed to
    if (data.type === "declined") drop(new CallRefusedError("the other tab declined the call"));
    // Two keys "from" one listener: someone else on this origin answers in its name.
    else if (data.type === "accept" && ++accepts > 1) drop(new CallRefusedError("the call was dropped: two tabs answered as the listening tab"));
    else inbox.push(data);
  };
  const until = (promise, ms, message) => withTimeout(Promise.race([promise, dropped]), ms, message);
  let media, control;
  try {
    const keys = await pairingKeys();
    bc.postMessage({ type: "hello", from: id, to: listenerId, key: keys.publicKey });
    const accepted = await until(inbox.next((m) => m.type === "accept"), timeoutMs,
      "the other tab did not answer the call (is it still listening?)");
    const listenerKey = toBytes(accepted.key);
    const code = await pairingCode(id, listenerId, keys.publicKey, listenerKey);
    const key = await sessionKey(keys.privateKey, listenerKey, id, listenerId, keys.publicKey, listenerKey);
    // A second (forged) answer arriving while the user compares the codes drops the call.
    const asking = new AbortController();
    dropped.catch(() => asking.abort());
    if (!(await Promise.race([dropped, confirm(code, asking.signal)]))) throw new CallRefusedError("the call was cancelled: the codes were not confirmed");
    for (let attempt = 1; ; attempt++) {
      pc = new RTCPeerConnection();
      media = pc.createDataChannel("media", { ordered: false, maxRetransmits: 0 });
      control = pc.createDataChannel("control", { ordered: true });
      media.binaryType = "arraybuffer";
      const offer = await gatheredDescription(pc);
      bc.postMessage(await seal(key, `offer ${attempt}`, id, listenerId, offer));
      const answer = await until(inbox.sealed(key, `answer ${attempt}`), attempt === 1 ? answerMs : timeoutMs,
        "the other tab did not confirm the call");
      await pc.setRemoteDescription(filterDescription(answer, ownAddresses(pc), refused));
      if (await until(connected(pc, [media, control]), timeoutMs, "the call did not connect") === "open") break;
      pc.close();
      if (attempt >= attempts) throw new CallRefusedError("the call did not connect: the connection between the tabs failed");
    }
    await requireLocalPair(pc);
  } catch (err) {
    bc.postMessage({ type: "hangup", from: id, to: listenerId });
    bc.close();
    pc?.close();
    throw err;
  }
  const hangUp = () => { bc.close(); pc.close(); };
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
