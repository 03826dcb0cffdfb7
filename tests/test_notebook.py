"""The analyst notebook runs top to bottom against the embedded default warehouse (its own
cells assert that the recomputed index, selection and rank uncertainty equal the stored marts)."""
from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def test_notebook_is_the_generated_one():
    """reproduce_selection.ipynb is written by build_reproduce_selection.py: keep them in step."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("nbbuild", NOTEBOOKS / "build_reproduce_selection.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    on_disk = nbformat.read(NOTEBOOKS / "reproduce_selection.ipynb", as_version=4)
    assert [c.source for c in on_disk.cells] == [c.source for c in mod.build().cells]


@pytest.mark.slow
def test_reproduce_selection_notebook_runs(built_db, monkeypatch):
    monkeypatch.setenv("STYRKORT_DB", str(built_db))   # the kernel inherits the environment
    nb = nbformat.read(NOTEBOOKS / "reproduce_selection.ipynb", as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    text = "\n".join(
        (o.get("text") or "") + json.dumps(o.get("data", {}), ensure_ascii=False)
        for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert str(built_db) in text                                   # it read the given warehouse
    assert "recomputed index equals the stored one" in text
    assert "studien 2010" in text and "1, 2, 4, 5, 6, 23" in text   # Table 1 beside the study's
    assert "länsspridning: högst 1 per län" in text                 # the county step
    assert "example: better match of municipality type" in text     # the swap, with its reason
    assert "av 30 valda ligger i sin lista" in text                 # uncertainty of the 30
    assert not any(o.get("output_type") == "error" for c in nb.cells if c.cell_type == "code"
                   for o in c.get("outputs", []))
