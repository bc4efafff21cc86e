"""Unit tests of the detector model, track variables and presets on hand-made inputs."""

from __future__ import annotations

import numpy as np
import pytest

from jetml.errors import ConfigError
from jetml.samples import PRESETS, DetectorModel
from jetml.samples.detector import charge_of, reconstruct
from jetml.samples.generator import EventRecord
from jetml.samples.presets import get_preset
from jetml.samples.trackvars import track_variables


def make_record(pdg_id, px, py, pz, x=None, y=None, z=None) -> EventRecord:
    """One event of stable particles produced at (x, y, z) cm."""
    n = len(pdg_id)
    zeros = np.zeros(n)
    px, py, pz = (np.asarray(v, dtype=float) for v in (px, py, pz))
    mass = np.zeros(n)
    return EventRecord(
        offsets=np.array([0, n]),
        pdg_id=np.asarray(pdg_id, dtype=np.int64),
        status=np.full(n, 91),
        mother1=np.full(n, -1),
        mother2=np.full(n, -1),
        daughter1=np.full(n, -1),
        daughter2=np.full(n, -1),
        px=px,
        py=py,
        pz=pz,
        energy=np.sqrt(px**2 + py**2 + pz**2 + mass**2),
        mass=mass,
        x=zeros if x is None else np.asarray(x, dtype=float),
        y=zeros if y is None else np.asarray(y, dtype=float),
        z=zeros if z is None else np.asarray(z, dtype=float),
        tau=zeros,
        parton_id1=np.array([21], np.int32),
        parton_id2=np.array([21], np.int32),
        parton_x1=np.array([0.1], np.float32),
        parton_x2=np.array([0.1], np.float32),
        scale_pdf=np.array([100.0], np.float32),
    )


def test_charges_of_stable_particles():
    codes = np.array([211, -211, 11, -11, 13, 22, 130, 2112, 2212, -2212, 321, 3112, 12])
    expected = [1, -1, -1, 1, -1, 0, 0, 0, 1, -1, 1, -1, 0]
    assert charge_of(codes).tolist() == expected


def test_neutrinos_and_forward_particles_are_never_reconstructed():
    record = make_record([12, -14, 16, 211, 22], [10, 10, 10, 10, 10], [0] * 5, [0, 0, 0, 0, 1e5])
    candidates = reconstruct(
        record,
        DetectorModel(track_efficiency_low_pt=1.0, track_efficiency_high_pt=1.0),
        np.random.default_rng(1),
    )
    # The pion is a track; the photon at eta ~ 9.9 is beyond HF; neutrinos are invisible.
    assert candidates.pdg_id.tolist() == [211]


def test_pf_types_and_track_fields_follow_cms_conventions():
    model = DetectorModel(track_efficiency_low_pt=1.0, track_efficiency_high_pt=1.0)
    #            e-   mu+  pi-   gamma  K_L   gamma (HF)  pi+ (HF)
    codes = [11, -13, -211, 22, 130, 22, 211]
    pz = [0, 0, 0, 0, 0, 400, 400]
    record = make_record(codes, [20] * 7, [0] * 7, pz)
    candidates = reconstruct(record, model, np.random.default_rng(2))
    assert candidates.pdg_id.tolist() == [11, -13, -211, 22, 130, 2, 1]
    assert candidates.charge.tolist() == [-1, 1, -1, 0, 0, 0, 0]
    neutral = candidates.charge == 0
    for column in (candidates.d0, candidates.d0_err, candidates.dz, candidates.dz_err):
        assert np.all(column[neutral] == -1)
        assert np.all(candidates.d0_err[~neutral] > 0)
    assert np.all(candidates.lost_inner_hits[neutral] == -1)
    assert np.all(candidates.pv_assoc_quality[neutral] == 7)


def test_impact_parameter_sign_and_resolution():
    """A track produced 1 mm off the beam line: |d0| = 1 mm with CMS's dxy sign."""
    n = 4000
    model = DetectorModel(
        track_efficiency_low_pt=1.0, track_efficiency_high_pt=1.0, ip_tail_fraction=0.0
    )
    # pi+ along +x, produced at y = +0.1 cm: dxy = (-x*py + y*px)/pt = +0.1.
    record = make_record([211] * n, [50.0] * n, [0.0] * n, [0.0] * n, y=[0.1] * n)
    candidates = reconstruct(record, model, np.random.default_rng(3))
    assert np.mean(candidates.d0) == pytest.approx(0.1, abs=2e-4)
    expected_sigma = model.d0_resolution(np.array([50.0]))[0]
    assert np.std(candidates.d0) == pytest.approx(expected_sigma, rel=0.1)
    assert np.all(candidates.d0_err == pytest.approx(expected_sigma))
    assert np.all(candidates.lost_inner_hits == -1)


