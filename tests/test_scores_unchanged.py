"""Every shipped tagger gives bitwise the scores recorded in ``tests/data/shipped_scores.npz``.

The references were made by the code before the layout change of issue 11 (recipes moved to
``jetml.features``, one model card, training registry), on the real ``pfnano.root`` and on two
tiny generated samples; a refactor that changes any score by one bit fails here. The generated
samples' references were recorded again, from the same tagger code, when the generator gained
pileup, vertices and detector tails (issue 12); the ``pfnano.root`` references are the
originals. Run this file as a script (``python tests/test_scores_unchanged.py --write``) only
to record references for a deliberate change of the shipped models or of the generator.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import awkward as ak
import numpy as np
import pytest

REFERENCE = Path(__file__).resolve().parent / "data" / "shipped_scores.npz"
GENERATED = {"ttbar_had": ("ttbar_had", 40, 21), "dy_mutauh": ("dy_mutauh", 60, 21)}
"""Tiny generated samples (MPI off): AK8 and AK4 jets from hadronic ttbar, taus from μτh."""
INPUT_BRANCHES = ("FatJet_pt", "Jet_pt", "Tau_pt", "PFCands_pt")
"""Branches whose digest identifies a generated sample (see :func:`sample_digest`)."""


def sample_digest(events: ak.Array) -> str:
    """sha256 of a few input branches: tells a changed generator from a changed tagger."""
    digest = hashlib.sha256()
    for branch in INPUT_BRANCHES:
        collection, _, field = branch.partition("_")
        values = ak.to_numpy(ak.flatten(events[collection][field], axis=None))
        digest.update(np.ascontiguousarray(values, dtype=np.float32).tobytes())
    return digest.hexdigest()


def all_scores(sample: str, events: ak.Array) -> dict[str, np.ndarray]:
    """``{"<sample>/<tagger>/<score>": scores}`` of every registered tagger on ``events``."""
    from jetml.taggers.registry import resolve_taggers

    scores = {}
    for tagger in resolve_taggers("all"):
        mask = tagger.select(events[tagger.collection])
        for name, values in tagger.evaluate(events, mask).items():
            scores[f"{sample}/{tagger.name}/{name}"] = values
    return scores


def sources(cms_nano: Path) -> dict[str, ak.Array]:
    """The events of every reference sample, by sample name."""
    from jetml.nanoaod import load_events
    from jetml.samples import get

    loaded = {"pfnano": load_events(cms_nano / "pfnano.root")}
    for name, (preset, n_events, seed) in GENERATED.items():
        loaded[name] = load_events(get(preset, n_events, seed, mpi=False))
    return loaded


@pytest.fixture(scope="module")
def loaded(cms_nano: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, ak.Array]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JETML_CACHE", str(tmp_path_factory.mktemp("cache")))
        return sources(cms_nano)


def test_shipped_scores_are_bitwise_unchanged(loaded: dict[str, ak.Array]) -> None:
    reference = np.load(REFERENCE)
    for sample, events in loaded.items():
        if sample != "pfnano" and sample_digest(events) != str(reference[f"{sample}/digest"]):
            message = f"generated sample {sample} changed (the generator, not the taggers)"
            pytest.fail(f"{message}: record references again from unchanged tagger code")
        scores = all_scores(sample, events)
        expected = sorted(key for key in reference.files if key.startswith(f"{sample}/"))
        assert sorted([*scores, *([f"{sample}/digest"] if sample != "pfnano" else [])]) == expected
        for key, values in scores.items():
            assert values.dtype == reference[key].dtype, key
            np.testing.assert_array_equal(values, reference[key], err_msg=key, strict=True)
    # every tagger scored real objects somewhere (DeepTau only has taus in the generated sample)
    jets = {
        key.split("/")[1] for key in reference.files if key.count("/") == 2 and reference[key].size
    }
    assert len(jets) == 7


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    from conftest import CMS_NANO

    arrays: dict[str, np.ndarray] = {}
    for sample, events in sources(CMS_NANO).items():
        arrays.update(all_scores(sample, events))
        if sample != "pfnano":
            arrays[f"{sample}/digest"] = np.array(sample_digest(events))
    np.savez_compressed(REFERENCE, **arrays)
    print({key: value.shape for key, value in arrays.items()})
