"""Run Pythia 8 and hand back its event records as flat numpy arrays.

Pythia's ``nextBatch`` fills an awkward array with the whole event record in C++, so no Python
code touches individual particles. The record is flattened into an :class:`EventRecord` whose
mother/daughter links are global row indices (``-1`` for none), which lets every later step
(detector, ancestry, truth) work on whole batches with numpy.
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass

import awkward as ak
import numpy as np

from jetml.errors import ConfigError

MM_TO_CM = 0.1


class EventOffsets:
    """Mixin for flat particle tables cut into events by ``offsets`` (CSR layout)."""

    offsets: np.ndarray

    @property
    def n_events(self) -> int:
        """Number of events in the table."""
        return len(self.offsets) - 1

    @property
    def counts(self) -> np.ndarray:
        """Particles per event."""
        return np.diff(self.offsets)


@dataclass(frozen=True)
class EventRecord(EventOffsets):
    """Flattened Pythia event records of a batch of events (one row per particle).

    Lengths are in cm (Pythia's mm converted), momenta in GeV. ``offsets`` delimits the events.
    """

    offsets: np.ndarray
    pdg_id: np.ndarray
    status: np.ndarray
    mother1: np.ndarray
    mother2: np.ndarray
    daughter1: np.ndarray
    daughter2: np.ndarray
    px: np.ndarray
    py: np.ndarray
    pz: np.ndarray
    energy: np.ndarray
    mass: np.ndarray
    x: np.ndarray
    y: np.ndarray
    z: np.ndarray
    tau: np.ndarray
    parton_id1: np.ndarray
    parton_id2: np.ndarray
    parton_x1: np.ndarray
    parton_x2: np.ndarray
    scale_pdf: np.ndarray

    def select_events(self, keep: np.ndarray) -> EventRecord:
        """The events where ``keep`` is True, with links re-indexed to the new rows."""
        keep_rows = np.repeat(keep, self.counts)
        new_index = np.cumsum(keep_rows) - 1

        def relink(link: np.ndarray) -> np.ndarray:
            kept = link[keep_rows]
            return np.where(kept >= 0, new_index[np.maximum(kept, 0)], -1)

        counts = self.counts[keep]
        offsets = np.zeros(len(counts) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        per_row = ("pdg_id", "status", "px", "py", "pz", "energy", "mass", "x", "y", "z", "tau")
        per_event = ("parton_id1", "parton_id2", "parton_x1", "parton_x2", "scale_pdf")
        links = ("mother1", "mother2", "daughter1", "daughter2")
        return EventRecord(
            offsets=offsets,
            **{name: getattr(self, name)[keep_rows] for name in per_row},
            **{name: getattr(self, name)[keep] for name in per_event},
            **{name: relink(getattr(self, name)) for name in links},
        )

    @property
    def event_of_row(self) -> np.ndarray:
        """Event number (0-based, within the batch) of every particle row."""
        return np.repeat(np.arange(self.n_events), self.counts)


@dataclass(frozen=True)
class CrossSection:
    """Pythia's estimate of the generated cross section after a run (pb) and its counters."""

    sigma_pb: float
    sigma_err_pb: float
    n_accepted: int
    n_tried: int


class PythiaGenerator:
    """One initialised Pythia instance for a list of ``readString`` settings."""

    def __init__(self, settings: list[str]) -> None:
        import pythia8mc

        self._pythia = pythia8mc.Pythia("", False)
        for line in settings:
            if not self._pythia.readString(line):
                raise ConfigError(f"Pythia rejected the setting {line!r}")
        with silenced_stdout():
            ok = self._pythia.init()
        if not ok:
            raise ConfigError(f"Pythia initialisation failed for settings {settings!r}")

    def next_events(self, n_events: int) -> EventRecord:
        """Generate ``n_events`` events (failed ones are retried) and flatten their records."""
        batches = []
        missing = n_events
        while missing > 0:
            with silenced_stdout():
                batch = self._pythia.nextBatch(missing)
            if len(batch) == 0:
                raise ConfigError("Pythia failed to generate events (nextBatch returned none)")
            batches.append(batch)
            missing -= len(batch)
        events = batches[0] if len(batches) == 1 else ak.concatenate(batches)
        return _flatten(events)

    def next_only(self) -> bool:
        """One bare ``pythia.next()`` call, without reading the record (for benchmarks)."""
        return bool(self._pythia.next())

    def cross_section(self) -> CrossSection:
        """Pythia's sigmaGen and its error (mb converted to pb) and accepted/tried counts."""
        info = self._pythia.infoPython()
        mb_to_pb = 1e9
        return CrossSection(
            sigma_pb=float(info.sigmaGen()) * mb_to_pb,
            sigma_err_pb=float(info.sigmaErr()) * mb_to_pb,
            n_accepted=int(info.nAccepted()),
            n_tried=int(info.nTried()),
        )


def _flatten(events: ak.Array) -> EventRecord:
    """Flatten a ``nextBatch`` array into global-index numpy columns."""
    particles = events["prt"]
    counts = ak.to_numpy(ak.num(particles, axis=1)).astype(np.int64)
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    start = np.repeat(offsets[:-1], counts)

    def column(array: ak.Array, dtype: type = np.float64) -> np.ndarray:
        return ak.to_numpy(ak.flatten(array, axis=1)).astype(dtype, copy=False)

    def link(name: str) -> np.ndarray:
        local = column(particles[name], np.int64)
        # Index 0 is Pythia's "system" entry: a link to it means "no link".
        return np.where(local > 0, local + start, -1)

    momentum = particles["p"]
    vertex = particles["vProd"]

    def position(name: str) -> np.ndarray:
        return column(ak.fill_none(vertex[name], 0.0)) * MM_TO_CM

    info = events["info"]
    return EventRecord(
        offsets=offsets,
        pdg_id=column(particles["id"], np.int64),
        status=column(particles["status"], np.int64),
        mother1=link("mother1"),
        mother2=link("mother2"),
        daughter1=link("daughter1"),
        daughter2=link("daughter2"),
        px=column(momentum["px"]),
        py=column(momentum["py"]),
        pz=column(momentum["pz"]),
        energy=column(momentum["e"]),
        mass=column(particles["m"]),
        x=position("px"),
        y=position("py"),
        z=position("pz"),
        tau=column(particles["tau"]),
        parton_id1=ak.to_numpy(info["id1"]).astype(np.int32),
        parton_id2=ak.to_numpy(info["id2"]).astype(np.int32),
        parton_x1=ak.to_numpy(info["x1"]).astype(np.float32),
        parton_x2=ak.to_numpy(info["x2"]).astype(np.float32),
        scale_pdf=np.sqrt(ak.to_numpy(info["Q2Fac"])).astype(np.float32),
    )


@contextlib.contextmanager
def silenced_stdout():
    """Redirect the C-level stdout (Pythia's and FastJet's banners) to /dev/null."""
    sys.stdout.flush()
    try:
        fd = os.dup(1)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 1)
        yield
    finally:
        os.dup2(fd, 1)
        os.close(fd)
