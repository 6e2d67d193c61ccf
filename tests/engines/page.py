"""The page as any engine sees it (a driver.Engine): boot to `ready`, give a tool a file and read the
result it publishes. Shared by the engine tests (scenarios.py) and the per-engine benchmark
(tests/bench/bench_engines.py); no pytest here."""

from __future__ import annotations

import json
import subprocess
import wave
from pathlib import Path

from tests.engines.driver import EngineError

BOOT_TIMEOUT_S = 300  # a cold Pyodide boot on two loaded cores, in the slowest engine
TOOL_TIMEOUT_S = 240

READY = "() => ['ready', 'error'].includes(document.documentElement.dataset.state) && document.documentElement.dataset.state"
RESULT = "id => { const n = document.querySelector(`[data-testid=\"${id}\"]`); return (n && n.dataset.result) || null; }"
SHOWN_ERROR = """ids => { for (const id of ids) { const n = document.querySelector(`[data-testid="${id}"]`);
  if (n && !n.hidden && n.textContent.trim()) return `${id}: ${n.textContent.trim()}`; } return null; }"""


class ToolError(EngineError):
    """A tool showed an error instead of a result (the message is the page's own text)."""


def boot(engine, timeout_s: float = BOOT_TIMEOUT_S) -> str:
    """Wait for the page to reach `ready` (or `error`); the state it reached."""
    engine.wait_for(READY, timeout_s=timeout_s, what="the page to boot")
    return engine.evaluate("() => document.documentElement.dataset.state")


def open_tab(engine, tool: str, timeout_s: float = 60.0) -> None:
    """Open `tool`'s tab and wait until its panel is mounted (a tool's module loads when its tab first opens)."""
    engine.click(f'[data-testid="tab-{tool}"]')
    engine.wait_for("sel => Boolean(document.querySelector(sel))", f'[data-testid="{tool}-input"]',
                    timeout_s=timeout_s, what=f"{tool}'s panel to mount")


def drop(engine, tool: str, path: Path, result_id: str | None = None, timeout_s: float = TOOL_TIMEOUT_S) -> dict:
    """Open `tool`'s tab, give `path` to its file input, and return the data-result it sets (ToolError
    with the text the page shows when it shows an error instead)."""
    result_id = result_id or f"{tool}-result"
    open_tab(engine, tool)
    engine.evaluate("id => { const n = document.querySelector(`[data-testid=\"${id}\"]`); if (n) delete n.dataset.result; }",
                    result_id)
    engine.upload(f'[data-testid="{tool}-input"]', [path])
    outcome = engine.wait_for(
        f"""([id, errors]) => ({RESULT})(id) || ({SHOWN_ERROR})(errors) && {{ error: ({SHOWN_ERROR})(errors) }}""",
        [result_id, [f"{tool}-error"]], timeout_s=timeout_s, what=f"{tool}'s result for {path.name}")
    if isinstance(outcome, dict):
        raise ToolError(f"{engine.name}: {tool} showed an error for {path.name}: {outcome['error']}")
    return json.loads(outcome)


def speech_clip(source: Path, seconds: float, path: Path) -> Path:
    """The first `seconds` of the WAV `source`, written to `path`."""
    with wave.open(str(source)) as read:
        params = read.getparams()
        frames = read.readframes(int(seconds * params.framerate))
    with wave.open(str(path), "wb") as out:
        out.setparams(params)
        out.writeframes(frames)
    return path


def photo_jxl(cjxl: str, folder: Path) -> Path:
    """A 900×700 photo (scikit-image's astronaut) as an ordinary cjxl file, `folder`/astronaut.jxl."""
    from PIL import Image
    from skimage import data

    Image.fromarray(data.astronaut()).resize((900, 700), Image.Resampling.LANCZOS).save(folder / "astronaut.png")
    subprocess.run([cjxl, str(folder / "astronaut.png"), str(folder / "astronaut.jxl"), "-d", "1.5", "-e", "3", "--quiet"],
                   check=True, capture_output=True)
    return folder / "astronaut.jxl"
