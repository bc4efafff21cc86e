"""The minimum-bias library that pileup is premixed from (CMS-style premixing).

Pythia 8 ``SoftQCD:nonDiffractive`` at 13 TeV (default tune, MPI on) with its own seed stream,
generated once and cached beside the samples as a compressed ``.npz``: the stable visible
particles (no neutrinos) of every event, with their production vertices relative to the
interaction point. Overlays draw library events at random with replacement; each drawn copy is
rotated by a random azimuth and mirrored in z with probability 1/2 (symmetries of pp collisions),
so a library of a few thousand events serves many thousands of overlaid interactions without
repeating the same picture.
"""

from __future__ import annotations

import functools
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from jetml.errors import ConfigError, InputFileError
from jetml.samples.detector import NEUTRINO_IDS
from jetml.samples.generator import EventOffsets, PythiaGenerator
from jetml.samples.presets import COMMON_SETTINGS

MINBIAS_EVENTS = 4000  # default library size
MINBIAS_SEED = 20_260_012  # the library's own seed stream (independent of any sample seed)
LIBRARY_VERSION = 2
MINBIAS_SETTINGS: tuple[str, ...] = ("SoftQCD:nonDiffractive = on", "PartonLevel:MPI = on")
MAX_ABS_ETA = 5.0  # beyond HF (|eta| < 5): never reconstructed, not stored
# Photons below this energy can never pass the ECAL (0.5 GeV) or HF (5 GeV) thresholds of
# :class:`~jetml.samples.detector.DetectorModel` (0.3 GeV + 6 sigma < 0.5 GeV): not stored.
MIN_PHOTON_ENERGY = 0.3
_BUILD_BATCH = 200


@dataclass(frozen=True)
class MinBiasLibrary(EventOffsets):
    """Stable visible particles of ``n_events`` min-bias events, flat with event offsets."""

    offsets: np.ndarray
    pdg_id: np.ndarray
    px: np.ndarray
    py: np.ndarray
    pz: np.ndarray
    energy: np.ndarray
    mass: np.ndarray
    x: np.ndarray
    y: np.ndarray
    z: np.ndarray


def library_path(n_events: int) -> Path:
    """Cache location of the library of ``n_events`` events (beside the samples)."""
    from jetml.samples.cache import cache_dir

    name = f"minbias_nondiffractive_{n_events}ev_seed{MINBIAS_SEED}_v{LIBRARY_VERSION}.npz"
    return cache_dir() / name


def build_library(n_events: int, progress: Callable[[int], None] | None = None) -> MinBiasLibrary:
    """Generate ``n_events`` min-bias events and keep their stable visible particles."""
    if n_events <= 0:
        raise ConfigError(f"the min-bias library needs a positive size (got {n_events})")
    sequence = np.random.SeedSequence([MINBIAS_SEED, n_events])
    seed = int(sequence.generate_state(1, dtype=np.uint64)[0] % 900_000_000) + 1
    generator = PythiaGenerator([*COMMON_SETTINGS, f"Random:seed = {seed}", *MINBIAS_SETTINGS])
    parts = []
    done = 0
    while done < n_events:
        size = min(_BUILD_BATCH, n_events - done)
        record = generator.next_events(size)
        pt = np.hypot(record.px, record.py)
        eta = np.arcsinh(record.pz / np.maximum(pt, 1e-12))
        keep = (
            (record.status > 0)
            & ~np.isin(np.abs(record.pdg_id), NEUTRINO_IDS)
            & (pt > 0)
            & (np.abs(eta) < MAX_ABS_ETA)
            & ~((record.pdg_id == 22) & (record.energy < MIN_PHOTON_ENERGY))
        )
        counts = np.bincount(record.event_of_row[keep], minlength=record.n_events)
        parts.append(
            (
                counts,
                {
                    name: getattr(record, name)[keep]
                    for name in ("pdg_id", "px", "py", "pz", "energy", "mass", "x", "y", "z")
                },
            )
        )
        done += size
        if progress is not None:
            progress(size)
    counts = np.concatenate([p[0] for p in parts])
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    columns = {name: np.concatenate([p[1][name] for p in parts]) for name in parts[0][1]}
    return MinBiasLibrary(
        offsets=offsets,
        pdg_id=columns["pdg_id"].astype(np.int32),
        **{
            name: columns[name].astype(np.float32)
            for name in ("px", "py", "pz", "energy", "mass", "x", "y", "z")
        },
    )


def ensure_library(
    n_events: int = MINBIAS_EVENTS,
    progress: Callable[[int], None] | None = None,
) -> Path:
    """Path of the cached library, building it (atomically) when missing."""
    path = library_path(n_events)
    if path.is_file():
        return path
    library = build_library(n_events, progress)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp.npz")
    np.savez_compressed(
        temporary, **{name: getattr(library, name) for name in library.__dataclass_fields__}
    )
    os.replace(temporary, path)
    return path


def load_library(n_events: int = MINBIAS_EVENTS) -> MinBiasLibrary:
    """The cached library of ``n_events`` events (built first when missing)."""
    return _read_library(ensure_library(n_events))


@functools.lru_cache(maxsize=2)
def _read_library(path: Path) -> MinBiasLibrary:
    """Read a library file once per process (every chunk of a sample uses it)."""
    try:
        with np.load(path) as stored:
            return MinBiasLibrary(
                **{name: stored[name] for name in MinBiasLibrary.__dataclass_fields__}
            )
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
        raise InputFileError(
            f"{path}: unreadable min-bias library ({type(error).__name__}: {error}); "
            "delete it to rebuild"
        ) from None
