// Calling another tab of this site: the same two data channels as the in-page loopback, but the
// peers live in different tabs and exchange their descriptions and ICE candidates over a
// BroadcastChannel (same origin, same browser profile: still nothing leaves the machine).
import { opened, selectedPair } from "./rtc-link.js";

const CHANNEL = "codeclab-lyra-calls";
const newId = () => Math.random().toString(36).slice(2, 10);

/** Queue remote ICE candidates until the remote description is set. */
function candidateSink(pc) {
  const pending = [];
  return {
    add(candidate) { if (pc.remoteDescription) pc.addIceCandidate(candidate).catch(() => {}); else pending.push(candidate); },
    flush() { for (const c of pending.splice(0)) pc.addIceCandidate(c).catch(() => {}); },
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

/** Make this tab a receiver: onCall(link) for each incoming call (one at a time). */
export function listen({ onCall, onError }) {
  const id = newId();
  const bc = new BroadcastChannel(CHANNEL);
  let pc = null;
  let sink = null;
  const announce = () => bc.postMessage({ type: "listening", from: id });
  bc.onmessage = async ({ data }) => {
    if (data.type === "who-listens") { announce(); return; }
    if (data.to !== id) return;
    try {
      if (data.type === "offer") {
        pc?.close();
        pc = new RTCPeerConnection();
        sink = candidateSink(pc);
        const caller = data.from;
        pc.onicecandidate = (e) => { if (e.candidate) bc.postMessage({ type: "candidate", from: id, to: caller, candidate: e.candidate.toJSON() }); };
        const channels = new Map();
        const thisPc = pc;
        pc.ondatachannel = async (event) => {
          event.channel.binaryType = "arraybuffer";
          channels.set(event.channel.label, event.channel);
          if (channels.size < 2) return;
          const media = channels.get("media"), control = channels.get("control");
          await Promise.all([opened(media), opened(control)]);
          onCall(receiverLink(thisPc, media, control));
        };
        await pc.setRemoteDescription(data.description);
        sink.flush();
        await pc.setLocalDescription();
        bc.postMessage({ type: "answer", from: id, to: caller, description: pc.localDescription.toJSON() });
      } else if (data.type === "candidate") sink?.add(data.candidate);
    } catch (err) { onError?.(err); }
  };
  announce();
  return { id, close() { bc.postMessage({ type: "gone", from: id }); bc.close(); pc?.close(); } };
}

/** The receiving end of a call: packets and control messages in, reports out. */
function receiverLink(pc, media, control) {
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
    selectedPair: () => selectedPair(pc),
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

/** Call the listening tab `listenerId`; resolves with the sending end once both channels are open. */
export async function call(listenerId, { timeoutMs = 10000 } = {}) {
  const id = newId();
  const bc = new BroadcastChannel(CHANNEL);
  const pc = new RTCPeerConnection();
  const sink = candidateSink(pc);
  const media = pc.createDataChannel("media", { ordered: false, maxRetransmits: 0 });
  const control = pc.createDataChannel("control", { ordered: true });
  media.binaryType = "arraybuffer";
  pc.onicecandidate = (e) => { if (e.candidate) bc.postMessage({ type: "candidate", from: id, to: listenerId, candidate: e.candidate.toJSON() }); };
  bc.onmessage = async ({ data }) => {
    if (data.to !== id) return;
    if (data.type === "answer") { await pc.setRemoteDescription(data.description); sink.flush(); }
    else if (data.type === "candidate") sink.add(data.candidate);
  };
  await pc.setLocalDescription();
  bc.postMessage({ type: "offer", from: id, to: listenerId, description: pc.localDescription.toJSON() });
  try {
    await withTimeout(Promise.all([opened(media), opened(control)]), timeoutMs, "the other tab did not answer the call (is it still listening?)");
  } catch (err) { bc.close(); pc.close(); throw err; }
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
    selectedPair: () => selectedPair(pc),
    close() { media.close(); control.close(); pc.close(); bc.close(); },
  };
  control.onmessage = (event) => link.onControl?.(JSON.parse(event.data));
  return link;
}
