"""Render docs/img/nine_box.png: the 9-box grid with its personas, on an illustrative population.

Run from the repository root: ``python docs/scripts/make_nine_box_figure.py``. The population
is synthetic (seeded): 1,000 people with 1-5 review ratings, a potential probability and a
learning-agility score, placed by :func:`talentml.models.nine_box` with the default terciles.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from talentml.models import nine_box, plot_nine_box

OUT = Path(__file__).resolve().parents[1] / "img" / "nine_box.png"


def main() -> Path:
    rng = np.random.default_rng(0)
    n = 1_000
    latent = rng.normal(size=n)
    X = pd.DataFrame(
        {
            "rating_latest": np.clip(np.round(3.2 + 0.8 * latent + 0.6 * rng.normal(size=n)), 1, 5),
            "agility_standard_365d": rng.gamma(2.0, 1.0 + 0.3 * (latent > 0), n),
        }
    )
    potential = 1 / (1 + np.exp(-(-2.0 + 0.9 * latent + 0.5 * rng.normal(size=n))))
    grid = nine_box(X, potential=potential)
    ax = plot_nine_box(grid, title="9-box on an illustrative population (n = 1,000)")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    ax.figure.savefig(OUT, dpi=110, bbox_inches="tight")
    return OUT


if __name__ == "__main__":
    main()
