"""What ``jetml run`` writes: histograms, a run summary, the per-tagger timing table, plots."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import hist
from coffea.util import save

from jetml.errors import OutputFileError
from jetml.outputs import check_writable_folder
from jetml.processor.processor import TIMING_KEYS
from jetml.processor.runner import RunResult
from jetml.taggers.base import Tagger

#: The files ``jetml run`` writes into its output folder, and the folder of figures.
OUTPUT_FILES = ("hists.coffea", "summary.json", "timing.json", "timing.md")
PLOTS_DIR = "plots"


def sum_datasets(hists: Mapping[str, Mapping[str, hist.Hist]]) -> dict[str, hist.Hist]:
    """``{dataset: {name: hist}}`` (a run's ``output["hists"]``) summed over the datasets."""
    summed: dict[str, hist.Hist] = {}
    for per_dataset in hists.values():
        for name, histogram in per_dataset.items():
            summed[name] = summed[name] + histogram if name in summed else histogram.copy()
    return summed


def timing_rows(result: RunResult) -> list[dict[str, Any]]:
    """Per tagger: events, jets, seconds per stage, ms/event, jets/s and share of run time.

    Seconds are summed over all worker processes; the share is the tagger's seconds over the
    seconds all chunks took (so the shares of all taggers plus the processor's own work add up
    to 1, whatever the number of workers).
    """
    total = float(result.output["chunk_seconds"])
    rows = []
    for name, timing in result.output["timing"].items():
        seconds = sum(float(timing[key]) for key in TIMING_KEYS)
        events, jets = int(timing["events"]), int(timing["jets"])
        rows.append(
            {
                "tagger": name,
                "events": events,
                "jets": jets,
                **{key: float(timing[key]) for key in TIMING_KEYS},
                "seconds": seconds,
                "ms_per_event": 1e3 * seconds / events if events else 0.0,
                "jets_per_s": jets / seconds if seconds > 0 else 0.0,
                "share": seconds / total if total > 0 else 0.0,
            }
        )
    return rows


def run_summary(result: RunResult) -> dict[str, Any]:
    """Cutflow, events, skips, sessions and processes: everything but histograms and timing."""
    output = result.output
    return {
        "executor": result.options.executor,
        "workers": result.workers,
        "chunksize": result.options.chunksize,
        "events": dict(output["events"]),
        "processed_events": result.processed_events,
        "chunks_processed": len(output["chunks"]),
        "cutflow": output["cutflow"],
        "skipped_chunks": result.skipped,
        "skipped_taggers": {
            name: sorted(f"{path}: missing {missing}" for path, missing in entries)
            for name, entries in output["skipped_taggers"].items()
            if entries
        },
        "worker_processes": result.worker_processes,
        "sessions_created": result.sessions_created,
        "sessions_per_process": sessions_per_process(result),
        "nonfinite_inputs": nonfinite_inputs(result),
    }


def nonfinite_inputs(result: RunResult) -> dict[str, dict[str, Any]]:
    """Per tagger with NaN/±inf input values: the total, per branch, and per chunk."""
    report: dict[str, dict[str, Any]] = {}
    for tagger, path, start, stop, branch, count in sorted(result.output["nonfinite_inputs"]):
        entry = report.setdefault(tagger, {"values": 0, "branches": {}, "chunks": {}})
        entry["values"] += count
        entry["branches"][branch] = entry["branches"].get(branch, 0) + count
        entry["chunks"].setdefault(f"{path} entries {start}-{stop}", {})[branch] = count
    return report


def nonfinite_warning(result: RunResult) -> str | None:
    """One line summarising :func:`nonfinite_inputs`, or None when every input was finite."""
    report = nonfinite_inputs(result)
    if not report:
        return None
    chunks = {chunk for entry in report.values() for chunk in entry["chunks"]}
    parts = [
        f"{tagger} {entry['values']} ("
        + ", ".join(f"{branch} {n}" for branch, n in entry["branches"].items())
        + ")"
        for tagger, entry in report.items()
    ]
    return (
        f"NaN/inf input values in {len(chunks)} chunk(s), scores of those jets are unreliable: "
        + "; ".join(parts)
    )


def sessions_per_process(result: RunResult) -> dict[str, int]:
    """``host:pid`` -> ONNX Runtime sessions it created during the run (0 for a process that
    already held them, e.g. the driver of an iterative run that ran before)."""
    counts = {f"{host}:{pid}": 0 for host, pid in result.output["processes"]}
    for host, pid, _model, _serial in result.output["sessions"]:
        counts[f"{host}:{pid}"] = counts.get(f"{host}:{pid}", 0) + 1
    return dict(sorted(counts.items()))


def timing_json(result: RunResult) -> dict[str, Any]:
    """The timing table plus run-level numbers, as written to ``timing.json``."""
    return {
        "executor": result.options.executor,
        "workers": result.workers,
        "wall_seconds": result.wall_seconds,
        "chunk_seconds": float(result.output["chunk_seconds"]),
        # CPU seconds of the same work: much below chunk_seconds means the workers waited for
        # a core (an overloaded machine), not that jetml was slow.
        "chunk_cpu_seconds": float(result.output["chunk_cpu_seconds"]),
        "processed_events": result.processed_events,
        "events_per_second": (
            result.processed_events / result.wall_seconds if result.wall_seconds > 0 else 0.0
        ),
        "worker_processes": result.worker_processes,
        "sessions_created": result.sessions_created,
        "taggers": timing_rows(result),
    }


def timing_markdown(result: RunResult) -> str:
    """The timing table as Markdown (what ``jetml run`` prints and writes to ``timing.md``)."""
    info = timing_json(result)
    lines = [
        f"# jetml timing: {info['processed_events']} events, executor {info['executor']}, "
        f"{info['workers']} worker(s)",
        "",
        f"Wall time {info['wall_seconds']:.2f} s ({info['events_per_second']:.1f} events/s); "
        f"{info['worker_processes']} worker process(es) created "
        f"{info['sessions_created']} ONNX Runtime session(s).",
        "",
        "| tagger | events | jets | ms/event | jets/s | share of run | read ms | build ms "
        "| ORT ms | fill ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in info["taggers"]:
        lines.append(
            f"| {row['tagger']} | {row['events']} | {row['jets']} | {row['ms_per_event']:.3f} "
            f"| {row['jets_per_s']:.0f} | {100 * row['share']:.1f}% | "
            + " | ".join(f"{1e3 * row[key]:.1f}" for key in TIMING_KEYS)
            + " |"
        )
    return "\n".join(lines) + "\n"


def check_output_dir(out_dir: Path) -> None:
    """OutputFileError, before any work, when ``out_dir`` cannot receive the run's outputs.

    ``out_dir`` may exist (a folder) or be created under its nearest existing folder, which must
    be writable; an existing output name of the wrong kind (a folder named ``summary.json``, a
    file named ``plots``) is refused too, since replacing it would fail after the whole run.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputFileError(f"{out_dir}: exists and is not a folder")
    existing = next(p for p in (out_dir, *out_dir.parents) if p.exists() or p == Path("."))
    if not existing.is_dir():
        raise OutputFileError(f"{out_dir}: {existing} is not a folder")
    check_writable_folder(out_dir, existing)
    for name in OUTPUT_FILES:
        if (out_dir / name).is_dir():
            raise OutputFileError(f"{out_dir / name}: is a folder; jetml writes a file there")
    plots = out_dir / PLOTS_DIR
    if plots.exists() and not plots.is_dir():
        raise OutputFileError(f"{plots}: is not a folder; jetml writes its figures there")


def write_outputs(
    result: RunResult, taggers: Sequence[Tagger], out_dir: Path, *, plots: bool = True
) -> list[Path]:
    """Write hists.coffea, summary.json, timing.json, timing.md and (with ``plots``)
    plots/*.png into out_dir; return the files written.

    Everything is written into a temporary folder inside ``out_dir`` first and moved into place
    only once complete, so a failed write (full disk, ...) leaves ``out_dir`` as it was; a
    previous run's ``plots/`` is replaced as a whole (no stale figures beside new ones).
    """
    check_output_dir(out_dir)
    created = not out_dir.exists()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=".jetml-partial-", dir=out_dir))
    except OSError as error:
        raise OutputFileError(f"{out_dir}: cannot create ({error.strerror})") from error
    try:
        staged = _write_into(stage, result, taggers, plots=plots)
        for name in OUTPUT_FILES:
            os.replace(stage / name, out_dir / name)
        if (out_dir / PLOTS_DIR).is_dir():
            os.replace(out_dir / PLOTS_DIR, stage / "previous-plots")
        if plots:
            os.replace(stage / PLOTS_DIR, out_dir / PLOTS_DIR)
    except OSError as error:
        shutil.rmtree(stage, ignore_errors=True)
        if created:
            shutil.rmtree(out_dir, ignore_errors=True)
        raise OutputFileError(
            f"{out_dir}: cannot write the outputs ({error.strerror or error}); left unchanged"
        ) from error
    shutil.rmtree(stage, ignore_errors=True)
    return [out_dir / path.relative_to(stage) for path in staged]


def _write_into(
    folder: Path, result: RunResult, taggers: Sequence[Tagger], *, plots: bool
) -> list[Path]:
    """Write every output into ``folder``; return the paths written."""
    from jetml.processor.plots import write_plots

    hists_path = folder / "hists.coffea"
    save(result.output["hists"], hists_path)
    summary_path = folder / "summary.json"
    summary_path.write_text(json.dumps(run_summary(result), indent=2) + "\n")
    timing_path = folder / "timing.json"
    timing_path.write_text(json.dumps(timing_json(result), indent=2) + "\n")
    markdown_path = folder / "timing.md"
    markdown_path.write_text(timing_markdown(result))
    written = [hists_path, summary_path, timing_path, markdown_path]
    if plots:
        written += write_plots(result.output["hists"], taggers, folder / PLOTS_DIR)
    return written
