"""Premixed pileup: mixing, vertices and association, CHS, PUPPI and rho.

Unit tests run the pieces on real Pythia events with a tiny min-bias library; the file-level
tests read the ``ttbar_semilep_pu`` session sample (mu = 30).
"""

from __future__ import annotations

import awkward as ak
import fastjet
import numpy as np
import pytest
import uproot

from jetml.samples import DetectorModel
from jetml.samples.build import PileupSource, build_batch, reconstruct_with_pileup
from jetml.samples.generator import PythiaGenerator
from jetml.samples.minbias import load_library
from jetml.samples.pileup import BeamSpot, overlay
from jetml.samples.presets import get_preset
from jetml.samples.puppi import puppi_weights
from jetml.samples.rho import grid_median_rho


@pytest.fixture(scope="module")
def library(sample_cache, tiny_library_events):
    return load_library(tiny_library_events)


@pytest.fixture(scope="module")
def hard_events():
    """20 hard-scatter Z -> mumu events (MPI off: small, with a clear hard vertex)."""
    generator = PythiaGenerator(get_preset("dy_mumu").pythia_settings(seed=4, mpi=False))
    return generator.next_events(20)


def mixed_candidates(hard_events, library, mu: float, seed: int = 1):
    """Overlay, reconstruct and associate: (candidates, primary-vertex info, overlay)."""
    result = reconstruct_with_pileup(
        hard_events,
        DetectorModel(),
        np.random.default_rng(seed + 1),
        PileupSource(mu, library, np.random.default_rng(seed)),
    )
    return result.candidates, result.primary, result.mixed


def test_overlay_is_reproducible_and_keeps_the_hard_scatter_first(hard_events, library):
    first = overlay(hard_events, library, 25.0, BeamSpot(), np.random.default_rng(3))
    again = overlay(hard_events, library, 25.0, BeamSpot(), np.random.default_rng(3))
    np.testing.assert_array_equal(first.record.px, again.record.px)
    np.testing.assert_array_equal(first.n_pu, again.n_pu)
    assert 15 < first.n_pu.mean() < 35
    record = first.record
    # Every event: its hard-scatter rows (same momenta, in order), then pileup rows.
    hard = first.hard_row >= 0
    np.testing.assert_array_equal(record.px[hard], hard_events.px)
    np.testing.assert_array_equal(first.vertex[hard], 0)
    assert np.all(first.vertex[~hard] >= 1)
    event = record.event_of_row
    assert np.all(first.vertex[~hard] <= first.n_pu[event[~hard]])
    # Mother links of hard-scatter rows still point at the same particles.
    rows = np.flatnonzero(hard & (record.mother1 >= 0))
    np.testing.assert_array_equal(
        record.pdg_id[record.mother1[rows]],
        hard_events.pdg_id[hard_events.mother1[first.hard_row[rows]]],
    )
    # Interactions sit in the beam spot: sigma_z 3.5 cm.
    assert 2.0 < np.std(first.vertex_z) < 5.0
    none = overlay(hard_events, None, 0.0, BeamSpot(), np.random.default_rng(3))
    assert none.record.n_events == hard_events.n_events
    assert np.all(none.n_pu == 0) and np.all(none.hard_row >= 0)


def test_primary_vertex_is_the_largest_sum_pt2_and_dz_is_measured_from_it(hard_events, library):
    candidates, primary, mixed = mixed_candidates(hard_events, library, 30.0)
    # Z -> mumu with both muons in the tracker: the hard scatter has the largest sum pT^2.
    event = np.repeat(np.arange(len(candidates.counts)), candidates.counts)
    muon = (np.abs(candidates.pdg_id) == 13) & (candidates.pt > 20) & (candidates.vertex == 0)
    two_muons = np.bincount(event[muon], minlength=len(candidates.counts)) == 2
    assert two_muons.sum() >= 5
    assert np.all(primary.pv_is_hard_scatter[two_muons])
    true_z = mixed.vertex_z[mixed.vertex_offsets[:-1]]
    chosen = primary.pv_is_hard_scatter
    assert np.all(np.abs(primary.z[chosen] - true_z[chosen]) < 0.01)  # vertex resolution
    assert np.all(primary.npvs <= 1 + mixed.n_pu) and np.all(primary.npvs_good <= primary.npvs)
    assert primary.npvs.mean() > 0.6 * mixed.n_pu.mean()
    # Prompt tracks of the PV have dz ~ 0 relative to it; pileup tracks do not.
    track = (candidates.charge != 0) & chosen[event]
    prompt_hs = track & (candidates.vertex == 0) & (candidates.from_pv == 3)
    assert np.median(np.abs(candidates.dz[prompt_hs])) < 0.01
    pileup = track & (candidates.vertex > 0)
    assert np.median(np.abs(candidates.dz[pileup])) > 1.0


