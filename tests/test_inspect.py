"""``jetml inspect`` on the real CMS files, checked against numbers read with uproot alone."""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import uproot

from jetml.cli import main
from jetml.errors import InputFileError
from jetml.inspect import summarize

REAL_FILES = {
    "pfnano.root": ("PFNanoAODSchema", 10),
    "nano_tt_v15.root": ("NanoAODSchema", 200),
    "nano_dy.root": ("NanoAODSchema", 40),
    "nano_dy_empty.root": ("NanoAODSchema", 0),
}


def _uproot_means(path: Path, names: list[str]) -> dict[str, float]:
    tree = uproot.open(path)["Events"]
    counts = tree.arrays([f"n{name}" for name in names], library="np")
    return {
        name: (counts[f"n{name}"].sum() / tree.num_entries if tree.num_entries else math.nan)
        for name in names
    }


@pytest.mark.parametrize("filename", sorted(REAL_FILES))
def test_summary_matches_uproot(cms_nano: Path, filename: str) -> None:
    path = cms_nano / filename
    schema, n_events = REAL_FILES[filename]
    summary = summarize(path)
    assert summary.schema == schema
    assert summary.events == n_events == uproot.open(path)["Events"].num_entries
    expected = _uproot_means(path, ["Jet", "FatJet", "Muon", "Electron", "Tau", "GenPart"])
    for name, mean in expected.items():
        if math.isnan(mean):
            assert math.isnan(summary.collections[name])
        else:
            assert summary.collections[name] == pytest.approx(mean, rel=1e-12)


def test_pfnano_tagger_groups(cms_nano: Path) -> None:
    path = cms_nano / "pfnano.root"
    groups = {group.name: group for group in summarize(path).groups}
    tree = uproot.open(path)["Events"]
    n = tree.arrays(["nFatJet", "nFatJetPFCands", "nJet", "nJetSVs"], library="np")
    assert all(group.available for group in groups.values())
    assert groups["PF candidates per AK8 jet"].mean_per_owner == pytest.approx(
        n["nFatJetPFCands"].sum() / n["nFatJet"].sum()
    )
    assert groups["SVs per AK4 jet"].mean_per_owner == pytest.approx(
        n["nJetSVs"].sum() / n["nJet"].sum()
    )
    # An AK8 jet in this boosted sample has tens of PF candidates.
    assert 20 < groups["PF candidates per AK8 jet"].mean_per_owner < 200


def test_nano_v15_has_no_pf_track_inputs(cms_nano: Path) -> None:
    groups = {group.name: group for group in summarize(cms_nano / "nano_tt_v15.root").groups}
    assert not groups["PF candidates per AK8 jet"].available
    assert "PFCands_d0" in groups["PF candidates per AK8 jet"].missing_branches
    assert groups["taus"].available and groups["muons"].available


def test_cli_prints_table(cms_nano: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = [str(cms_nano / "pfnano.root"), str(cms_nano / "nano_dy_empty.root")]
    assert main(["inspect", *files]) == 0
    out = capsys.readouterr().out
    assert "10 events" in out and "0 events" in out
    assert "PF candidates per AK8 jet" in out and "FatJetPFCands" in out


# --- bad input: one line naming the file and the cause, exit code 2 ---------------------------


def _cut_copy(source: Path, destination: Path, fraction: float) -> Path:
    data = source.read_bytes()
    destination.write_bytes(data[: int(len(data) * fraction)])
    return destination


@pytest.fixture
def truncated_half(cms_nano: Path, tmp_path: Path) -> Path:
    """Cut in the middle: uproot itself fails while reading the directory."""
    return _cut_copy(cms_nano / "pfnano.root", tmp_path / "half.root", 0.5)


@pytest.fixture
def truncated_end(cms_nano: Path, tmp_path: Path) -> Path:
    """Cut in the last kilobytes: uproot alone still opens and reads this file."""
    return _cut_copy(cms_nano / "pfnano.root", tmp_path / "end.root", 0.9995)


@pytest.fixture
def no_events_file(tmp_path: Path) -> Path:
    path = tmp_path / "no_events.root"
    with uproot.recreate(path) as out:
        out.mktree("Runs", {"genEventCount": np.int64}).extend(
            {"genEventCount": np.array([10], dtype=np.int64)}
        )
    return path


@pytest.fixture
def text_file(tmp_path: Path) -> Path:
    path = tmp_path / "notes.root"
    path.write_text("these are not ROOT bytes\n")
    return path


@pytest.mark.parametrize(
    ("fixture", "cause"),
    [
        ("missing", "no such file"),
        ("text_file", "not a ROOT file"),
        ("truncated_half", "truncated ROOT file"),
        ("truncated_end", "truncated ROOT file"),
        ("no_events_file", "no 'Events' TTree or RNTuple (contents: Runs [TTree])"),
    ],
)
def test_bad_input_one_line_exit_2(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    fixture: str,
    cause: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "absent.root" if fixture == "missing" else request.getfixturevalue(fixture)
    with pytest.raises(InputFileError, match=re.escape(cause)):
        summarize(path)
    assert main(["inspect", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert str(path) in err and cause in err
    assert "Traceback" not in err


def test_debug_shows_traceback(tmp_path: Path) -> None:
    path = tmp_path / "absent.root"
    result = subprocess.run(
        [sys.executable, "-m", "jetml.cli", "--debug", "inspect", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "Traceback" in result.stderr and "InputFileError" in result.stderr
