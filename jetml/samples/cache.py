"""Cached samples: ``get(preset, events, seed)`` generates a file once and reuses it.

The cache folder is ``$JETML_CACHE`` or ``~/.cache/jetml``; file names encode every argument that
defines the content, plus a format version bumped whenever the generator output changes.
"""

from __future__ import annotations

import os
from pathlib import Path

from jetml.samples.minbias import MINBIAS_EVENTS
from jetml.samples.production import CHUNK_EVENTS, GenerationRequest, produce

FORMAT_VERSION = 2


def cache_dir() -> Path:
    """The sample cache folder (created on demand)."""
    return Path(os.environ.get("JETML_CACHE") or Path.home() / ".cache" / "jetml")


def cached_path(request: GenerationRequest) -> Path:
    """Where the sample for ``request`` lives in the cache."""
    parts = [request.preset, f"{request.events}ev", f"seed{request.seed}"]
    if not request.mpi:
        parts.append("nompi")
    if request.pthat_min is not None:
        parts.append(f"pthat{request.pthat_min:g}")
    if request.chunk_events != CHUNK_EVENTS:
        parts.append(f"chunk{request.chunk_events}")
    parts.append(f"pu{request.mu:g}")
    if request.mu > 0 and request.minbias_events != MINBIAS_EVENTS:
        parts.append(f"mb{request.minbias_events}")
    return cache_dir() / f"{'_'.join(parts)}_v{FORMAT_VERSION}.root"


def get(
    preset: str,
    events: int,
    seed: int,
    *,
    mpi: bool = True,
    pthat_min: float | None = None,
    pileup: float | None = None,
    minbias_events: int = MINBIAS_EVENTS,
    jobs: int = 1,
) -> Path:
    """Path of the cached PFNano sample for these arguments, generating it when missing.

    ``pileup``: mean pileup interactions (None: the preset's default).
    """
    request = GenerationRequest(
        preset,
        events,
        seed,
        mpi=mpi,
        pthat_min=pthat_min,
        pileup=pileup,
        minbias_events=minbias_events,
    )
    request.validate()
    path = cached_path(request)
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    return produce(request, path, jobs=jobs, overwrite=True)
