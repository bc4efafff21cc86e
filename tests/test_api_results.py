"""Results files of the notebooks: written atomically with provenance, refused when a number is
not finite; ``check_results`` (what CI runs on every notebook's output) names the problem."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import jetml
from jetml.results import check_results, machine_info, write_results

PROVENANCE = {
    "samples": {"qcd": {"events": 100, "seed": 1}},
    "seeds": {"bootstrap": 3},
    "parameters": {"QUICK": True},
}


def test_round_trip_records_provenance(tmp_path: Path) -> None:
    numbers = {"auc": np.float32(0.9), "rejection": {"value": 12.5, "n": np.int64(300)}}
    path = write_results("00_x", numbers, results_dir=tmp_path, wall_seconds=3.5, **PROVENANCE)
    assert path == tmp_path / "00_x.json"
    record = check_results(path)
    assert record["results"]["auc"] == pytest.approx(0.9)
    assert record["results"]["rejection"]["n"] == 300
    assert record["jetml_version"] == jetml.__version__
    assert record["samples"] == PROVENANCE["samples"] and record["seeds"] == {"bootstrap": 3}
    assert record["wall_seconds"] == 3.5
    assert record["machine"]["logical_cores"] >= 1 and record["machine"]["cpu"]
    assert list(tmp_path.iterdir()) == [path]  # no partial file left


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), None, np.float64("nan")])
def test_non_finite_numbers_are_refused_and_nothing_written(tmp_path: Path, bad) -> None:
    with pytest.raises(ValueError, match=r"00_x: results not finite: results\.a\.b"):
        write_results("00_x", {"a": {"b": bad}}, results_dir=tmp_path, **PROVENANCE)
    assert list(tmp_path.iterdir()) == []


def test_check_results_names_the_problem(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no results file"):
        check_results(tmp_path / "missing.json")
    path = tmp_path / "r.json"
    path.write_text("{")
    with pytest.raises(ValueError, match="not JSON"):
        check_results(path)
    path.write_text(json.dumps({"notebook": "r", "results": {"a": 1}}))
    with pytest.raises(ValueError, match="lacks jetml_version, samples, seeds, parameters"):
        check_results(path)
    record = {"notebook": "r", "jetml_version": "0", "samples": {}, "seeds": {},
              "parameters": {}}  # fmt: skip
    path.write_text(json.dumps({**record, "results": {"note": "text only"}}))
    with pytest.raises(ValueError, match="hold no number"):
        check_results(path)
    path.write_text(json.dumps({**record, "results": {"x": [1.0, float("inf")]}}))
    with pytest.raises(ValueError, match=r"not finite: results\.x\[1\] = inf"):
        check_results(path)


def test_machine_info_names_the_cpu() -> None:
    info = machine_info()
    assert set(info) >= {"cpu", "logical_cores", "usable_cores", "python"}
    assert 1 <= info["usable_cores"] <= info["logical_cores"]
