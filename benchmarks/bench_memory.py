"""Peak RSS per worker process: the demo run, and a long run, to show memory stays flat.

Each chunk records, in its worker process, the resident set size after the chunk (``VmRSS``)
and the peak so far (``ru_maxrss``); the report gives per worker the peak, the RSS after its
first chunks and after its last ones, and the growth per 10k events between them.

Runs (every shipped tagger, futures executor, ``--workers`` processes):

* demo: the four cached demo samples (2000 events), chunks of 250 events (``make demo``);
* long: ``--events`` events (default 100k) at the default chunk size (100k entries). Generating
  100k events costs ~15 min of both cores, so the long run reuses the cached demo samples:
  the fileset lists each sample many times (through symbolic links, so every chunk has its own
  file name), i.e. chunks of 500 events (one per linked file), each read anew.

Run: ``python benchmarks/bench_memory.py [--events 100000] [--workers 2]``
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

from jetml.processor import RunOptions, TaggerProcessor, run_processor
from jetml.processor.demo import DEMO_CHUNKSIZE, demo_fileset
from jetml.taggers.registry import resolve_taggers


def _rss_kib() -> int:
    """Current resident set size of this process (kiB)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class MemoryProcessor(TaggerProcessor):
    """A TaggerProcessor that records each chunk's worker RSS in its output."""

    def empty_output(self, datasets: Any = ()) -> dict[str, Any]:
        output = super().empty_output(datasets)
        output["memory"] = set()
        return output

    def process(self, events: Any) -> dict[str, Any]:
        output = super().process(events)
        meta = getattr(events, "metadata", None) or {}
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kiB on Linux
        output["memory"].add(
            (
                socket.gethostname(),
                os.getpid(),
                time.time(),
                str(meta.get("filename")),
                int(meta.get("entrystart", 0)),
                len(events),
                _rss_kib(),
                peak,
            )
        )
        return output


def _report(label: str, output: dict[str, Any], wall: float) -> None:
    records = sorted(output["memory"], key=lambda r: r[2])
    events = sum(r[5] for r in records)
    print(f"\n{label}: {events} events, {len(records)} chunks, {wall:.1f} s wall")
    workers: dict[int, list] = {}
    for record in records:
        workers.setdefault(record[1], []).append(record)
    for pid, rows in workers.items():
        seen = sum(r[5] for r in rows)
        marks = sorted({max(1, round(len(rows) * f)) for f in (0.1, 0.25, 0.5, 0.75, 1.0)})
        after = ", ".join(f"{m}: {rows[m - 1][6] / 1024:.0f}" for m in marks)
        # growth once warmed up (open-file cache, ONNX Runtime arenas): quarter to end
        quarter = max(1, len(rows) // 4)
        events_between = sum(r[5] for r in rows[quarter:])
        growth = (rows[-1][6] - rows[quarter - 1][6]) / 1024 / max(events_between, 1) * 1e4
        trend = (
            f"; {growth:+.2f} MiB per 10k events from chunk {quarter} to the end"
            if len(rows) >= 20  # fewer chunks are all warm-up
            else ""
        )
        print(
            f"  worker {pid}: {len(rows)} chunks, {seen} events; peak RSS "
            f"{max(r[7] for r in rows) / 1024:.0f} MiB; RSS (MiB) after chunk {after}{trend}"
        )
    driver = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  driver process peak RSS so far {driver:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000, help="events of the long run")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-long", action="store_true")
    args = parser.parse_args()
    taggers = resolve_taggers("all")
    demo = demo_fileset()
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    options = RunOptions(
        executor="futures", workers=args.workers, chunksize=DEMO_CHUNKSIZE, progress=False
    )
    started = time.perf_counter()
    result = run_processor(demo, MemoryProcessor(taggers), options)
    _report("demo (chunks of 250 events)", result.output, time.perf_counter() - started)

    if args.skip_long:
        return
    with tempfile.TemporaryDirectory() as tmp:
        files = [Path(paths[0]) for paths in demo.values()]
        per_copy = 2000  # the demo samples hold 500 events each
        copies = max(1, args.events // per_copy)
        linked = []
        for i in range(copies):
            for path in files:
                link = Path(tmp) / f"{i:04d}_{path.name}"
                link.symlink_to(path)
                linked.append(str(link))
        options = RunOptions(executor="futures", workers=args.workers, progress=False)
        started = time.perf_counter()
        result = run_processor({"long": linked}, MemoryProcessor(taggers), options)
        _report(
            f"long ({copies} x the demo samples, default chunk size {options.chunksize})",
            result.output,
            time.perf_counter() - started,
        )
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
