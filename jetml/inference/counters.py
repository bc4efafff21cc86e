"""Per-model counters: plain dicts that add up across chunks, threads and worker processes.

Each model (keyed by its label, e.g. ``particlenet_ak8_v01/model.onnx``) accumulates
``sessions_created``, ``calls``, ``rows``, ``batches``, ``run_seconds`` (inside
``session.run``) and ``feature_seconds`` (feature building, recorded by the caller with
:func:`timed`). :func:`snapshot` returns ``{model: {counter: number}}``; worker snapshots
combine with :func:`merge` (or coffea's dict accumulation, which adds the same way).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

COUNTER_NAMES: tuple[str, ...] = (
    "sessions_created",
    "calls",
    "rows",
    "batches",
    "feature_seconds",
    "run_seconds",
)

_LOCK = threading.Lock()
_COUNTS: dict[str, dict[str, float]] = {}


def record(model: str, **increments: float) -> None:
    """Add ``increments`` (counter name → amount) to ``model``'s counters in this process."""
    unknown = set(increments) - set(COUNTER_NAMES)
    if unknown:
        raise KeyError(f"unknown counter(s) {sorted(unknown)}; known: {COUNTER_NAMES}")
    with _LOCK:
        entry = _COUNTS.setdefault(model, dict.fromkeys(COUNTER_NAMES, 0))
        for name, amount in increments.items():
            entry[name] += amount


@contextmanager
def timed(model: str, counter: str = "feature_seconds") -> Iterator[None]:
    """Add the wall time of the ``with`` block to ``model``'s ``counter``."""
    start = time.perf_counter()
    try:
        yield
    finally:
        record(model, **{counter: time.perf_counter() - start})


def snapshot() -> dict[str, dict[str, float]]:
    """A copy of this process's counters (safe to pickle, return from a task, or merge)."""
    with _LOCK:
        return {model: dict(values) for model, values in _COUNTS.items()}


def reset() -> None:
    """Forget all counters of this process."""
    with _LOCK:
        _COUNTS.clear()


def merge(*snapshots: Mapping[str, Mapping[str, float]]) -> dict[str, dict[str, float]]:
    """Sum several snapshots (e.g. one per worker) into one."""
    out: dict[str, dict[str, float]] = {}
    for snap in snapshots:
        for model, values in snap.items():
            entry = out.setdefault(model, dict.fromkeys(COUNTER_NAMES, 0))
            for name, amount in values.items():
                entry[name] = entry.get(name, 0) + amount
    return out


def format_table(snap: Mapping[str, Mapping[str, float]]) -> str:
    """A plain-text timing table: one row per model, throughput and time per jet."""
    header = f"{'model':<40} {'sessions':>8} {'calls':>7} {'rows':>9} {'features s':>11} "
    header += f"{'run s':>9} {'us/jet':>8}"
    lines = [header, "-" * len(header)]
    for model in sorted(snap):
        v = snap[model]
        rows = v.get("rows", 0)
        total = v.get("feature_seconds", 0) + v.get("run_seconds", 0)
        per_jet = 1e6 * total / rows if rows else 0.0
        lines.append(
            f"{model:<40} {int(v.get('sessions_created', 0)):>8} {int(v.get('calls', 0)):>7} "
            f"{int(rows):>9} {v.get('feature_seconds', 0):>11.3f} "
            f"{v.get('run_seconds', 0):>9.3f} {per_jet:>8.1f}"
        )
    return "\n".join(lines)
