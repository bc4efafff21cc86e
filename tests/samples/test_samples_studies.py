"""The study modules on generated samples: the μτh selection and its truth sources, the
cross-section normalisation, and the processor's b-regression response against gen-jet pT with
neutrinos."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest
import uproot

from jetml import mutau
from jetml.errors import InputFileError
from jetml.normalisation import FORCED_DECAY_FACTORS, normalisation
from jetml.processor.processor import TaggerProcessor
from jetml.taggers.breg import breg


def test_mutau_pairs_follow_the_selection(sample_events) -> None:
    events = sample_events("dy_mutauh")
    pairs = mutau.select_pairs(events, mutau.cut_based_id())
    assert len(pairs.event_index) > 0
    chosen = events[pairs.event_index]
    muons = mutau.selected_muons(chosen)
    taus = mutau.preselected_taus(chosen)
    taus = taus[(taus.idIsoCut & 2) > 0]
    # the leading selected muon and the leading ID-passing tau at ΔR > 0.5 (one per event)
    mu, tau = muons[:, 0], taus[:, 0]
    assert ak.all(mu.delta_r(tau) > 0.5)
    np.testing.assert_allclose(pairs.visible_mass, ak.to_numpy((mu + tau).mass), rtol=1e-5)
    np.testing.assert_array_equal(pairs.opposite_sign, ak.to_numpy(mu.charge != tau.charge))
    assert np.all(pairs.tau_pt > 20) and np.all(pairs.visible_mass < 91.2)
    # Z -> tau tau with tau -> mu, tau -> hadrons: mostly opposite-sign genuine tau_h
    assert pairs.opposite_sign.mean() > 0.9
    assert np.mean(pairs.source == mutau.SOURCES.index("genuine τh")) > 0.8
    # a tighter ID keeps a subset
    tight = mutau.select_pairs(events, mutau.cut_based_id(4))
    assert set(tight.event_index) <= set(pairs.event_index)


def test_mutau_file_in_chunks_equals_one_pass(sample_file, sample_events) -> None:
    path, events = sample_file("dy_mutauh"), sample_events("dy_mutauh")
    ids = {"cut-based": mutau.cut_based_id(), "tight": mutau.cut_based_id(4)}
    whole = mutau.process_file(path, "dy_mutauh", 1000.0, ids, chunk_events=len(events))
    chunked = mutau.process_file(path, "dy_mutauh", 1000.0, ids, chunk_events=37)
    assert whole[0] == chunked[0]
    for key in ids:
        a, b = whole[1][key].pairs, chunked[1][key].pairs
        assert len(a.event_index) > 0
        for field in a.__dataclass_fields__:
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)
    assert whole[2].keys() == chunked[2].keys()
    for field, values in whole[2].items():
        np.testing.assert_array_equal(values, chunked[2][field], err_msg=field)
    with pytest.raises(ValueError, match="chunk_events"):
        mutau.process_file(path, "dy_mutauh", 1000.0, ids, chunk_events=0)


def test_mutau_file_without_events(tmp_path) -> None:
    path = tmp_path / "empty.root"
    with uproot.recreate(path) as file:
        file["Events"] = {"run": np.zeros(0, dtype=np.uint32)}
    with pytest.raises(InputFileError, match=r"empty\.root: no events"):
        mutau.process_file(path, "dy_mutauh", 1000.0, {"cut-based": mutau.cut_based_id()})


def test_delta_beta_isolation_subtracts_charged_pileup(sample_file) -> None:
    from jetml.nanoaod import load_events

    events = load_events(sample_file("ttbar_semilep_pu"))  # pileup mu = 30
    iso = mutau.delta_beta_isolation(events)
    taus, cands = events.Tau, events.PFCands
    assert ak.all(ak.num(iso) == ak.num(taus)) and ak.sum(ak.num(taus)) > 0
    # reference: nested awkward over (tau, charged candidate) pairs with coffea's delta_r; the
    # samples store every candidate within 0.5 of a tau, the sum is scaled to CMS's 0.8 cone
    charged = cands[(cands.charge != 0) & (cands.pt > 0.5)]
    tau, cand = ak.unzip(ak.cartesian([taus, charged], axis=1, nested=True))
    pileup = (np.abs(cand.dz - tau.dz) > 0.2) & (tau.delta_r(cand) < 0.5)
    pileup_sum = ak.sum(ak.where(pileup, cand.pt, 0.0), axis=-1) * (0.8 / 0.5) ** 2
    expected = taus.chargedIso + np.maximum(0.0, taus.neutralIso - 0.2 * pileup_sum)
    np.testing.assert_allclose(ak.flatten(iso), ak.flatten(expected), rtol=1e-6, atol=1e-6)
    assert ak.all(iso <= taus.rawIso + 1e-4) and ak.any(iso < taus.rawIso - 0.1)
    tagged = mutau.attach_delta_beta_id(events)
    bits = tagged.Tau[mutau.DELTA_BETA_FIELD]
    for bit, limit in mutau.ISOLATION_WPS.items():
        assert ak.all(((bits & bit) > 0) == (iso < limit))
    corrected, raw = mutau.cut_based_id(delta_beta=True), mutau.cut_based_id()
    assert ak.all(corrected.passes(tagged.Tau) | ~raw.passes(tagged.Tau))  # looser, never tighter


def test_tau_sources_of_gen_part_flav() -> None:
    names = [mutau.SOURCES[i] for i in mutau.tau_source([0, 1, 2, 3, 4, 5])]
    assert names == ["jet → τh", "e → τh", "μ → τh", "e → τh", "μ → τh", "genuine τh"]


def test_candidates_and_ids_agree(sample_events) -> None:
    events = sample_events("w_jets")
    candidates = mutau.tau_candidates(events)
    tau_id = mutau.cut_based_id()
    flat = tau_id.passes(candidates)
    jagged = tau_id.passes(mutau.preselected_taus(events))
    np.testing.assert_array_equal(flat, ak.to_numpy(ak.flatten(jagged)))
    jets = candidates["source"] == mutau.SOURCES.index("jet → τh")
    assert jets.mean() > 0.5  # W + jets: tau candidates are mostly jets
    eff = mutau.binned_efficiency(candidates["pt"][jets], flat[jets], [20, 40, 1000])
    assert eff.total.sum() == np.count_nonzero(candidates["pt"][jets] >= 20)
    assert np.all(eff.low <= eff.value) and np.all(eff.value <= eff.high)


def test_normalisation_reads_runs(sample_file) -> None:
    path = sample_file("dy_mutauh")
    runs = uproot.open(path)["Runs"].arrays(library="np")
    norm = normalisation(path, 1000.0, preset="dy_mutauh")
    expected = runs["sigmaGen"][0] * FORCED_DECAY_FACTORS["dy_mutauh"] * 1000.0 / 400
    assert norm.weight == pytest.approx(expected)
    assert normalisation(path, 1000.0).branching == 1.0


def test_normalisation_of_a_file_without_runs(tmp_path) -> None:
    path = tmp_path / "noruns.root"
    with uproot.recreate(path) as file:
        file["Events"] = {"x": np.arange(3)}
    with pytest.raises(InputFileError, match=r"noruns\.root: no Runs tree"):
        normalisation(path, 1.0)


def test_breg_response_uses_b_jets_and_pt_with_neutrinos(sample_events) -> None:
    events = sample_events("ttbar_semilep")
    processor = TaggerProcessor([breg()])
    output = processor.process(events)
    (hists,) = output["hists"].values()
    response = hists["breg_response"][{"pt": "raw"}]
    jets = events.Jet
    index = jets.genJetIdx
    valid = (index >= 0) & (index < ak.num(events.GenJet.pt))
    gen = events.GenJet.ptWithNu[ak.mask(index, valid)]
    selected = (jets.pt >= 20) & (np.abs(jets.eta) < 2.4) & (jets.hadronFlavour == 5) & valid
    expected = ak.to_numpy(ak.flatten(jets.pt[selected] / gen[selected]))
    assert response.sum(flow=True) == len(expected) > 0
    reference = np.histogram(expected, bins=60, range=(0.0, 2.0))[0]
    np.testing.assert_array_equal(response.values(), reference)


def test_generator_corrections_give_the_gen_jet_energy(sample_events) -> None:
    from jetml import resolution
    from jetml.api import tag

    events = tag(sample_events("ttbar_semilep"), "breg")
    jets, correction = resolution.event_b_jets(events)
    ideal = resolution.generator_corrections(events)
    assert ak.all(ak.num(ideal) == ak.num(correction)) and ak.sum(ak.num(ideal)) > 0
    flat = resolution.regressed_b_jets(events)  # the matched ones, with pT(gen, nu) / pT
    matched = ak.to_numpy(ak.flatten(jets.genJetIdx >= 0))
    np.testing.assert_allclose(ak.to_numpy(ak.flatten(ideal))[matched], 1 / flat["raw"], rtol=1e-6)
    assert np.all(ak.to_numpy(ak.flatten(ideal))[~matched] == 1.0)
    # the corrected pair mass is the mass of the generator-level energies at reco angles
    _, perfect = resolution.leading_b_jet_pair(jets, ideal)
    raw, _ = resolution.leading_b_jet_pair(jets, correction)
    assert len(perfect) == len(raw) > 0 and np.all(np.isfinite(perfect))


def test_resolved_zh_and_dileptonic_ttbar_presets(sample_cache) -> None:
    from jetml.nanoaod import load_events
    from jetml.samples import get

    zh = load_events(get("zh_bb_resolved", 40, 71, mpi=False))
    jets = zh.Jet[(zh.Jet.hadronFlavour == 5) & (zh.Jet.pt > 20) & (np.abs(zh.Jet.eta) < 2.4)]
    two = jets[ak.num(jets) >= 2]
    # resolved: Higgs pT well below m_H / 0.4, so the b quarks (Delta R ~ 2 m_H / pT) are separate
    # AK4 jets, not one AK8 jet as in the boosted zh_bb
    higgs_pt = ak.to_numpy(ak.max(zh.GenPart.pt[zh.GenPart.pdgId == 25], axis=1))
    assert np.median(higgs_pt) < 150 and np.mean(2 * 125 / higgs_pt > 0.8) > 0.9
    assert len(two) > 0.3 * len(zh)  # both b jets with pT > 20 GeV, |eta| < 2.4
    mbb = ak.to_numpy((two[:, 0] + two[:, 1]).mass)
    assert 80 < np.median(mbb) < 135
    assert np.all(zh.GenMET.pt > 0)  # Z -> nu nu
    tt = load_events(get("ttbar_dilep", 20, 72, mpi=False))
    part = tt.GenPart
    mother = part.distinctParent.pdgId
    flavour = np.abs(part.pdgId)
    charged_lepton = (flavour == 11) | (flavour == 13) | (flavour == 15)
    leptons = part[charged_lepton & (np.abs(mother) == 24)]
    assert ak.all(ak.num(leptons) >= 2)  # both W -> l nu
