"""Leptons, hadronic taus and MET of the generated samples (the DeepTau-study ingredients)."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

# tau branching fractions (PDG 2024), grouped by the reconstructed decay mode they feed:
# DM0 <- h nu (11.52%); DM1 <- h pi0 nu (25.93%) + h 2pi0 nu (9.33%) + h 3pi0 nu (1.04%);
# DM10 <- 3h nu (9.80%) + 3h pi0 nu (4.76%); normalised to the three modes together.
_BRANCHING = {0: 11.52, 1: 25.93 + 9.33 + 1.04, 10: 9.80 + 4.76}
EXPECTED_DECAY_MODES = {
    mode: value / sum(_BRANCHING.values()) for mode, value in _BRANCHING.items()
}


def test_mutauh_visible_mass(sample_events):
    events = sample_events("dy_mutauh")
    muons = events.Muon[(events.Muon.pt > 10) & (abs(events.Muon.eta) < 2.4)]
    taus = events.Tau[(events.Tau.pt > 20) & (events.Tau.genPartFlav == 5)]
    pairs = ak.cartesian({"muon": muons, "tau": taus})
    pairs = pairs[pairs.muon.charge * pairs.tau.charge < 0]
    mass = ak.to_numpy(ak.flatten((pairs.muon + pairs.tau).mass))
    assert len(mass) >= 25
    assert np.mean(mass < 91.0) >= 0.95
    counts, edges = np.histogram(mass, bins=np.arange(0.0, 130.0, 10.0))
    peak = 0.5 * (edges[np.argmax(counts)] + edges[np.argmax(counts) + 1])
    assert 40.0 <= peak <= 80.0


def test_genuine_tau_decay_modes_follow_branching_fractions(sample_events):
    taus = sample_events("dy_mutauh").Tau
    modes = ak.to_numpy(ak.flatten(taus.decayMode[taus.genPartFlav == 5]))
    assert len(modes) >= 60
    assert set(np.unique(modes).tolist()) <= {0, 1, 10}
    for mode, expected in EXPECTED_DECAY_MODES.items():
        assert np.mean(modes == mode) == pytest.approx(expected, abs=0.05), mode


def test_generator_visible_taus(sample_events):
    events = sample_events("dy_mutauh")
    visible = events.GenVisTau
    # One forced hadronic tau+ per event (minus those below 10 GeV visible pT).
    assert ak.all(ak.num(visible) <= 1)
    assert 0.6 < ak.mean(ak.num(visible)) < 1.0
    # Visible: lighter than the tau, and its momentum comes from the tau's.
    assert ak.all(visible.mass < 1.777)
    assert ak.all(visible.energy < visible.parent.energy + 1e-3)
    assert ak.all(visible.charge == 1)
    assert ak.all(abs(visible.parent.pdgId) == 15)
    assert set(np.unique(ak.to_numpy(ak.flatten(visible.status))).tolist()) <= {0, 1, 2, 10, 11, 15}


def test_muon_efficiency_in_z_to_mumu(sample_events):
    events = sample_events("dy_mumu")
    gen = events.GenPart
    prompt = gen[
        (abs(gen.pdgId) == 13)
        & (gen.status == 1)
        & gen.hasFlags(["isPrompt"])
        & (gen.pt > 20)
        & (abs(gen.eta) < 2.4)
    ]
    muons = events.Muon[events.Muon.mediumId]
    nearest = prompt.nearest(muons, threshold=0.1)
    n_gen = ak.sum(ak.num(prompt))
    assert n_gen > 150
    assert ak.sum(~ak.is_none(nearest, axis=1)) / n_gen >= 0.90
    flav = ak.to_numpy(ak.flatten(events.Muon.genPartFlav[events.Muon.pt > 20]))
    assert np.mean(flav == 1) > 0.95
    assert ak.all(
        events.Muon[events.Muon.genPartIdx >= 0].matched_gen.pdgId
        == events.Muon[events.Muon.genPartIdx >= 0].pdgId
    )


def test_taus_in_w_jets_are_mostly_jets(sample_events):
    flav = ak.to_numpy(ak.flatten(sample_events("w_jets").Tau.genPartFlav))
    assert len(flav) > 30
    assert np.mean(flav == 0) > 0.5


@pytest.mark.parametrize(("bit", "name"), [(1, "Loose"), (2, "Medium"), (4, "Tight")])
def test_cut_based_id_prefers_genuine_taus(sample_events, bit, name):
    genuine = sample_events("dy_mutauh").Tau
    fakes = sample_events("w_jets").Tau
    genuine_id = ak.to_numpy(ak.flatten(genuine.idIsoCut[genuine.genPartFlav == 5]))
    fake_id = ak.to_numpy(ak.flatten(fakes.idIsoCut[fakes.genPartFlav == 0]))
    assert np.mean((genuine_id & bit) > 0) > np.mean((fake_id & bit) > 0), name


def test_working_points_are_nested(sample_events):
    ids = ak.to_numpy(ak.flatten(sample_events("w_jets").Tau.idIsoCut))
    tight, medium, loose = (ids & 4) > 0, (ids & 2) > 0, (ids & 1) > 0
    assert np.all(medium[tight]) and np.all(loose[medium])


def test_met_follows_the_neutrinos(sample_events):
    events = sample_events("w_jets")
    gen_met = ak.to_numpy(events.GenMET.pt)
    assert np.median(gen_met) > 20.0
    # PF MET from all candidates; PuppiMET from PUPPI-weighted ones (soft neutrals weighted 0).
    for met in (ak.to_numpy(events.MET.pt), ak.to_numpy(events.PuppiMET.pt)):
        assert np.median(np.abs(met - gen_met) / gen_met) < 0.3
    assert not np.array_equal(ak.to_numpy(events.MET.pt), ak.to_numpy(events.PuppiMET.pt))


def test_isolation_candidates_are_stored(sample_events):
    events = sample_events("dy_mutauh")
    taus = events.Tau
    candidates = events.PFCands
    pairs = ak.cartesian({"tau": taus, "pf": candidates}, nested=True)
    near = pairs.tau.delta_r(pairs.pf) < 0.5
    charged = (pairs.pf.charge != 0) & (pairs.pf.pt > 0.5)
    # Stored charged candidates in the cone account for at least the charged isolation sum.
    summed = ak.sum(ak.where(near & charged, pairs.pf.pt, 0.0), axis=-1)
    assert ak.all(summed + 1e-3 >= taus.chargedIso)


def test_muon_filtered_qcd_records_its_efficiency(sample_cache):
    import uproot

    from jetml.samples import get

    path = get("qcd_mu", 3, 5, mpi=False)
    runs = uproot.open(path)["Runs"].arrays(library="np")
    assert 0.0 < runs["filterEfficiency"][0] < 0.1
    events = uproot.open(path)["Events"]
    pt = events["Muon_pt"].array()
    assert ak.all(ak.num(pt) >= 1)
