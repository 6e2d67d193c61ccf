// Pairing a call between tabs (web/tools/lyra/rtc-call.js): codes from both keys, sealed descriptions.
import assert from "node:assert/strict";
import { test } from "node:test";
import { pairingCode, pairingKeys, seal, sessionKey, unseal } from "../../web/tools/lyra/rtc-call.js";

const DESCRIPTION = { type: "offer", sdp: "v=0\r\na=ice-pwd:secretsecretsecret\r\na=fingerprint:sha-256 AA:BB\r\n" };

async function pair() {
  const caller = await pairingKeys(), listener = await pairingKeys();
  const ids = ["caller01", "listen01"];
  const callerKey = await sessionKey(caller.privateKey, listener.publicKey, ...ids, caller.publicKey, listener.publicKey);
  const listenerKey = await sessionKey(listener.privateKey, caller.publicKey, ...ids, caller.publicKey, listener.publicKey);
  return { caller, listener, ids, callerKey, listenerKey };
}

test("both tabs compute the same six-digit code; a key put in between changes it", async () => {
  const { caller, listener, ids } = await pair();
  const code = await pairingCode(...ids, caller.publicKey, listener.publicKey);
  assert.match(code, /^\d{3} \d{3}$/);
  assert.equal(await pairingCode(...ids, caller.publicKey, listener.publicKey), code);
  const intruder = await pairingKeys();
  assert.notEqual(await pairingCode(...ids, caller.publicKey, intruder.publicKey), code);
  assert.notEqual(await pairingCode("caller02", ids[1], caller.publicKey, listener.publicKey), code);
});

test("a sealed description opens only with the pair's key, for its kind, sender and receiver", async () => {
  const { ids, callerKey, listenerKey } = await pair();
  const sealed = await seal(callerKey, "offer 1", ...ids, DESCRIPTION);
  const wire = new TextDecoder("latin1").decode(sealed.data);
  assert.ok(!wire.includes("ice-pwd") && !wire.includes("fingerprint"), "the description travels in the clear");
  assert.deepEqual(await unseal(listenerKey, sealed), DESCRIPTION);
  // A third page derives its own key with either tab: it cannot open or forge what the pair sends.
  const intruder = await pairingKeys();
  const { caller } = await pair();
  const intruderKey = await sessionKey(intruder.privateKey, caller.publicKey, ...ids, caller.publicKey, intruder.publicKey);
  assert.equal(await unseal(intruderKey, sealed), null);
  assert.equal(await unseal(listenerKey, await seal(intruderKey, "offer 1", ...ids, DESCRIPTION)), null);
  // Reflected back as the other kind, or readdressed: refused.
  assert.equal(await unseal(listenerKey, { ...sealed, kind: "answer 1" }), null);
  assert.equal(await unseal(listenerKey, { ...sealed, from: "forger01" }), null);
  assert.equal(await unseal(listenerKey, { ...sealed, data: new Uint8Array(40) }), null);
});
