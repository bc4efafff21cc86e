"""Physics of the generated samples, read back through coffea NanoEvents (PFNanoAODSchema)."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

from jetml.samples import PRESETS, DeepJetLabel, FatJetLabel

TOP = (FatJetLabel.Top_bcq, FatJetLabel.Top_bqq)
W = (FatJetLabel.W_cq, FatJetLabel.W_qq)
Z = (FatJetLabel.Z_bb, FatJetLabel.Z_cc, FatJetLabel.Z_qq)
H_BB = (FatJetLabel.H_bb,)


def soft_drop_peak(events, labels, width: float = 10.0) -> tuple[float, int]:
    """Centre of the most populated soft-drop-mass bin of AK8 jets with these labels."""
    fatjets = events.FatJet
    selected = np.isin(ak.to_numpy(ak.flatten(fatjets.label)), [int(label) for label in labels])
    masses = ak.to_numpy(ak.flatten(fatjets.msoftdrop))[selected]
    counts, edges = np.histogram(masses, bins=np.arange(0.0, 300.0 + width, width))
    best = int(np.argmax(counts))
    return float(0.5 * (edges[best] + edges[best + 1])), len(masses)


@pytest.mark.parametrize(
    ("sample", "labels", "low", "high"),
    [
        ("ttbar_had", TOP, 150.0, 195.0),
        ("ttbar_had", W, 65.0, 100.0),
        ("ww", W, 65.0, 100.0),
        ("zz", Z, 65.0, 100.0),
        ("zh_bb", H_BB, 100.0, 140.0),
    ],
)
def test_soft_drop_mass_peaks(sample_events, sample, labels, low, high):
    peak, n_jets = soft_drop_peak(sample_events(sample), labels)
    assert n_jets >= 40, f"only {n_jets} labelled jets in {sample}"
    assert low <= peak <= high


@pytest.mark.parametrize("sample", ["ttbar_had", "ww", "zz", "zh_bb", "qcd"])
def test_every_label_of_the_preset_occurs(sample_events, sample):
    labels = set(ak.to_numpy(ak.flatten(sample_events(sample).FatJet.label)).tolist())
    expected = {int(label) for label in PRESETS[sample].fatjet_labels}
    assert expected
    assert expected <= labels, f"missing {sorted(FatJetLabel(x).name for x in expected - labels)}"
    assert labels <= {int(label) for label in FatJetLabel}


def test_b_jet_tracks_are_displaced(sample_events):
    """b jets: >= 3x the mean |d0|/d0Err of uds jets, for b-tagging-selected tracks.

    Tracks are selected as CMS b-tagging does (pT > 1 GeV, |d0| < 0.2 cm, |dz| < 17 cm), which
    removes K0S/Lambda daughters, whose centimetre-scale d0 would otherwise dominate the mean.
    """
    events = sample_events("ttbar_semilep")
    owners = events.JetPFCands
    tracks = owners.pf
    jets = events.Jet[owners.jetIdx]
    selected = (
        (tracks.charge != 0) & (tracks.pt > 1.0) & (abs(tracks.d0) < 0.2) & (abs(tracks.dz) < 17.0)
    )
    significance = ak.to_numpy(ak.flatten((abs(tracks.d0) / tracks.d0Err)[selected]))
    hadron = ak.to_numpy(ak.flatten(jets.hadronFlavour[selected]))
    parton = np.abs(ak.to_numpy(ak.flatten(jets.partonFlavour[selected])))
    b_mean = significance[hadron == 5].mean()
    uds_mean = significance[(hadron == 0) & (parton >= 1) & (parton <= 3)].mean()
    assert b_mean >= 3.0 * uds_mean, (b_mean, uds_mean)


@pytest.mark.parametrize(
    ("collection", "owners"), [("Jet", "JetPFCands"), ("FatJet", "FatJetPFCands")]
)
def test_constituent_momenta_add_up_to_the_jet(sample_events, collection, owners):
    events = sample_events("ttbar_had")
    jets = events[collection]
    # Through the cross-references: (Fat)JetPFCands -> PFCands, grouped per jet by jetIdx.
    links = events[owners]
    candidates = links.pf
    per_jet = ak.unflatten(ak.flatten(candidates), ak.flatten(ak.run_lengths(links.jetIdx)), axis=0)
    px = ak.sum(per_jet.pt * np.cos(per_jet.phi), axis=-1)
    py = ak.sum(per_jet.pt * np.sin(per_jet.phi), axis=-1)
    jet_pt = ak.to_numpy(ak.flatten(jets.pt))
    assert len(jet_pt) == len(px) > 100
    np.testing.assert_allclose(ak.to_numpy(np.hypot(px, py)), jet_pt, rtol=0.01)
    if collection == "FatJet":
        via_schema = jets.constituents.pf
        sum_px = ak.flatten(ak.sum(via_schema.pt * np.cos(via_schema.phi), axis=-1))
        sum_py = ak.flatten(ak.sum(via_schema.pt * np.sin(via_schema.phi), axis=-1))
        np.testing.assert_allclose(ak.to_numpy(np.hypot(sum_px, sum_py)), jet_pt, rtol=0.01)


def test_deepjet_labels_cover_all_classes(sample_events):
    labels = set(ak.to_numpy(ak.flatten(sample_events("ttbar_semilep").Jet.deepJetLabel)).tolist())
    assert {int(label) for label in DeepJetLabel if label != DeepJetLabel.undefined} <= labels


def test_flavour_is_consistent(sample_events):
    jets = sample_events("ttbar_semilep").Jet
    hadron = ak.to_numpy(ak.flatten(jets.hadronFlavour))
    n_b = ak.to_numpy(ak.flatten(jets.nBHadrons))
    n_c = ak.to_numpy(ak.flatten(jets.nCHadrons))
    assert set(np.unique(hadron).tolist()) == {0, 4, 5}
    np.testing.assert_array_equal(hadron == 5, n_b > 0)
    np.testing.assert_array_equal(hadron == 4, (n_b == 0) & (n_c > 0))


def test_secondary_vertices_are_displaced_and_in_b_jets(sample_events):
    events = sample_events("ttbar_semilep")
    vertices = events.SV
    assert ak.sum(ak.num(vertices)) > 50
    assert ak.all(vertices.ntracks >= 2)
    assert ak.all(vertices.dxy > 0)
    linked = events.JetSVs
    flavour = ak.to_numpy(ak.flatten(events.Jet[linked.jetIdx].hadronFlavour))
    assert np.mean(flavour > 0) > 0.9
    np.testing.assert_allclose(
        ak.to_numpy(ak.flatten(linked.sv.mass)), ak.to_numpy(ak.flatten(linked.mass)), rtol=1e-6
    )


def test_neutrino_inclusive_gen_pt(sample_events):
    gen = sample_events("ttbar_semilep").GenJet
    with_nu = ak.to_numpy(ak.flatten(gen.ptWithNu))
    visible = ak.to_numpy(ak.flatten(gen.pt))
    # Neutrinos only add momentum in b/c jets, and only some.
    assert np.all(with_nu >= 0)
    changed = np.abs(with_nu - visible) > 1e-3 * visible
    assert 0 < changed.mean() < 0.5


def test_genpart_tree(sample_events):
    events = sample_events("ttbar_had")
    gen = events.GenPart
    tops = gen[(abs(gen.pdgId) == 6) & gen.hasFlags(["isLastCopy"])]
    assert ak.all(ak.num(tops) == 2)
    children = ak.flatten(tops.children.pdgId, axis=2)
    # t -> W q with a down-type quark (b, or rarely s/d through CKM mixing).
    down_type = (abs(children) == 5) | (abs(children) == 3) | (abs(children) == 1)
    assert ak.all(ak.sum(down_type, axis=1) == 2)
    assert ak.mean(ak.sum(abs(children) == 5, axis=1) == 2) > 0.95
    assert ak.all(ak.sum(abs(children) == 24, axis=1) == 2)
    b_hadrons = gen[(abs(gen.pdgId) // 100 % 10 == 5) & (abs(gen.pdgId) < 1000)]
    assert ak.sum(ak.num(b_hadrons)) > 200
