"""Inference counters seen from the processor: ORT seconds and sessions created per process.

:mod:`jetml.inference.counters` keeps cumulative per-model counts in each process. The processor
takes a snapshot before and after work and turns the difference into values that merge correctly
across chunks and workers: seconds add up, and each session created becomes one unique
``(host, pid, model, serial)`` entry, so the union over all chunks counts sessions exactly once
whether a process handled one chunk or a hundred.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

from jetml.inference import counters

SessionId = tuple[str, int, str, int]


@dataclass(frozen=True)
class InferenceSnapshot:
    """This process's cumulative inference counters at one moment."""

    counts: dict[str, dict[str, float]]

    @property
    def ort_seconds(self) -> float:
        """Seconds spent inside ``session.run``, all models together."""
        return float(sum(values.get("run_seconds", 0.0) for values in self.counts.values()))

    def sessions_created(self, model: str) -> int:
        """ONNX Runtime sessions this process has created for ``model``."""
        return int(self.counts.get(model, {}).get("sessions_created", 0))


def inference_snapshot() -> InferenceSnapshot:
    """The current counters of this process."""
    return InferenceSnapshot(counters.snapshot())


def sessions_since(before: InferenceSnapshot) -> set[SessionId]:
    """One id per session this process created after ``before`` was taken."""
    after = inference_snapshot()
    host, pid = socket.gethostname(), os.getpid()
    return {
        (host, pid, model, serial)
        for model in after.counts
        for serial in range(before.sessions_created(model) + 1, after.sessions_created(model) + 1)
    }
