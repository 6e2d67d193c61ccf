// What a dropped file is, from its first bytes, so every tab says the same plain sentence about a file it
// cannot take ("the file is empty", "this is a PDF document, not …") before any parser sees it. The
// technical tail (what the first bytes are) goes to `details`, which the page shows behind a disclosure.
// Common kinds are listed here; the formats a tool brings are declared in its manifest ("kinds" in
// tools/<id>/tool.json) and added by the page before any tool mounts (addKinds), so every tab names them.

const KINDS = [
  { kind: "png", label: "a PNG image", magic: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] },
  { kind: "jpeg", label: "a JPEG image", magic: [0xff, 0xd8, 0xff] },
  { kind: "gif", label: "a GIF image", magic: [0x47, 0x49, 0x46, 0x38] },
  { kind: "webp", label: "a WebP image", magic: [0x52, 0x49, 0x46, 0x46, null, null, null, null, 0x57, 0x45, 0x42, 0x50] },
  { kind: "wav", label: "a WAV sound file", magic: [0x52, 0x49, 0x46, 0x46, null, null, null, null, 0x57, 0x41, 0x56, 0x45] },
  { kind: "pdf", label: "a PDF document", magic: [0x25, 0x50, 0x44, 0x46, 0x2d] },
  { kind: "zip", label: "a ZIP archive (or an Office document)", magic: [0x50, 0x4b, 0x03, 0x04] },
  { kind: "bmp", label: "a BMP image", magic: [0x42, 0x4d] },
  { kind: "tiff", label: "a TIFF image", magic: [0x49, 0x49, 0x2a, 0x00] },
  { kind: "tiff", label: "a TIFF image", magic: [0x4d, 0x4d, 0x00, 0x2a] },
];
/** Add the kinds of a tool's manifest: {kind, label, magic: [[byte or null (any byte), ...], ...]}. */
export function addKinds(kinds) {
  for (const { kind, label, magic } of kinds) {
    for (const bytes of magic) if (!KINDS.some((k) => k.kind === kind && String(k.magic) === String(bytes))) KINDS.push({ kind, label, magic: bytes });
  }
}

// ISO BMFF brands (bytes 8-11 after "ftyp" at 4): images and videos that share the box format.
const BRANDS = { avif: "an AVIF image", avis: "an AVIF image sequence", heic: "a HEIC image", heix: "a HEIC image",
  mif1: "a HEIF image", isom: "an MP4 video", mp41: "an MP4 video", mp42: "an MP4 video", qt: "a QuickTime video" };

const matches = (bytes, magic) => bytes.length >= magic.length && magic.every((b, i) => b === null || bytes[i] === b);

/** {kind, label} of a file from its first bytes; kind null when it is none of the kinds codeclab names. */
export function fileKind(bytes) {
  if (bytes.length === 0) return { kind: "empty", label: "an empty file" };
  for (const k of KINDS) if (matches(bytes, k.magic)) return { kind: k.kind, label: k.label };
  if (bytes.length >= 12 && String.fromCharCode(...bytes.subarray(4, 8)) === "ftyp") {
    const brand = String.fromCharCode(...bytes.subarray(8, 12)).trim();
    if (BRANDS[brand]) return { kind: brand === "avif" || brand === "avis" ? "avif" : brand, label: BRANDS[brand] };
  }
  if (looksLikeText(bytes)) return { kind: "text", label: "a text file" };
  return { kind: null, label: null };
}

function looksLikeText(bytes) {
  const head = bytes.subarray(0, 512);
  for (const b of head) if (b < 0x09 || (b > 0x0d && b < 0x20 && b !== 0x1b)) return false;
  return true;
}

/** An error a panel shows (ui.showError): a plain sentence, and the file's first bytes as details. */
export class FileKindError extends Error {
  constructor(message, details) {
    super(message);
    this.details = details;
    this.expected = true;
  }
}

/**
 * Refuse, in the same words on every tab, a file that is empty or is a kind this tool does not take.
 * `takes`: the kinds the tool reads (e.g. ["png", "jpeg"]); `what`: how the tool names them
 * ("a PNG or JPEG image"). A file of no known kind is left to the tool's own parser.
 */
export function refuseUnlessTaken(bytes, { takes, what }) {
  const { kind, label } = fileKind(bytes);
  if (kind === "empty") throw new FileKindError("the file is empty", "0 bytes");
  if (kind && !takes.includes(kind)) {
    throw new FileKindError(`this is ${label}, not ${what}`, `its first bytes: ${firstBytes(bytes)}`);
  }
  return kind;
}

function firstBytes(bytes) {
  return [...bytes.subarray(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join(" ");
}
