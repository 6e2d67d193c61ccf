// A real WebRTC link inside the page: two RTCPeerConnections joined by exchanging their
// descriptions and ICE candidates directly (no signalling server, no STUN/TURN: host
// candidates only, so nothing leaves the machine).
//
// Two data channels: "media" is configured like a media transport (unordered, no
// retransmissions: a lost packet stays lost), "control" is reliable and ordered and
// carries stream events (start, bitrate, pause, end) that must not be lost.

const hasWebRtc = () => typeof RTCPeerConnection === "function";

/** What the stream lacks in this browser, in the visitor's words ("" when it has WebRTC). */
export function linkLimits() {
  if (hasWebRtc()) return "";
  return "This browser has no WebRTC, so the two peers in this page pass packets over a MessageChannel instead of a data channel: "
    + "the simulated loss still drops packets, but none is lost or delayed on the way, and calls to another tab are not possible. "
    + "Streaming, saved files and the comparison still work.";
}

/**
 * The stream's link: a WebRTC data channel between two peers in this page; where the browser has no WebRTC,
 * or its data channel does not open (Chromium opens none while it is offline, not even inside one page), a
 * MessageChannel that says so in `limits` (plain words, shown by the page). Offline, WebRTC is given less time.
 */
export async function openLoopback({ timeoutMs = navigator.onLine === false ? 3000 : 10000 } = {}) {
  if (!hasWebRtc()) return openMessageChannelLoopback(linkLimits());
  try {
    return await openDataChannelLoopback(timeoutMs);
  } catch (err) {
    if (!err.channelNotOpened) throw err;
    console.warn(`the stream goes over a MessageChannel: ${err.message}`);
    return openMessageChannelLoopback(notOpenedLimits());
  }
}

function notOpenedLimits() {
  const why = navigator.onLine === false ? " (this browser is offline, and it opened no WebRTC connection, not even between two peers in one page)" : "";
  return `WebRTC could not connect the two peers in this page${why}, so packets go over a MessageChannel instead of a data channel: `
    + "the simulated loss still drops packets, but none is lost or delayed on the way. Streaming, saved files and the comparison still work.";
}

async function openDataChannelLoopback(timeoutMs) {
  const sender = new RTCPeerConnection();
  const receiver = new RTCPeerConnection();
  sender.onicecandidate = (e) => { if (e.candidate) receiver.addIceCandidate(e.candidate).catch(() => {}); };
  receiver.onicecandidate = (e) => { if (e.candidate) sender.addIceCandidate(e.candidate).catch(() => {}); };

  const media = sender.createDataChannel("media", { ordered: false, maxRetransmits: 0 });
  const control = sender.createDataChannel("control", { ordered: true });
  media.binaryType = "arraybuffer";
  const incoming = new Map();
  const bothArrived = new Promise((resolve) => {
    receiver.ondatachannel = (event) => {
      event.channel.binaryType = "arraybuffer";
      incoming.set(event.channel.label, event.channel);
      if (incoming.size === 2) resolve();
    };
  });

  await sender.setLocalDescription();
  await receiver.setRemoteDescription(sender.localDescription);
  await receiver.setLocalDescription();
  await sender.setRemoteDescription(receiver.localDescription);

  let timer;
  const timeout = new Promise((_, reject) => { timer = setTimeout(() => reject(Object.assign(new Error(`the WebRTC data channel did not open within ${timeoutMs} ms`), { channelNotOpened: true })), timeoutMs); });
  try {
    await Promise.race([Promise.all([bothArrived, opened(media), opened(control)]), timeout]);
  } catch (err) {
    sender.close(); receiver.close();
    throw err;
  } finally { clearTimeout(timer); }
  const remoteMedia = incoming.get("media");
  const remoteControl = incoming.get("control");
  await Promise.all([opened(remoteMedia), opened(remoteControl)]);

  const link = {
    mediaConfig: { ordered: media.ordered, maxRetransmits: media.maxRetransmits, protocol: media.protocol },
    bytesSent: 0,
    messagesSent: 0,
    onPacket: null,
    onControl: null,
    /** One media packet = one data channel message. */
    send(bytes) {
      if (media.readyState !== "open") return false;
      media.send(bytes);
      link.bytesSent += bytes.byteLength;
      link.messagesSent += 1;
      return true;
    },
    control(message) { if (control.readyState === "open") control.send(JSON.stringify(message)); },
    /** Bytes and messages the receiving peer's SCTP transport has delivered (from getStats). */
    async receiverStats() {
      const stats = await receiver.getStats();
      for (const report of stats.values()) {
        if (report.type === "data-channel" && report.label === "media") {
          return { messagesReceived: report.messagesReceived, bytesReceived: report.bytesReceived };
        }
      }
      return null;
    },
    selectedPair: () => selectedPair(sender),
    close() { media.close(); control.close(); sender.close(); receiver.close(); },
  };
  remoteMedia.onmessage = (event) => link.onPacket?.(new Uint8Array(event.data), performance.now());
  remoteControl.onmessage = (event) => link.onControl?.(JSON.parse(event.data));
  return link;
}

/**
 * The same link over a MessageChannel, for engines built without WebRTC (Debian's WebKitGTK) or whose data
 * channel did not open (`limits` says which, in the visitor's words): packets are
 * still one message each and the sender's loss model still drops them, but nothing is lost or late on the
 * way, and there is no ICE candidate pair to show (selectedPair gives null).
 */
function openMessageChannelLoopback(limits) {
  const media = new MessageChannel();
  const control = new MessageChannel();
  let messagesReceived = 0;
  let bytesReceived = 0;
  const link = {
    mediaConfig: { ordered: true, maxRetransmits: null, protocol: "" },
    transport: "MessageChannel",
    limits, // what this link lacks, in the visitor's words
    bytesSent: 0,
    messagesSent: 0,
    onPacket: null,
    onControl: null,
    send(bytes) {
      const copy = bytes.slice();
      media.port1.postMessage(copy.buffer, [copy.buffer]);
      link.bytesSent += bytes.byteLength;
      link.messagesSent += 1;
      return true;
    },
    control(message) { control.port1.postMessage(JSON.stringify(message)); },
    async receiverStats() { return { messagesReceived, bytesReceived }; },
    selectedPair: async () => null,
    close() { for (const channel of [media, control]) { channel.port1.close(); channel.port2.close(); } },
  };
  media.port2.onmessage = (event) => {
    messagesReceived += 1;
    bytesReceived += event.data.byteLength;
    link.onPacket?.(new Uint8Array(event.data), performance.now());
  };
  control.port2.onmessage = (event) => link.onControl?.(JSON.parse(event.data));
  return link;
}

export const opened = (channel) => new Promise((resolve) => (channel.readyState === "open" ? resolve() : channel.addEventListener("open", resolve, { once: true })));

/** The candidate pair in use (shows that the link is a real ICE/DTLS/SCTP connection). */
export async function selectedPair(pc) {
  const stats = await pc.getStats();
  for (const report of stats.values()) {
    if (report.type === "candidate-pair" && report.state === "succeeded" && report.nominated) {
      const local = stats.get(report.localCandidateId);
      return { protocol: local?.protocol, candidateType: local?.candidateType, rttMs: (report.currentRoundTripTime ?? 0) * 1000 };
    }
  }
  return null;
}
