"""Shared fixtures: simulated organizations and the path of the shared real data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"

os.environ.setdefault("TALENTML_SHOW_PROGRESS", "0")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` relative to the repository root (real third-party data)."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"the shared data folder is missing: {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def org():
    """A 2,000-employee organization over three years with the default effects."""
    from talentml.datasets import simulate_workforce

    return simulate_workforce(n_employees=2_000, random_state=0, show_progress=False)


@pytest.fixture(scope="session")
def org_null():
    """The same organization size with every effect switched off."""
    from talentml.datasets import Effects, simulate_workforce

    return simulate_workforce(
        n_employees=2_000, random_state=1, effects=Effects.none(), show_progress=False
    )
