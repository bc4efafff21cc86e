"""Deployment needs no torch: every shipped tagger runs without the ``train`` extra."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import uproot

from jetml.taggers.registry import REGISTERED, resolve_taggers


def test_every_shipped_tagger_runs_without_torch(cms_nano: Path, tmp_path: Path) -> None:
    # A child interpreter in which importing torch fails, as in an install without `train`.
    args = ["run", str(cms_nano / "pfnano.root"), "--taggers", "all", "--executor", "iterative"]
    args += ["--no-progress", "--no-plots", "--out", str(tmp_path / "out")]
    code = (
        "import sys\n"
        "sys.modules['torch'] = None\n"
        "from jetml.cli import main\n"
        f"sys.exit(main({args!r}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    timing = json.loads((tmp_path / "out" / "timing.json").read_text())
    rows = {row["tagger"]: row["jets"] for row in timing["taggers"]}
    assert set(rows) == set(REGISTERED)
    # Every tagger evaluated real objects, except where the file has none of its collection
    # (pfnano.root holds no taus).
    events = uproot.open(cms_nano / "pfnano.root")["Events"]
    for tagger in resolve_taggers("all"):
        present = int(events[f"n{tagger.collection}"].array(library="np").sum())
        assert (rows[tagger.name] > 0) == (present > 0), tagger.name
