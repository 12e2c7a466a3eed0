"""Every notebook in ``notebooks/`` runs top to bottom (small data) and is stored without outputs.

Notebooks run in a real Jupyter kernel through ``nbclient`` (what ``jupyter nbconvert
--execute`` uses). They read their sizes from environment variables, set small here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SMALL = {
    "TALENTML_NOTEBOOK_EMPLOYEES": "200",
    "TALENTML_NOTEBOOK_IMPACT_EMPLOYEES": "1500",
    "TALENTML_SHOW_PROGRESS": "0",
}


def test_there_are_notebooks() -> None:
    assert NOTEBOOKS, "notebooks/ holds no notebook"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_stored_without_outputs(path: Path) -> None:
    import nbformat

    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:80]


# A notebook walks the whole loop (simulate, ingest, features, models): about a minute.
@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")  # silence jupyter_core's path warning
    for key, value in SMALL.items():
        monkeypatch.setenv(key, value)
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=900,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    errors = [
        out
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.output_type == "error"
    ]
    assert not errors
    # figures render (the inline backend of a real Jupyter session)
    images = [
        out
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if "image/png" in out.get("data", {})
    ]
    assert images
    assert all(cell.execution_count is not None for cell in nb.cells if cell.cell_type == "code")
