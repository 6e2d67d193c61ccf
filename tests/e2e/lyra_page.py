"""Driving the Speech tab from Python (shared by the e2e tests and the soak bench)."""

from __future__ import annotations


def set_loss(page, percent: float, burst: float = 1.0, seed: int = 1234) -> None:
    """Fix the loss pattern's seed and move the loss and burst sliders, as a user would."""
    page.evaluate(
        """([percent, burst, seed]) => {
            window.codeclab.lyra.seed = seed;
            for (const [id, value] of [['lyra-loss', percent], ['lyra-burst', burst]]) {
              const input = document.querySelector(`[data-testid="${id}"]`);
              input.value = String(value);
              input.dispatchEvent(new Event('input', {bubbles: true}));
            }
        }""",
        [percent, burst, seed],
    )
