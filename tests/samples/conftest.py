"""Session fixtures for the sample-generation tests: small samples generated once per session.

Samples go to a temporary ``JETML_CACHE`` so every test file shares them. Presets that do not
need multiparton interactions run with MPI off (faster); the top sample keeps the default (on).
The physics samples have no pileup (mu = 0), which their tests assume; the ``*_pu`` samples
overlay pileup from a tiny min-bias library (``MINBIAS_EVENTS_TESTS`` events, built once).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

MINBIAS_EVENTS_TESTS = 150

SAMPLES = {
    # name: (preset, events, seed, mpi, pileup mu)
    "ttbar_had": ("ttbar_had", 200, 11, True, 0.0),
    "ww": ("ww", 200, 12, False, 0.0),
    "zz": ("zz", 150, 13, False, 0.0),
    "zh_bb": ("zh_bb", 150, 14, False, 0.0),
    "qcd": ("qcd", 300, 15, False, 0.0),
    "ttbar_semilep": ("ttbar_semilep", 300, 16, False, 0.0),
    "dy_mutauh": ("dy_mutauh", 400, 21, False, 0.0),
    "dy_mumu": ("dy_mumu", 150, 22, False, 0.0),
    "w_jets": ("w_jets", 300, 23, False, 0.0),
    "ttbar_semilep_pu": ("ttbar_semilep", 100, 16, False, 30.0),
}


@pytest.fixture(scope="session")
def sample_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A private JETML_CACHE folder for the whole session."""
    folder = tmp_path_factory.mktemp("jetml-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JETML_CACHE", str(folder))
        yield folder


@pytest.fixture(scope="session")
def tiny_library_events() -> int:
    """Size of the min-bias library the tests overlay pileup from."""
    return MINBIAS_EVENTS_TESTS


@pytest.fixture(scope="session")
def sample_file(sample_cache: Path):
    """Factory: path of one of the SAMPLES (generated on first use, then cached)."""
    from jetml.samples import get

    def make(name: str) -> Path:
        preset, events, seed, mpi, mu = SAMPLES[name]
        return get(preset, events, seed, mpi=mpi, pileup=mu, minbias_events=MINBIAS_EVENTS_TESTS)

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
