// The packet counts the Lyra panel shows add up: sent = arrived + lost on the way (+ in flight),
// concealed = lost + arrived too late.
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
