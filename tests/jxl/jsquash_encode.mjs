// Encodes raw RGBA with @jsquash/jxl (libjxl in wasm, the page's encoder) for the Python tests:
//   node jsquash_encode.mjs RAW_RGBA WIDTH HEIGHT OUT.jxl '{"progressive":true,...}'
// Run from the repository root (node_modules/@jsquash/jxl).
import { readFileSync, writeFileSync } from 'node:fs';
const [,, raw, w, h, out, opts] = process.argv;
const root = process.cwd() + '/node_modules/@jsquash/jxl/';
const { default: encode, init } = await import(root + 'encode.js');
const wasm = readFileSync(root + 'codec/enc/jxl_enc.wasm');
await init(await WebAssembly.compile(wasm));
const data = new Uint8ClampedArray(readFileSync(raw));
const buf = await encode({ data, width: +w, height: +h, colorSpace: 'srgb' }, JSON.parse(opts));
writeFileSync(out, Buffer.from(buf));
