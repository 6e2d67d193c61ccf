"""One small driver interface over two engines: Firefox ESR (WebDriver BiDi via puppeteer-core) and
WebKitGTK (WebKitWebDriver + MiniBrowser via Selenium, on a private Xvfb display).

Both answer the same five calls (goto, evaluate, wait_for, upload, click) so that one scenario list
(scenarios.py) runs in each. ``evaluate`` takes a JavaScript function's source and one JSON argument,
and awaits what it returns.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]

FIREFOX = os.environ.get("FIREFOX", "/usr/bin/firefox-esr")
WEBKIT_DRIVER = os.environ.get("WEBKIT_DRIVER", "/usr/bin/WebKitWebDriver")
MINIBROWSER_PLACES = ("/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser", "/usr/lib/aarch64-linux-gnu/webkit2gtk-4.1/MiniBrowser",
                      "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.0/MiniBrowser", "/usr/lib/aarch64-linux-gnu/webkit2gtk-4.0/MiniBrowser")

# A test profile: stock settings but no phoning home (the tests check every request) and WebGL on the
# software rasteriser of a GPU-less machine. Sound stays gated on a click, as for any visitor.
FIREFOX_PREFS = {
    "webgl.force-enabled": True,
    "browser.shell.checkDefaultBrowser": False,
    "app.update.disabledForTesting": True,
    "datareporting.policy.dataSubmissionEnabled": False,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "browser.safebrowsing.update.enabled": False,
    "extensions.update.enabled": False,
}


class EngineError(RuntimeError):
    """A command failed in the page or in the driver (its message is the page's or the driver's)."""


class Engine:
    name = "engine"
    version = ""

    def goto(self, url: str) -> None: raise NotImplementedError
    def evaluate(self, script: str, arg=None): raise NotImplementedError
    def upload(self, selector: str, paths: list[Path]) -> None: raise NotImplementedError
    def close(self) -> None: raise NotImplementedError

    def click(self, selector: str) -> None:
        """A real (trusted) click, which also counts as the user gesture that lets a page play sound."""
        raise NotImplementedError

    def wait_for(self, script: str, arg=None, timeout_s: float = 120.0, what: str = ""):
        """Poll `script(arg)` until it returns something truthy; that value, or EngineError after timeout_s."""
        deadline = time.monotonic() + timeout_s
        while True:
            value = self.evaluate(script, arg)
            if value:
                return value
            if time.monotonic() > deadline:
                raise EngineError(f"{self.name}: timed out after {timeout_s:.0f} s waiting for {what or script}")
            time.sleep(0.25)


class ChromiumEngine(Engine):
    """Chromium as the Chromium suite drives it (a Playwright Browser, headless): a fresh context (an empty
    profile) and one page in it, behind the same calls as the other engines."""

    name = "chromium"

    def __init__(self, browser):
        self.context = browser.new_context()
        self.page = self.context.new_page()
        self.version = browser.version

    def goto(self, url: str) -> None:
        self.page.goto(url)

    def evaluate(self, script: str, arg=None):
        try:
            return self.page.evaluate(script, arg)
        except Exception as err:  # Playwright's own error type; the page's message is kept
            raise EngineError(f"chromium: {err}") from err

    def upload(self, selector: str, paths: list[Path]) -> None:
        self.page.set_input_files(selector, [str(p) for p in paths])

    def click(self, selector: str) -> None:
        self.page.click(selector)

    def close(self) -> None:
        self.context.close()


def firefox_missing() -> str | None:
    if not Path(FIREFOX).exists():
        return f"Firefox not found at {FIREFOX}: apt-get install firefox-esr, or set FIREFOX"
    if shutil.which("Xvfb") is None:
        return "Xvfb not found (Firefox's WebGL needs a display here): apt-get install xvfb"
    if shutil.which("node") is None:
        return "node not found (the Firefox driver is npm puppeteer-core)"
    if not (REPO / "node_modules" / "puppeteer-core" / "package.json").exists():
        return "npm puppeteer-core is not installed: npm ci"
    return None


class FirefoxEngine(Engine):
    """Firefox ESR through tests/engines/firefox-bridge.mjs, headed on its own Xvfb: headless Firefox
    finds no GL driver on a GPU-less machine (no WebGL), headed it uses Mesa's software one."""

    name = "firefox"

    def __init__(self, env: dict[str, str] | None = None):
        self.xvfb = Xvfb()
        self.log = tempfile.TemporaryFile(mode="w+")  # the driver's stderr, quoted when it ends
        self.process = subprocess.Popen(
            ["node", str(HERE / "firefox-bridge.mjs"), FIREFOX, json.dumps(FIREFOX_PREFS)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True, cwd=REPO,
            env=dict(os.environ, **(env or {}), DISPLAY=self.xvfb.display))
        try:
            self.version = self._answer()["version"]
        except EngineError:
            self.close()
            raise

    def _answer(self):
        line = self.process.stdout.readline()
        if not line:
            self.log.seek(0)
            raise EngineError(f"firefox driver ended: {self.log.read()[-2000:]}")
        answer = json.loads(line)
        if "error" in answer:
            raise EngineError(f"firefox: {answer['error']}")
        return answer["ok"]

    def _send(self, **command):
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        return self._answer()

    def goto(self, url: str) -> None:
        self._send(op="goto", url=url)

    def evaluate(self, script: str, arg=None):
        return self._send(op="evaluate", script=script, arg=arg)

    def upload(self, selector: str, paths: list[Path]) -> None:
        self._send(op="upload", selector=selector, paths=[str(p) for p in paths])

    def click(self, selector: str) -> None:
        self._send(op="click", selector=selector)

    def page_errors(self) -> list[str]:
        return self._send(op="errors")

    def _ask_to_close(self) -> None:
        try:
            self._send(op="close")
        except (EngineError, BrokenPipeError, ValueError):
            pass

    def close(self) -> None:
        stop(self.process, ask=self._ask_to_close, timeout_s=20)
        self.log.close()
        self.xvfb.close()


def minibrowser_path() -> str | None:
    if os.environ.get("WEBKIT_BROWSER"):
        return os.environ["WEBKIT_BROWSER"]
    return next((p for p in MINIBROWSER_PLACES if Path(p).exists()), None)


def webkit_missing() -> str | None:
    if not Path(WEBKIT_DRIVER).exists():
        return f"WebKitWebDriver not found at {WEBKIT_DRIVER}: apt-get install webkit2gtk-driver, or set WEBKIT_DRIVER"
    if minibrowser_path() is None:
        return f"WebKitGTK's MiniBrowser not found in {', '.join(MINIBROWSER_PLACES)}: set WEBKIT_BROWSER"
    if shutil.which("Xvfb") is None:
        return "Xvfb not found (MiniBrowser needs a display): apt-get install xvfb"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "Python selenium is not installed: pip install -r requirements-dev.txt"
    return None


def sound_server_missing() -> str | None:
    if shutil.which("pulseaudio") is None:
        return "pulseaudio not found (the engines play sound only through a sound server): apt-get install pulseaudio"
    return None


def stop(process: subprocess.Popen, ask=None, timeout_s: float = 10) -> None:
    """End a helper process: asked first (``ask``; by default SIGTERM), killed if it has not ended in time."""
    if process.poll() is None:
        (ask or process.terminate)()
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class NullSoundServer:
    """A private PulseAudio whose only output is a null sink, clocked in real time like a sound card.

    A machine without a sound device leaves Firefox's and WebKit's AudioContext suspended (resume()
    never settles), so the Lyra stream's player would never run; a visitor's computer has a device.
    """

    def __init__(self, folder: Path):
        self.socket = folder / "native"
        self.process = subprocess.Popen(
            ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=no", "--log-target=stderr",
             "-L", "module-null-sink sink_name=silence", "-L", f"module-native-protocol-unix socket={self.socket} auth-anonymous=1"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ, HOME=str(folder)))
        deadline = time.monotonic() + 20
        while not self.socket.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise EngineError("pulseaudio did not start")
            time.sleep(0.1)
        self.env = {"PULSE_SERVER": f"unix:{self.socket}"}

    def close(self) -> None:
        stop(self.process)


