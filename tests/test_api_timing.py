"""The timing machinery of the inference-timing notebook: every case computes the same scores
(torch eager, ORT batched, ORT one jet per call, every optimisation level), times are positive
and the tables have one row per tagger."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

import jetml
from jetml.errors import ConfigError
from jetml.timing import (
    OPTIMISATION_LEVELS,
    ORT_BATCHED,
    ORT_PER_JET,
    chunk_split_markdown,
    markdown_table,
    measure,
    optimisation_cases,
    ort_cases,
    round_times,
    tagger_inputs,
)

pytest.importorskip("torch")
from jetml.nn.timing import TORCH_BATCHED, TORCH_PER_JET, framework_cases, max_difference


@pytest.fixture(scope="module")
def events(tmp_path_factory: pytest.TempPathFactory):
    cache = tmp_path_factory.mktemp("timing_cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JETML_CACHE", str(cache))
        path = jetml.sample("ttbar_had", 30, 11, pileup=0.0, progress=False)
        yield jetml.open_events(path)


@pytest.mark.parametrize("name", ["deepak8", "deepjet", "breg"])
def test_cases_compute_the_same_scores(events, name: str) -> None:
    (tagger,) = jetml.load_taggers(name)
    built = tagger_inputs(tagger, events)
    assert built.jets == int(np.sum(np.concatenate(tagger.select(events[tagger.collection]))))
    assert built.jets_per_event == pytest.approx(built.jets / 30)
    output = tagger.shipped.output
    reference = tagger.shipped.model.run(built.inputs)[output]
    cases = ort_cases(built, per_jet_jets=5)
    assert cases[ORT_PER_JET][1] == min(5, built.jets)
    per_jet = cases[ORT_PER_JET][0]()[output]
    assert np.array_equal(per_jet, reference[: len(per_jet)])  # bitwise across batch sizes
    for level, (run, jets) in optimisation_cases(built).items():
        assert level in OPTIMISATION_LEVELS and jets == built.jets
        assert np.allclose(run()[output], reference, atol=1e-5)
    assert max_difference(built) < 1e-5
    torch_cases = framework_cases(built, per_jet_jets=5)
    assert set(torch_cases) == {TORCH_BATCHED, TORCH_PER_JET, ORT_BATCHED, ORT_PER_JET}
    assert np.allclose(torch_cases[TORCH_PER_JET][0](), reference[:5], atol=1e-5)


def test_measure_and_tables(events) -> None:
    (tagger,) = jetml.load_taggers("deepjet")
    built = tagger_inputs(tagger, events)
    timing = measure(built, framework_cases(built, per_jet_jets=8), repeats=1)
    assert set(timing.ms_per_jet) == {TORCH_BATCHED, TORCH_PER_JET, ORT_BATCHED, ORT_PER_JET}
    assert all(ms > 0 for ms in timing.ms_per_jet.values())
    assert all(timing.median_ms_per_jet[c] >= ms for c, ms in timing.ms_per_jet.items())
    assert timing.jets_timed[ORT_PER_JET] == 8 and timing.jets_timed[ORT_BATCHED] == built.jets
    assert timing.ms_per_event(ORT_BATCHED) == pytest.approx(
        timing.ms_per_jet[ORT_BATCHED] * built.jets_per_event
    )
    table = markdown_table([timing], [ORT_BATCHED, ORT_PER_JET], per_event=True)
    lines = table.splitlines()
    assert len(lines) == 3 and lines[2].startswith("| deepjet |")
    assert lines[0].count("|") == lines[2].count("|") == 8
    with pytest.raises(ConfigError, match="repeats"):
        measure(built, ort_cases(built, 1), repeats=0)


def test_tagger_selecting_no_jet_is_refused(events) -> None:
    (tagger,) = jetml.load_taggers("deepak8")
    with pytest.raises(ConfigError, match="deepak8: selects no jet"):
        tagger_inputs(tagger, events[:0])


def test_chunk_split_shares_add_up(events, tmp_path: Path) -> None:
    result = jetml.run(
        {"ttbar": [events.metadata["filename"]]}, "deepjet,breg", executor="iterative"
    )
    rows = jetml.timing_rows(result)
    table = chunk_split_markdown(rows)
    for row, line in zip(rows, table.splitlines()[2:], strict=True):
        shares = [float(cell.strip().rstrip("%")) for cell in line.split("|")[5:9]]
        assert sum(shares) == pytest.approx(100, abs=2)
        assert line.startswith(f"| {row['tagger']} | 30 |")


def test_round_times_warms_up_then_times_every_round() -> None:
    calls = {"short": 0, "long": 0}

    def short() -> None:
        calls["short"] += 1
        time.sleep(0.002)

    def long() -> None:
        calls["long"] += 1
        time.sleep(0.02)

    seconds = round_times([short, long], repeats=3)
    assert seconds.shape == (3, 2)
    assert calls == {"short": 4, "long": 4}  # one warm-up each
    assert np.all(seconds[:, 0] >= 0.002) and np.all(seconds[:, 1] >= 0.02)
    assert np.all(seconds[:, 1] > seconds[:, 0])
