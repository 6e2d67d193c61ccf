// Drives Firefox over WebDriver BiDi (puppeteer-core) for the Python engine tests (tests/engines/driver.py).
//
// Python has no BiDi client that can start a stock Firefox without geckodriver, which Debian does not
// ship; puppeteer-core can. One JSON command per stdin line, one JSON answer per stdout line:
//   {"op": "goto", "url"} | {"op": "evaluate", "script", "arg"} | {"op": "waitFor", "script", "arg", "timeoutMs"}
//   | {"op": "upload", "selector", "paths"} | {"op": "click", "selector"} | {"op": "errors"} | {"op": "close"}
// answered by {"ok": value} or {"error": message}. `script` is a function's source, called with `arg`.
import { createInterface } from "node:readline";
import puppeteer from "puppeteer-core";

const [executablePath, profilePrefs] = [process.argv[2], JSON.parse(process.argv[3] || "{}")];
// With a display (DISPLAY set: Xvfb) Firefox runs headed, where its WebGL works on Mesa's software rasteriser.
const headless = !process.env.DISPLAY;
const browser = await puppeteer.launch({
  browser: "firefox", executablePath, headless, protocol: "webDriverBiDi",
  extraPrefsFirefox: profilePrefs, args: ["--no-remote"],
});
const page = await browser.newPage();
await page.setViewport({ width: 1280, height: 900 });
const errors = [];
page.on("console", (message) => { if (message.type() === "error") errors.push(message.text()); });
page.on("pageerror", (error) => errors.push(`pageerror: ${error.message || error}`));

const call = (script, arg) => `(${script})(${JSON.stringify(arg ?? null)})`;

const ops = {
  goto: ({ url }) => page.goto(url, { waitUntil: "load", timeout: 60_000 }).then(() => null),
  evaluate: ({ script, arg }) => page.evaluate(call(script, arg)),
  waitFor: ({ script, arg, timeoutMs }) =>
    page.waitForFunction(call(script, arg), { timeout: timeoutMs, polling: 200 }).then((handle) => handle.jsonValue()),
  upload: async ({ selector, paths }) => { const input = await page.$(selector); await input.uploadFile(...paths); return null; },
  click: ({ selector }) => page.click(selector).then(() => null),
  errors: () => errors.splice(0),
  close: async () => { await browser.close(); process.exit(0); },
};

const reply = (answer) => process.stdout.write(`${JSON.stringify(answer)}\n`);
reply({ ok: { version: await browser.version() } });
for await (const line of createInterface({ input: process.stdin })) {
  const command = JSON.parse(line);
  try {
    reply({ ok: (await ops[command.op](command)) ?? null });
  } catch (err) {
    reply({ error: String(err?.message || err) });
  }
}
await browser.close();
