"""``jetml demo`` and preset-name inputs of ``jetml run``, on a tiny generated mixed sample."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import uproot
from coffea.util import load

from jetml.cli import main
from jetml.processor.demo import DEMO_PRESETS, demo_fileset
from jetml.samples import GenerationRequest
from jetml.samples.cache import cached_path
from jetml.taggers.registry import REGISTERED, resolve_taggers

DEMO_EVENTS = 40  # 10 per preset
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def sample_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private sample cache holding the tiny demo samples (generated once per module)."""
    cache = tmp_path_factory.mktemp("jetml_cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JETML_CACHE", str(cache))
        demo_fileset(DEMO_EVENTS, jobs=2)
        yield cache


def _generation_request(path: Path) -> dict:
    with uproot.open(path) as file:
        return json.loads(str(file["jetml_generation"]))["request"]


def _check_histograms_match_cutflow(out: Path, taggers: list[str]) -> dict:
    """Every score histogram holds exactly the jets each tagger evaluated, per dataset."""
    hists = load(out / "hists.coffea")
    summary = json.loads((out / "summary.json").read_text())
    timing = json.loads((out / "timing.json").read_text())
    rows = {row["tagger"]: row for row in timing["taggers"]}
    assert sorted(rows) == sorted(taggers)
    for tagger in resolve_taggers(",".join(taggers)):
        total = 0
        for dataset, cutflow in summary["cutflow"].items():
            jets = cutflow[f"{tagger.name}: jets evaluated"]
            total += jets
            for score in tagger.score_names:
                for kind in ("", "_vs_mass"):
                    filled = hists[dataset][f"{tagger.name}_{score}{kind}"].sum(flow=True)
                    assert filled == jets, (tagger.name, score, kind, dataset)
        assert rows[tagger.name]["jets"] == total
        assert rows[tagger.name]["events"] == summary["processed_events"]
    return summary


def test_demo_runs_every_shipped_tagger_and_writes_outputs(
    sample_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files_before = sorted(sample_cache.glob("*.root"))
    out = tmp_path / "demo"
    code = main(
        [
            *("demo", "--events", str(DEMO_EVENTS), "--workers", "2", "--no-progress"),
            *("--no-plots", "--out", str(out)),
        ]
    )
    assert code == 0
    assert sorted(sample_cache.glob("*.root")) == files_before  # taken from the cache
    printed = capsys.readouterr().out
    table_rows = [line for line in printed.splitlines() if line.startswith("| ")]
    assert [row.split("|")[1].strip() for row in table_rows[1:]] == list(REGISTERED)
    assert (out / "timing.md").read_text().count("\n| ") == len(REGISTERED) + 1

    summary = _check_histograms_match_cutflow(out, list(REGISTERED))
    assert summary["executor"] == "futures"
    assert summary["events"] == {preset: DEMO_EVENTS // 4 for preset in DEMO_PRESETS}
    assert 1 <= summary["worker_processes"] <= 2
    cutflow = summary["cutflow"]
    assert cutflow["ttbar_semilep"]["breg: jets evaluated"] > 0
    assert cutflow["ttbar_semilep"]["deepjet: jets evaluated"] > 0
    assert cutflow["ttbar_had"]["deepak8: jets evaluated"] > 0
    assert cutflow["zh_bb"]["deepdoublex: jets evaluated"] > 0
    assert not (out / "plots").exists()
    # Generated AK8 jets are histogrammed by resonance truth (FatJet_label), never by flavour.
    hists = load(out / "hists.coffea")
    by_label = hists["ttbar_had"]["deepak8_TvsQCD"].project("label")
    assert by_label["top"] > 0
    assert all(by_label[flavour] == 0 for flavour in ("b", "c", "light"))
    assert hists["zh_bb"]["deepdoublex_BvL"].project("label")["Hbb"] > 0


def test_run_takes_preset_names_as_inputs(sample_cache: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    seed = DEMO_PRESETS["ttbar_semilep"]
    argv = ["run", "ttbar_semilep", "zh_bb", "--events", "10", "--seed", str(seed)]
    argv += ["--taggers", "breg", "--no-progress", "--out", str(out)]
    assert main(argv) == 0
    summary = _check_histograms_match_cutflow(out, ["breg"])
    assert summary["events"] == {"ttbar_semilep": 10, "zh_bb": 10}
    assert summary["cutflow"]["ttbar_semilep"]["breg: jets evaluated"] > 0
    # ttbar_semilep with the demo's seed came from the cache; zh_bb with this seed was generated
    plots = sorted(p.name for p in (out / "plots").glob("*.png"))
    assert plots == sorted(
        ["breg_response.png"]
        + [
            f"breg_{score}{kind}.png"
            for score in ("correction", "q25", "q75")
            for kind in ("", "_vs_mass")
        ]
    )
    assert all((out / "plots" / p).read_bytes()[:8] == PNG_MAGIC for p in plots)
    request = _generation_request(cached_path(GenerationRequest("zh_bb", 10, seed)))
    assert (request["preset"], request["events"], request["seed"]) == ("zh_bb", 10, seed)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "no_such_preset"], "no_such_preset: no such file (nor a sample preset: "),
        (["run", "qcd", "--events", "0"], "preset input qcd: --events must be a positive"),
        (["run", "qcd", "--seed", "-1"], "preset input qcd: "),
        (["demo", "--events", "3"], "--events 3 is fewer than one event per preset"),
    ],
)
def test_bad_preset_requests_give_one_line(
    argv: list[str],
    message: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("JETML_CACHE", str(tmp_path / "cache"))
    assert main([*argv, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err
    assert not (tmp_path / "out").exists()
