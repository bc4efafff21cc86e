"""What ``jetml run`` writes: histograms, a run summary, the per-tagger timing table, plots."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import hist
from coffea.util import save

from jetml.processor.processor import TIMING_KEYS
from jetml.processor.runner import RunResult
from jetml.taggers.base import Tagger


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
    }


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


def write_outputs(
    result: RunResult, taggers: Sequence[Tagger], out_dir: Path, *, plots: bool = True
) -> list[Path]:
    """Write hists.coffea, summary.json, timing.json, timing.md and (with ``plots``)
    plots/*.png into out_dir; return the files written."""
    from jetml.processor.plots import write_plots

    out_dir.mkdir(parents=True, exist_ok=True)
    hists_path = out_dir / "hists.coffea"
    save(result.output["hists"], hists_path)
    summary_path = out_dir / "summary.json"
    summary_path.write_text(json.dumps(run_summary(result), indent=2) + "\n")
    timing_path = out_dir / "timing.json"
    timing_path.write_text(json.dumps(timing_json(result), indent=2) + "\n")
    markdown_path = out_dir / "timing.md"
    markdown_path.write_text(timing_markdown(result))
    written = [hists_path, summary_path, timing_path, markdown_path]
    if plots:
        written += write_plots(result.output["hists"], taggers, out_dir / "plots")
    return written
