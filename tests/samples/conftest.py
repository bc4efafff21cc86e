"""Session fixtures for the sample-generation tests: small samples generated once per session.

Samples go to a temporary ``JETML_CACHE`` so every test file shares them. Presets that do not
need multiparton interactions run with MPI off (faster); the top sample keeps the default (on).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

SAMPLES = {
    # name: (preset, events, seed, mpi)
    "ttbar_had": ("ttbar_had", 200, 11, True),
    "ww": ("ww", 200, 12, False),
    "zz": ("zz", 150, 13, False),
    "zh_bb": ("zh_bb", 150, 14, False),
    "qcd": ("qcd", 300, 15, False),
    "ttbar_semilep": ("ttbar_semilep", 300, 16, False),
}


@pytest.fixture(scope="session")
def sample_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A private JETML_CACHE folder for the whole session."""
    folder = tmp_path_factory.mktemp("jetml-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JETML_CACHE", str(folder))
        yield folder


@pytest.fixture(scope="session")
def sample_file(sample_cache: Path):
    """Factory: path of one of the SAMPLES (generated on first use, then cached)."""
    from jetml.samples import get

    def make(name: str) -> Path:
        preset, events, seed, mpi = SAMPLES[name]
        return get(preset, events, seed, mpi=mpi)

    return make


@pytest.fixture(scope="session")
def sample_events(sample_file):
    """Factory: coffea NanoEvents of one of the SAMPLES."""
    from jetml.nanoaod import load_events

    loaded = {}

    def load(name: str):
        if name not in loaded:
            loaded[name] = load_events(sample_file(name))
        return loaded[name]

    return load
