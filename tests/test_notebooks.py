"""The study notebooks: each runs top to bottom in QUICK mode (papermill, as CI does) and writes
a results file with finite numbers; the committed copies follow notebooks/README.md (parameters
cell first, executed in full mode with figures, under 5 MB, results written by that run)."""

from __future__ import annotations

import datetime
from pathlib import Path

import nbformat
import pytest

from jetml.results import check_results

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
MAX_BYTES = 5 * 1024 * 1024
PLACEHOLDER = "The answer appears here"
PENDING_AT_SCALE: set[str] = set()
"""Notebooks whose full mode needs at-scale samples and models not yet produced (issue 16:
`make study-samples study-models`): committed from a QUICK run that says so in its answer.
Remove a name once its full-mode run is committed (the test below then insists on it)."""


@pytest.fixture(scope="module")
def quick_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One private sample cache for all QUICK runs (the notebooks share their samples)."""
    return tmp_path_factory.mktemp("notebook_cache")


def _code_cells(notebook: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def _outputs(notebook: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [output for cell in _code_cells(notebook) for output in cell.get("outputs", [])]


def _answer_text(notebook: nbformat.NotebookNode) -> str:
    """The first markdown output: the answer display near the top."""
    texts = [
        output["data"]["text/markdown"]
        for output in _outputs(notebook)
        if "text/markdown" in output.get("data", {})
    ]
    return texts[0] if texts else ""


def _answer_filled(notebook: nbformat.NotebookNode) -> bool:
    """The answer display near the top was updated with the run's numbers."""
    text = _answer_text(notebook)
    return text.startswith("**Answer.**") and PLACEHOLDER not in text


def test_there_are_numbered_notebooks() -> None:
    assert {"00_", "01_", "02_", "03_", "04_", "05_"} <= {p.name[:3] for p in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_in_quick_mode(
    path: Path, tmp_path: Path, quick_cache: Path, monkeypatch
) -> None:
    import papermill

    monkeypatch.setenv("JETML_CACHE", str(quick_cache))
    results = tmp_path / "results"
    executed = tmp_path / path.name
    papermill.execute_notebook(
        str(path),
        str(executed),
        parameters={"QUICK": True, "RESULTS_DIR": str(results)},
        cwd=str(NOTEBOOK_DIR),
        progress_bar=False,
    )
    record = check_results(results / f"{path.stem}.json")
    assert record["notebook"] == path.stem
    assert record["parameters"]["QUICK"] is True
    notebook = nbformat.read(executed, as_version=4)
    assert not [o for o in _outputs(notebook) if o.output_type == "error"]
    assert _answer_filled(notebook)
    assert any("image/png" in o.get("data", {}) for o in _outputs(notebook))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_notebook_follows_the_conventions(path: Path) -> None:
    assert path.stat().st_size < MAX_BYTES
    notebook = nbformat.read(path, as_version=4)
    first = _code_cells(notebook)[0]
    assert "parameters" in first.metadata.get("tags", [])
    assert "QUICK = False" in first.source and "RESULTS_DIR" in first.source
    # executed top to bottom in one run, with figures, without errors
    counts = [cell.execution_count for cell in _code_cells(notebook)]
    assert counts == list(range(1, len(counts) + 1))
    assert any("image/png" in o.get("data", {}) for o in _outputs(notebook))
    assert not [o for o in _outputs(notebook) if o.output_type == "error"]
    assert _answer_filled(notebook)
    # its results file was written by that run (full mode unless PENDING_AT_SCALE)
    record = check_results(NOTEBOOK_DIR / "results" / f"{path.stem}.json")
    quick = path.stem in PENDING_AT_SCALE
    assert record["parameters"]["QUICK"] is quick
    # a QUICK-committed notebook's answer says so plainly, and that the at-scale run is pending
    if quick:
        answer = _answer_text(notebook)
        assert "QUICK-mode run" in answer and "at-scale run is pending" in answer
    run = notebook.metadata["papermill"]
    written = datetime.datetime.fromisoformat(record["created_utc"])
    start = datetime.datetime.fromisoformat(run["start_time"]).replace(tzinfo=datetime.UTC)
    end = datetime.datetime.fromisoformat(run["end_time"]).replace(tzinfo=datetime.UTC)
    assert start - datetime.timedelta(seconds=1) <= written <= end


def test_quick_committed_names_existing_notebooks() -> None:
    assert {path.stem for path in NOTEBOOKS} >= PENDING_AT_SCALE


def test_every_results_file_belongs_to_a_notebook() -> None:
    stems = {path.stem for path in NOTEBOOKS}
    assert {p.stem for p in (NOTEBOOK_DIR / "results").glob("*.json")} <= stems