def test_association_follows_cms_pf_definitions(hard_events, library):
    candidates, _, _ = mixed_candidates(hard_events, library, 30.0)
    charged = candidates.charge != 0
    assert set(np.unique(candidates.from_pv[~charged])) == {3}
    assert set(np.unique(candidates.pv_assoc_quality[~charged])) == {7}
    assert set(np.unique(candidates.from_pv[charged])) <= {0, 1, 2, 3}
    assert set(np.unique(candidates.pv_assoc_quality[charged])) <= {0, 1, 5, 7}
    # fromPV 3 means used in the PV fit: always UsedInFitTight.
    assert np.all(candidates.pv_assoc_quality[candidates.from_pv == 3] == 7)
    # Identified leptons are at least PVTight.
    lepton = np.isin(np.abs(candidates.pdg_id), (11, 13))
    assert np.all(candidates.from_pv[lepton] >= 2)
    # Pileup tracks are used in their own vertex fits: mostly fromPV 0.
    pileup = charged & (candidates.vertex > 0)
    assert np.mean(candidates.from_pv[pileup] == 0) > 0.7


def test_chs_removes_only_pileup_charged_candidates(hard_events, library):
    candidates, primary, _ = mixed_candidates(hard_events, library, 30.0)
    event = np.repeat(np.arange(len(candidates.counts)), candidates.counts)
    good_pv = primary.pv_is_hard_scatter[event]
    removed = candidates.from_pv == 0  # the CHS selection keeps fromPV > 0
    assert np.all(candidates.charge[removed] != 0)
    # Where the PV is the hard scatter, CHS removes no prompt hard-scatter track...
    hard_prompt = good_pv & (candidates.vertex == 0) & (candidates.charge != 0)
    assert np.mean(removed[hard_prompt]) < 0.01
    # ...and nearly all it removes comes from pileup interactions (or fake tracks).
    assert np.mean(candidates.vertex[removed & good_pv] != 0) > 0.99
    assert np.sum(removed) > 100


def test_puppi_weights_are_in_range_and_lower_for_pileup(hard_events, library):
    candidates, primary, _ = mixed_candidates(hard_events, library, 30.0)
    weights = puppi_weights(
        candidates.offsets,
        candidates.pt,
        candidates.eta,
        candidates.phi,
        candidates.charge,
        candidates.from_pv,
        candidates.dz,
        primary.npvs,
    )
    assert np.all((weights >= 0) & (weights <= 1))
    charged = candidates.charge != 0
    assert set(np.unique(weights[charged])) <= {0.0, 1.0}
    np.testing.assert_array_equal(weights[charged & (candidates.from_pv == 0)], 0.0)
    np.testing.assert_array_equal(weights[charged & (candidates.from_pv >= 2)], 1.0)
    neutral = ~charged & (candidates.pt > 1.0)
    from_hard = weights[neutral & (candidates.vertex == 0)]
    from_pileup = weights[neutral & (candidates.vertex > 0)]
    assert len(from_hard) > 20 and len(from_pileup) > 200
    assert from_hard.mean() > 2 * from_pileup.mean()
    # Without pileup charged candidates there is nothing to compare with: neutrals keep w = 1
    # unless they fail the pT cut.
    clean, clean_primary, _ = mixed_candidates(hard_events, None, 0.0)
    clean_weights = puppi_weights(
        clean.offsets,
        clean.pt,
        clean.eta,
        clean.phi,
        clean.charge,
        clean.from_pv,
        clean.dz,
        clean_primary.npvs,
    )
    hard_neutral = (clean.charge == 0) & (np.abs(clean.eta) < 2.5) & (clean.pt > 1.0)
    assert np.all(clean_weights[hard_neutral] == 1.0)


