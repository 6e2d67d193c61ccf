from __future__ import annotations

import numpy as np
import pytest

from codeclab.lyra.errors import LyraError
from codeclab.lyra.gilbert import GilbertModel


def bursts(received: np.ndarray) -> list[int]:
    lengths, run = [], 0
    for ok in received:
        if not ok:
            run += 1
        elif run:
            lengths.append(run)
            run = 0
    return lengths


@pytest.mark.parametrize("rate,burst", [(0.1, 1.0), (0.1, 3.0), (0.3, 2.0), (0.5, 5.0)])
def test_loss_rate_and_burst_length(rate, burst):
    received = GilbertModel(rate, burst, seed=7).pattern(100_000)
    assert abs((~received).mean() - rate) < 0.01
    assert abs(np.mean(bursts(received)) - burst) < 0.05 * burst + 0.02


def test_transition_probabilities_like_upstream():
    model = GilbertModel(0.2, 4.0)
    assert model.received_to_lost == pytest.approx(0.2 / (4.0 * 0.8))
    assert model.lost_to_received == pytest.approx(0.25)


def test_seeded_and_first_packet_received():
    a = GilbertModel(0.3, 2.0, seed=3).pattern(500)
    b = GilbertModel(0.3, 2.0, seed=3).pattern(500)
    np.testing.assert_array_equal(a, b)
    assert a[0]
    assert not np.array_equal(a, GilbertModel(0.3, 2.0, seed=4).pattern(500))
    assert GilbertModel(0.0, 1.0, seed=1).pattern(1000).all()


@pytest.mark.parametrize("rate,burst", [(0.1, 0.5), (-0.1, 1.0), (0.6, 1.0)])
def test_invalid_parameters(rate, burst):
    with pytest.raises(LyraError):
        GilbertModel(rate, burst)


def node_executable() -> str:
    import shutil

    from tests.needs import missing

    node = shutil.which("node")
    if node is None:
        missing("node not found: the page's loss model is checked against Python's with Node.js")
    return node


def test_page_port_drops_exactly_the_same_packets(repo_root, tmp_path):
    """web/tools/lyra/gilbert.js and GilbertModel: same seed and parameters, same pattern, draw for draw."""
    import json
    import subprocess

    cases = [(0.0, 1.0, 1), (0.1, 1.0, 1234), (0.2, 3.0, 7), (0.3, 2.0, 2**32 - 1), (0.5, 1.0, 0), (0.75, 8.0, 99)]
    script = tmp_path / "patterns.mjs"
    script.write_text(
        "import { GilbertElliott } from " + json.dumps((repo_root / "web" / "tools" / "lyra" / "gilbert.js").as_uri()) + ";\n"
        "const cases = JSON.parse(process.argv[2]);\n"
        "const out = cases.map(([rate, burst, seed]) => {\n"
        "  const model = new GilbertElliott({ lossRate: rate, meanBurst: burst, seed });\n"
        "  const first = Array.from({ length: 3000 }, () => (model.isPacketReceived() ? 1 : 0));\n"
        "  model.configure({ lossRate: 0.25, meanBurst: 2 });  // changed mid-stream, as the page's slider does\n"
        "  return first.concat(Array.from({ length: 1000 }, () => (model.isPacketReceived() ? 1 : 0)));\n"
        "});\n"
        "let error = '';\n"
        "try { new GilbertElliott({ lossRate: 0.6, meanBurst: 1 }); } catch (e) { error = e.constructor.name; }\n"
        "console.log(JSON.stringify({ out, error }));\n"
    )
    result = subprocess.run([node_executable(), str(script), json.dumps(cases)], capture_output=True, text=True, check=True)
    page = json.loads(result.stdout)
    for (rate, burst, seed), pattern in zip(cases, page["out"]):
        model = GilbertModel(rate, burst, seed=seed)
        first = model.pattern(3000)
        model.configure(0.25, 2.0)
        expected = np.concatenate([first, model.pattern(1000)]).astype(int).tolist()
        assert pattern == expected, (rate, burst, seed)
    assert page["error"] == "RangeError"  # the page refuses what Python refuses