def test_impact_parameter_residuals_have_the_documented_tail():
    n = 40000
    model = DetectorModel(track_efficiency_low_pt=1.0, track_efficiency_high_pt=1.0)
    record = make_record([211] * n, [50.0] * n, [0.0] * n, [0.0] * n)
    candidates = reconstruct(record, model, np.random.default_rng(4))
    pull = candidates.d0 / candidates.d0_err
    # Core: unit Gaussian; tail: ip_tail_fraction of tracks with ip_tail_scale x sigma.
    beyond = np.mean(np.abs(pull) > 5.0)
    core_beyond = 5.7e-7  # P(|N(0,1)| > 5)
    tail_beyond = 2 * (1 - 0.8944)  # P(|N(0,1)| > 5 / 4)
    expected = (1 - model.ip_tail_fraction) * core_beyond + model.ip_tail_fraction * tail_beyond
    assert beyond == pytest.approx(expected, rel=0.15)


def test_tracks_from_beyond_the_tracker_become_calorimeter_deposits():
    model = DetectorModel(track_efficiency_low_pt=1.0, track_efficiency_high_pt=1.0)
    record = make_record([211, 211], [10, 10], [0, 0], [0, 0], x=[1.0, 80.0], y=[0, 0])
    candidates = reconstruct(record, model, np.random.default_rng(4))
    assert sorted(candidates.pdg_id.tolist()) == [130, 211]
    track = candidates.pdg_id == 211
    assert candidates.lost_inner_hits[track].tolist() == [-1]


def test_track_variables_sign_by_the_jet_direction():
    # Two tracks along +x, displaced by +/- 0.05 cm in d0; jet along +x shifted slightly in y.
    common = dict(
        pt=np.array([10.0, 10.0]),
        eta=np.array([0.0, 0.0]),
        phi=np.array([0.0, 0.0]),
        d0_err=np.array([0.001, 0.001]),
        dz=np.array([0.0, 0.0]),
        dz_err=np.array([0.002, 0.002]),
        charged=np.array([True, True]),
        jet_px=np.array([100.0, 100.0]),
        jet_py=np.array([5.0, 5.0]),
        jet_pz=np.array([0.0, 0.0]),
    )
    result = track_variables(d0=np.array([0.05, -0.05]), **common)
    # Perigee at d0 * (-sin phi, cos phi) = (0, d0): on the jet side for d0 > 0.
    assert result.sip3d_val.tolist() == pytest.approx([0.05, -0.05])
    assert result.sip3d_sig.tolist() == pytest.approx([50.0, -50.0])
    assert np.all(result.ppar_ratio > 0.99)
    assert np.all(result.eta_rel > 2.0)
    assert np.all(result.jet_dist_val <= 0)


def test_presets_are_documented_and_seeded():
    assert {
        "qcd",
        "ttbar_had",
        "ww",
        "wz",
        "zz",
        "zqq",
        "zh_bb",
        "zh_cc",
        "zh_ww4q",
        "ttbar_semilep",
    } <= set(PRESETS)
    settings = get_preset("qcd").pythia_settings(seed=42, mpi=True)
    assert "Random:seed = 42" in settings
    assert "PartonLevel:MPI = on" in settings
    assert "PhaseSpace:pTHatMin = 300" in settings
    assert "PartonLevel:MPI = off" in get_preset("qcd").pythia_settings(seed=1, mpi=False)
    with pytest.raises(ConfigError, match="seed"):
        get_preset("qcd").pythia_settings(seed=0, mpi=True)
    for preset in PRESETS.values():
        assert preset.description


def test_soft_drop_matches_fastjet():
    """The numba soft drop equals fastjet's SoftDrop (beta 0, z_cut 0.1, R0 0.8) on real jets."""
    import awkward as ak
    import fastjet

    from jetml.samples.softdrop import soft_drop_batch

    rng = np.random.default_rng(7)
    # Three-prong-like jets: hard cores plus soft, wide-angle radiation around the +x axis.
    n_jets, per_jet = 20, 40
    eta = np.concatenate([rng.normal(0.0, 0.25, per_jet) for _ in range(n_jets)])
    phi = np.concatenate([rng.normal(0.0, 0.25, per_jet) for _ in range(n_jets)])
    pt = rng.exponential(8.0, n_jets * per_jet) + 0.5
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    energy = np.sqrt(px**2 + py**2 + pz**2)
    offsets = np.arange(0, n_jets * per_jet + 1, per_jet)
    groomed, subjets, n_subjets = soft_drop_batch(px, py, pz, energy, offsets, 0.1, 0.0, 0.8)
    mass = np.sqrt(np.maximum(groomed[:, 3] ** 2 - (groomed[:, :3] ** 2).sum(axis=1), 0.0))

    jets = ak.unflatten(ak.zip({"px": px, "py": py, "pz": pz, "E": energy}), per_jet)
    sequence = fastjet.ClusterSequence(
        jets, fastjet.JetDefinition(fastjet.cambridge_algorithm, 10.0)
    )
    reference = sequence.exclusive_jets_softdrop_grooming(
        njets=1, beta=0.0, symmetry_cut=0.1, R0=0.8
    )
    np.testing.assert_allclose(mass, ak.to_numpy(reference.msoftdrop), rtol=1e-9, atol=1e-9)
    assert np.all((n_subjets >= 1) & (n_subjets <= 2))
    np.testing.assert_allclose(subjets.sum(axis=1)[n_subjets == 2], groomed[n_subjets == 2])
