"""The same run on the iterative, futures and Dask executors: bitwise-equal histograms, and
one ONNX Runtime session per model per worker process, however many chunks each handles."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import processor_taggers as toy
import pytest

from jetml.processor import RunOptions, RunResult, run_processor
from jetml.processor.report import sessions_per_process

CHUNKSIZE = 5
N_MODELS = 3


pytestmark = pytest.mark.usefixtures("toy_models")


def assert_same_output(result: RunResult, reference: RunResult) -> None:
    """Histograms bitwise equal (values and variances, flow bins included), same bookkeeping."""
    assert result.output["events"] == reference.output["events"]
    assert result.output["cutflow"] == reference.output["cutflow"]
    assert result.output["chunks"] == reference.output["chunks"]
    hists, expected = result.output["hists"], reference.output["hists"]
    assert set(hists) == set(expected)
    for dataset in expected:
        assert set(hists[dataset]) == set(expected[dataset])
        for name, histogram in expected[dataset].items():
            other = hists[dataset][name]
            assert other.axes == histogram.axes, name
            assert np.array_equal(other.values(flow=True), histogram.values(flow=True)), name
            assert np.array_equal(other.variances(flow=True), histogram.variances(flow=True))


def test_executors_agree_bitwise_and_share_sessions(cms_nano: Path) -> None:
    pfnano = str(cms_nano / "pfnano.root")
    fileset = {"first": [pfnano], "second": [pfnano]}
    results = {
        kind: run_processor(
            fileset,
            toy.all_taggers(),
            RunOptions(executor=kind, workers=2, chunksize=CHUNKSIZE, progress=False),
        )
        for kind in ("iterative", "futures", "dask")
    }
    reference = results["iterative"]
    assert len(reference.chunks) == 4
    assert reference.output["hists"]["first"]["pf_toy_probA"].sum(flow=True) == 24
    assert reference.output["processes"] == {(os.uname().nodename, os.getpid())}
    for kind in ("futures", "dask"):
        result = results[kind]
        assert_same_output(result, reference)
        # Workers are separate processes, each creating every model's session exactly once.
        assert os.getpid() not in {pid for _, pid in result.output["processes"]}
        assert 1 <= result.worker_processes <= 2
        assert result.sessions_created == N_MODELS * result.worker_processes
        per_process = sessions_per_process(result)
        assert len(per_process) == result.worker_processes
        assert set(per_process.values()) == {N_MODELS}
        assert len(result.chunks) > result.worker_processes
