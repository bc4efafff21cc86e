"""Faults during a run: corrupt and truncated files among good ones, a Dask worker killed."""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
from pathlib import Path

import awkward as ak
import processor_taggers as toy
import pytest
import uproot
from test_processor_executors import assert_same_output

from jetml.cli import main
from jetml.errors import InputFileError
from jetml.processor import RunOptions, run_processor

TAGGERS_SPEC = "processor_taggers:all_taggers"
CHUNKSIZE = 5


pytestmark = pytest.mark.usefixtures("toy_models")


@pytest.fixture(scope="module")
def corrupt_file(cms_nano: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """pfnano.root with the first basket of PFCands_pt overwritten; returns it and the number
    of entries that basket covers (the first ones)."""
    source = cms_nano / "pfnano.root"
    target = tmp_path_factory.mktemp("corrupt") / "pfnano_corrupt.root"
    shutil.copy(source, target)
    target.chmod(0o644)
    branch = uproot.open(source)["Events"]["PFCands_pt"]
    seek = int(branch.member("fBasketSeek")[0])
    key_length = branch.basket(0).member("fKeylen")
    with target.open("r+b") as handle:
        handle.seek(seek + key_length + 25)
        handle.write(b"\xff" * 256)
    return target, int(branch.entry_offsets[1])


@pytest.fixture(scope="module")
def truncated_file(cms_nano: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = (cms_nano / "pfnano.root").read_bytes()
    target = tmp_path_factory.mktemp("truncated") / "pfnano_truncated.root"
    target.write_bytes(data[: len(data) // 2])
    return target


def test_corrupt_chunk_is_named_or_skipped(cms_nano: Path, corrupt_file: tuple[Path, int]) -> None:
    corrupt, bad_entries = corrupt_file
    assert 0 < bad_entries < 10
    fileset = {"good": [str(cms_nano / "pfnano.root")], "bad": [str(corrupt)]}
    taggers = toy.all_taggers()
    with pytest.raises(InputFileError) as error:
        run_processor(fileset, taggers, RunOptions(chunksize=CHUNKSIZE, progress=False))
    message = str(error.value)
    assert f"{corrupt} entries 0-{CHUNKSIZE}: cannot read branch PFCands_pt" in message
    assert "\n" not in message and "--skip-bad-files" in message

    result = run_processor(
        fileset, taggers, RunOptions(chunksize=CHUNKSIZE, skip_bad_files=True, progress=False)
    )
    failing = [(s, s + CHUNKSIZE) for s in range(0, 10, CHUNKSIZE) if s < bad_entries]
    assert len(result.skipped) == len(failing)
    for line, (start, stop) in zip(result.skipped, failing, strict=True):
        assert line.startswith(f"{corrupt} entries {start}-{stop}: cannot read branch PFCands_pt (")
    good_entries = 10 - CHUNKSIZE * len(failing)
    assert 0 < good_entries < 10
    assert result.output["events"] == {"good": 10, "bad": good_entries}
    assert result.processed_events == 10 + good_entries
    # The good chunks of the damaged file are fully processed: their jets are all histogrammed.
    fatjets = uproot.open(cms_nano / "pfnano.root")["Events"]["FatJet_pt"].array()
    jets_in_good_chunks = int(ak.sum(ak.num(fatjets[10 - good_entries :])))
    assert result.output["hists"]["bad"]["pf_toy_probA"].sum(flow=True) == jets_in_good_chunks


def test_truncated_file_is_named_or_skipped(cms_nano: Path, truncated_file: Path) -> None:
    fileset = {"good": [str(cms_nano / "pfnano.root")], "bad": [str(truncated_file)]}
    with pytest.raises(InputFileError, match=f"{truncated_file}: truncated ROOT file"):
        run_processor(fileset, toy.all_taggers(), RunOptions(progress=False))
    result = run_processor(
        fileset, toy.all_taggers(), RunOptions(skip_bad_files=True, progress=False)
    )
    assert len(result.skipped) == 1
    assert result.skipped[0].startswith(f"{truncated_file}: ")
    assert "truncated ROOT file" in result.skipped[0]
    assert result.skipped[0].endswith("(whole file)")
    assert result.output["events"] == {"good": 10, "bad": 0}


def test_cli_bad_file_message_and_skip_list(
    cms_nano: Path, corrupt_file: tuple[Path, int], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    corrupt, bad_entries = corrupt_file
    good = str(cms_nano / "pfnano.root")
    base = [good, str(corrupt), "--taggers", TAGGERS_SPEC, "--chunksize", str(CHUNKSIZE)]
    base += ["--no-progress", "--no-plots"]
    assert main(["run", *base, "--out", str(tmp_path / "fail")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert err.startswith(f"jetml run: error: {corrupt} entries 0-{CHUNKSIZE}: cannot read branch")
    assert main(["run", *base, "--skip-bad-files", "--out", str(tmp_path / "ok")]) == 0
    assert f"skipped: {corrupt} entries 0-{CHUNKSIZE}" in capsys.readouterr().err
    summary = json.loads((tmp_path / "ok" / "summary.json").read_text())
    assert bad_entries <= CHUNKSIZE and len(summary["skipped_chunks"]) == 1
    assert summary["skipped_chunks"][0].startswith(f"{corrupt} entries 0-{CHUNKSIZE}: ")
    assert summary["processed_events"] == 20 - CHUNKSIZE
    assert not (tmp_path / "ok" / "plots").exists()


def test_dask_worker_killed_mid_run_gives_clean_result(cms_nano: Path) -> None:
    from distributed import Client, LocalCluster

    pfnano = str(cms_nano / "pfnano.root")
    fileset = {"first": [pfnano], "second": [pfnano]}
    clean = run_processor(fileset, toy.all_taggers(), RunOptions(chunksize=2, progress=False))
    killed: dict[str, bool] = {}
    finished = threading.Event()

    def kill_a_busy_worker(client: Client) -> None:
        """Once a worker holds sessions (it has started on chunks), SIGKILL its process."""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not finished.is_set():
            from jetml.inference import sessions_in_process

            busy = [addr for addr, n in client.run(sessions_in_process).items() if n > 0]
            if busy:
                pid = client.run(os.getpid, workers=[busy[0]])[busy[0]]
                killed["mid_run"] = not finished.is_set()
                os.kill(pid, signal.SIGKILL)
                return
            time.sleep(0.05)

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        killer = threading.Thread(target=kill_a_busy_worker, args=(client,))
        killer.start()
        try:
            result = run_processor(
                fileset,
                toy.all_taggers(),
                RunOptions(
                    executor="dask",
                    scheduler=cluster.scheduler_address,
                    chunksize=2,
                    progress=False,
                ),
            )
        finally:
            finished.set()
            killer.join()
    assert killed.get("mid_run") is True
    assert_same_output(result, clean)
