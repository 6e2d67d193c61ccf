// What the Lyra panel says adds up: sent = arrived + lost on the way (+ in flight), concealed =
// lost + arrived too late; a stream's bitrate(s) named as the Python reader names them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { packetAccounting } from "../../web/tools/lyra/accounting.js";

test("a finished stream at 20 % loss: sent = arrived + lost, concealed = lost + too late", () => {
  // 135 packets encoded and sent onto the channel, 22 dropped by the simulation, 2 arrived late.
  const a = packetAccounting({ encoded: 135, dropped: 22, received: 111, late: 2, concealed: 24 }, true);
  assert.deepEqual([a.sent, a.arrived, a.lost, a.inFlight, a.concealed], [135, 113, 22, 0, 24]);
  assert.equal(a.sent, a.arrived + a.lost);
  assert.equal(a.concealed, a.concealedLost + a.late);
  assert.equal(a.lostOnLink, 0);
});

test("a packet the link lost (no retransmission) is counted lost once the stream ends", () => {
  const live = packetAccounting({ encoded: 100, dropped: 10, received: 89, late: 0, concealed: 10 }, false);
  assert.deepEqual([live.lost, live.inFlight], [10, 1]);
  const done = packetAccounting({ encoded: 100, dropped: 10, received: 89, late: 0, concealed: 11 }, true);
  assert.deepEqual([done.lost, done.lostOnLink, done.inFlight, done.concealedLost], [11, 1, 0, 11]);
});

test("figures from another tab that lag this one's never go negative", () => {
  const a = packetAccounting({ encoded: 50, dropped: 5, received: 52, late: 0, concealed: 5 }, false);
  assert.deepEqual([a.lost, a.inFlight], [0, 0]);
});

import { bitrateOfPackets, lyraFileName } from "../../web/tools/lyra/lyra-file.js";

test("a stream's bitrate in the same words as codeclab.lyra.lyrafile.describe_bitrate", () => {
  assert.equal(bitrateOfPackets(new Array(10).fill(15)).label, "6 kbps");
  assert.equal(bitrateOfPackets(new Array(10).fill(8)).label, "3.2 kbps");
  // tests/lyra/test_lyrafile.py: 40 at 6 kbps, 60 at 3.2, 5 at 9.2 -> 1195 bytes in 2.1 s
  const mixed = bitrateOfPackets([...new Array(40).fill(15), ...new Array(60).fill(8), ...new Array(5).fill(23)]);
  assert.equal(mixed.label, "mixed 3.2–9.2 kbps, 4.6 kbps average");
  assert.deepEqual(mixed.bitrates, [3200, 6000, 9200]);
  assert.equal(lyraFileName(mixed.bitrates), "stream-mixed-3200-6000-9200.lyra");
  assert.equal(lyraFileName([6000]), "stream-6000.lyra");
});
