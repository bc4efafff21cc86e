"""The Tagger interface on the real CMS files: input checks, default selection, truth labels."""

from __future__ import annotations

from pathlib import Path

import awkward as ak
import numpy as np
import uproot

from jetml.nanoaod import load_events
from jetml.taggers.base import Tagger, branch_available


class _PtTagger(Tagger):
    """Score = jet pT / 1000, on PF-candidate branches so that plain NanoAOD lacks its inputs."""

    name = "pt_over_tev"
    collection = "FatJet"
    score_names = ("score",)
    branches = ("FatJet_pt", "PFCands_pt", "FatJetPFCands_jetIdx")
    uses_pf_candidates = True

    def evaluate(self, events: ak.Array, mask: ak.Array) -> dict[str, np.ndarray]:
        jets = events[self.collection][mask]
        return {"score": ak.to_numpy(ak.flatten(jets.pt)) / 1000.0}


def test_branch_lookup_and_missing_inputs(cms_nano: Path) -> None:
    pfnano = load_events(cms_nano / "pfnano.root")
    plain = load_events(cms_nano / "nano_tt_v15.root")
    assert branch_available(pfnano, "FatJetPFCands_jetIdx")
    assert branch_available(pfnano, "run")
    assert not branch_available(pfnano, "FatJet_noSuchVariable")
    assert not branch_available(pfnano, "NoSuchCollection_pt")
    tagger = _PtTagger()
    assert tagger.missing_inputs(pfnano) == []
    assert tagger.missing_inputs(plain) == ["PFCands_pt", "FatJetPFCands_jetIdx"]


def test_default_select_labels_and_field_names(cms_nano: Path) -> None:
    path = cms_nano / "pfnano.root"
    events = load_events(path)
    tagger = _PtTagger()
    jets = events.FatJet
    mask = tagger.select(jets)
    assert ak.all(ak.num(mask) == ak.num(jets))
    assert ak.all(mask)
    scores = tagger.evaluate(events, mask)
    raw = uproot.open(path)["Events"].arrays(["FatJet_pt", "FatJet_hadronFlavour"])
    np.testing.assert_allclose(scores["score"], ak.flatten(raw.FatJet_pt).to_numpy() / 1000.0)
    labels = tagger.truth_labels(jets)
    expected = {5: "b", 4: "c", 0: "light"}
    flavours = ak.flatten(raw.FatJet_hadronFlavour).to_numpy()
    assert ak.flatten(labels).tolist() == [expected[int(f)] for f in flavours]
    assert set(ak.flatten(labels).tolist()) <= set(tagger.labels)
    assert tagger.field_name("score") == "jetml_pt_over_tev_score"


def test_no_truth_gives_no_labels(cms_nano: Path) -> None:
    jets = load_events(cms_nano / "pfnano.root").FatJet
    without_truth = ak.zip({"pt": jets.pt, "eta": jets.eta})
    assert _PtTagger().truth_labels(without_truth) is None