def test_rho_equals_fastjets_grid_median_estimator():
    rng = np.random.default_rng(5)
    counts = np.array([0, 40, 700, 3000])
    offsets = np.concatenate([[0], np.cumsum(counts)])
    n = int(offsets[-1])
    pt = rng.exponential(1.0, n)
    eta = rng.uniform(-6, 6, n)
    phi = rng.uniform(-np.pi, np.pi, n)
    mass = rng.choice([0.0, 0.13957], n)
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    energy = np.sqrt(px**2 + py**2 + pz**2 + mass**2)
    rapidity = 0.5 * np.log((energy + pz) / (energy - pz))
    ours = grid_median_rho(offsets, pt, rapidity, phi)
    for event in range(len(counts)):
        estimator = fastjet.GridMedianBackgroundEstimator(5.0, 0.55)
        rows = range(offsets[event], offsets[event + 1])
        estimator.set_particles([fastjet.PseudoJet(px[i], py[i], pz[i], energy[i]) for i in rows])
        assert ours[event] == pytest.approx(estimator.rho(), rel=1e-9, abs=1e-12)


def test_rho_grows_with_mu(hard_events, library):
    model = DetectorModel()
    rho = []
    for mu in (0.0, 10.0, 30.0):
        pileup = PileupSource(mu, library if mu > 0 else None, np.random.default_rng(8))
        scalars, _ = build_batch(hard_events, model, np.random.default_rng(9), pileup)
        rho.append(scalars["Rho_fixedGridRhoFastjetAll"].mean())
        assert np.all(scalars["Pileup_nTrueInt"] == mu)
    assert rho[0] < rho[1] < rho[2]
    slope = (rho[2] - rho[0]) / 30.0
    assert 0.2 < slope < 3.0  # GeV per interaction (docs/samples.md compares with CMS)


def test_sample_with_pileup_has_the_nanoaod_branches(sample_file):
    tree = uproot.open(sample_file("ttbar_semilep_pu"))["Events"]
    expected = {
        "Pileup_nPU": "int32",
        "Pileup_nTrueInt": "float32",
        "PV_npvs": "int32",
        "PV_npvsGood": "int32",
        "PV_x": "float32",
        "PV_y": "float32",
        "PV_z": "float32",
        "Rho_fixedGridRhoFastjetAll": "float32",
    }
    arrays = tree.arrays(list(expected), library="np")
    for name, dtype in expected.items():
        assert arrays[name].dtype == np.dtype(dtype), name
    n_pu = arrays["Pileup_nPU"]
    assert abs(n_pu.mean() - 30.0) < 4 * np.sqrt(30.0 / len(n_pu))
    assert np.all(arrays["Pileup_nTrueInt"] == 30.0)
    assert np.all(arrays["PV_npvs"] <= n_pu + 1)
    assert np.all(arrays["Rho_fixedGridRhoFastjetAll"] > 5.0)
    candidates = tree.arrays(
        ["PFCands_charge", "PFCands_fromPV", "PFCands_puppiWeight", "JetPFCands_pFCandsIdx"]
    )
    weight = ak.flatten(candidates.PFCands_puppiWeight)
    assert ak.all((weight >= 0) & (weight <= 1))
    # AK4 jets are CHS: no constituent is a charged candidate of a pileup vertex.
    in_jets = candidates.PFCands_fromPV[candidates.JetPFCands_pFCandsIdx]
    assert ak.all(in_jets > 0)
    assert ak.any(candidates.PFCands_fromPV == 0)


