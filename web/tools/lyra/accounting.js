// Where every packet went, in the words the page shows: each packet sent has arrived, was lost on
// the way (the simulated loss, or the link), or is still in flight; each concealed slot is a lost
// packet or one that arrived too late to play.

/**
 * @param {object} v the stream's figures (figuresOf): encoded, dropped from the sender; received,
 *   late, concealed from the receiver
 * @param {boolean} finished after the stream ended nothing is in flight: what never arrived was lost
 */
export function packetAccounting(v, finished) {
  const sent = v.encoded ?? 0;
  const late = v.late ?? 0;
  const arrived = (v.received ?? 0) + late;
  const dropped = v.dropped ?? 0;
  // Live, only the simulated losses are known to be lost (another tab's figures may lag this one's).
  const lost = finished ? Math.max(0, sent - arrived) : Math.min(dropped, Math.max(0, sent - arrived));
  const inFlight = Math.max(0, sent - arrived - lost);
  const concealed = v.concealed ?? 0;
  return {
    sent, arrived, late, lost, inFlight, concealed,
    lostOnLink: Math.max(0, lost - dropped), // lost though the simulation let it through
    concealedLost: Math.max(0, concealed - late),
  };
}