class Xvfb:
    """A private X display for MiniBrowser (-displayfd: the server picks a free display and says which)."""

    def __init__(self):
        read, write = os.pipe()
        self.process = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
                                        pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(write)
        with os.fdopen(read) as pipe:
            number = pipe.readline().strip()
        if not number:
            self.process.kill()
            raise EngineError("Xvfb did not start")
        self.display = f":{number}"

    def close(self) -> None:
        stop(self.process)


# Calls the function source (pasted into the script WebKitWebDriver runs: the page's CSP forbids eval, not
# the driver's own scripts) with its argument and hands back {ok} or {error}, never throwing (Selenium would
# lose a rejected promise's message).
ASYNC_CALL = """
const [arg, done] = arguments;
Promise.resolve().then(() => (%s)(arg))
  .then(value => done({ ok: value === undefined ? null : value }), error => done({
    error: String(error && (error.message ? `${error.name}: ${error.message}\\n${error.stack}` : error.stack) || error) }));
"""


class WebKitEngine(Engine):
    """WebKitGTK's MiniBrowser, driven by WebKitWebDriver through Selenium, on its own Xvfb."""

    name = "webkit"

    def __init__(self, env: dict[str, str] | None = None):
        from selenium import webdriver
        from selenium.webdriver.webkitgtk.options import Options
        from selenium.webdriver.webkitgtk.service import Service

        self.xvfb = Xvfb()
        options = Options()
        options.binary_location = minibrowser_path()
        options.add_argument("--automation")
        service = Service(executable_path=WEBKIT_DRIVER, env=dict(os.environ, **(env or {}), DISPLAY=self.xvfb.display))
        try:
            self.driver = webdriver.WebKitGTK(options=options, service=service)
        except Exception:
            self.xvfb.close()
            raise
        self.driver.set_script_timeout(600)
        self.driver.set_window_size(1280, 900)
        self.version = self.driver.capabilities.get("browserVersion", "")

    def goto(self, url: str) -> None:
        self.driver.get(url)

    def evaluate(self, script: str, arg=None):
        answer = self.driver.execute_async_script(ASYNC_CALL % script, arg)
        if "error" in answer:
            raise EngineError(f"webkit: {answer['error']}")
        return answer["ok"]

    def upload(self, selector: str, paths: list[Path]) -> None:
        from selenium.webdriver.common.by import By

        self.driver.find_element(By.CSS_SELECTOR, selector).send_keys("\n".join(str(p) for p in paths))

    def click(self, selector: str) -> None:
        from selenium.webdriver.common.by import By

        self.driver.find_element(By.CSS_SELECTOR, selector).click()

    def page_errors(self) -> list[str]:
        return []  # WebKitWebDriver offers no console log; the page's own error lines are checked instead

    def close(self) -> None:
        try:
            self.driver.quit()
        finally:
            self.xvfb.close()