def test_ak8_jets_are_clustered_from_puppi_weighted_candidates(sample_file):
    tree = uproot.open(sample_file("ttbar_semilep_pu"))["Events"]
    arrays = tree.arrays(
        [
            "FatJet_pt",
            "FatJet_phi",
            "FatJetPFCands_jetIdx",
            "FatJetPFCands_pFCandsIdx",
            "PFCands_pt",
            "PFCands_phi",
            "PFCands_puppiWeight",
        ]
    )
    index = arrays.FatJetPFCands_pFCandsIdx
    weight = arrays.PFCands_puppiWeight[index]
    assert ak.all(weight > 0)
    px = ak.to_numpy(
        ak.flatten(weight * arrays.PFCands_pt[index] * np.cos(arrays.PFCands_phi[index]))
    )
    py = ak.to_numpy(
        ak.flatten(weight * arrays.PFCands_pt[index] * np.sin(arrays.PFCands_phi[index]))
    )
    counts = ak.to_numpy(ak.num(arrays.FatJet_pt))
    jet_of = ak.to_numpy(ak.flatten(arrays.FatJetPFCands_jetIdx + 0 * arrays.FatJetPFCands_jetIdx))
    first = np.repeat(np.concatenate([[0], np.cumsum(counts)[:-1]]), ak.to_numpy(ak.num(index)))
    flat_jet = first + jet_of
    n_jets = int(counts.sum())
    jet_px = np.bincount(flat_jet, px, minlength=n_jets)
    jet_py = np.bincount(flat_jet, py, minlength=n_jets)
    np.testing.assert_allclose(
        np.hypot(jet_px, jet_py), ak.to_numpy(ak.flatten(arrays.FatJet_pt)), rtol=1e-4
    )


def test_minbias_library_is_reproducible_and_cached(library, tiny_library_events, sample_cache):
    from jetml.samples.minbias import build_library, library_path

    assert library_path(tiny_library_events).parent == sample_cache
    assert library.n_events == tiny_library_events
    again = build_library(tiny_library_events)
    np.testing.assert_array_equal(again.offsets, library.offsets)
    np.testing.assert_array_equal(again.px, library.px)
    # Stable visible particles only: no neutrinos, within HF acceptance.
    assert not np.any(np.isin(np.abs(library.pdg_id), (12, 14, 16)))
    pt = np.hypot(library.px, library.py)
    assert np.all(np.abs(np.arcsinh(library.pz / pt)) < 5.0)
    assert 50 < library.counts.mean() < 400


def test_corrupt_minbias_library_is_a_one_line_error(tmp_path, monkeypatch, capsys):
    from jetml.cli import main
    from jetml.samples.minbias import MINBIAS_EVENTS, library_path

    monkeypatch.setenv("JETML_CACHE", str(tmp_path))
    library_path(MINBIAS_EVENTS).write_bytes(b"PK\x03\x04 not a real archive")
    output = tmp_path / "out.root"
    arguments = ["generate", "ww", "-n", "5", "--seed", "1", "--pileup", "5", "-o", str(output)]
    assert main(arguments) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1
    assert "unreadable min-bias library" in error and str(library_path(MINBIAS_EVENTS)) in error
    assert not output.exists()


def test_generate_cli_builds_the_library_once_and_mixes_pileup(tmp_path, monkeypatch, capsys):
    from jetml.cli import main
    from jetml.samples.minbias import MINBIAS_EVENTS, library_path

    monkeypatch.setenv("JETML_CACHE", str(tmp_path / "cache"))
    output = tmp_path / "pu.root"
    arguments = ["generate", "ww", "-n", "20", "--seed", "2", "--no-mpi", "--pileup", "10"]
    assert main([*arguments, "-o", str(output)]) == 0
    assert "min-bias library" in capsys.readouterr().err
    assert library_path(MINBIAS_EVENTS).is_file()
    arrays = uproot.open(output)["Events"].arrays(["Pileup_nPU", "PV_npvs"], library="np")
    assert arrays["Pileup_nPU"].sum() > 0 and np.all(arrays["PV_npvs"] >= 1)
    # A second sample reuses the cached library (no second build).
    assert main([*arguments, "-o", str(tmp_path / "again.root")]) == 0
    assert "min-bias library" not in capsys.readouterr().err
