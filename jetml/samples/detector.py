"""A CMS-like detector model: which stable particles become PF candidates, and how measured.

All numbers live in :class:`DetectorModel`, each with its source. The model works on whole
batches of particles (numpy arrays), never particle by particle.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from jetml.samples.generator import EventRecord

PION_MASS = 0.13957
ELECTRON_MASS = 0.000511
MUON_MASS = 0.10566
NEUTRINO_IDS = (12, 14, 16)

# CMS PF candidate types (pdgId written by the PF reconstruction, not MC truth).
PF_CHARGED_HADRON = 211
PF_ELECTRON = 11
PF_MUON = 13
PF_PHOTON = 22
PF_NEUTRAL_HADRON = 130
PF_HF_HADRON = 1
PF_HF_EM = 2


@dataclass(frozen=True)
class DetectorModel:
    """Acceptance, efficiency and resolution of the CMS-like detector (Phase-1 tracker, 2017+).

    Sources: tracker performance, CMS JINST 9 (2014) P10009 (efficiency, pT and impact-parameter
    resolution); Phase-1 pixel geometry, CMS-TDR-011 (layer radii 2.9/6.8/10.9/16.0 cm); ECAL,
    CMS JINST 3 (2008) S08004 (stochastic ~3%, constant ~0.5%); HCAL, CMS JINST 3 (2008) S08004 and
    test beam, EPJC 60 (2009) 359 (~100%/sqrt(E) + 5% for PF neutral hadrons); HF, CMS JINST 3
    (2008) S08004 (EM ~198%/sqrt(E) + 9%, hadronic ~280%/sqrt(E) + 11%); PF thresholds, CMS JINST
    12 (2017) P10003; secondary-vertex finding efficiency (IVF, ~70% for b jets), CMS JINST 13
    (2018) P05011.
    """

    tracker_abs_eta: float = 2.5
    # Iterative tracking finds displaced tracks produced up to ~60 cm from the beam line and
    # |z| < 120 cm (CMS JINST 9 (2014) P10009, detached steps); later ones reach the calorimeters.
    track_max_production_radius: float = 60.0  # cm
    track_max_production_z: float = 120.0  # cm
    track_min_pt: float = 0.1  # GeV; tracks below are not reconstructed
    track_efficiency_low_pt: float = 0.85  # 0.1 < pT < 1 GeV
    track_efficiency_high_pt: float = 0.95  # pT >= 1 GeV
    track_efficiency_pt_boundary: float = 1.0
    muon_track_efficiency: float = 0.995  # muons in the tracker, P10009 Fig. 12
    # PF lepton identification of tracked leptons (P10003); the rest become charged hadrons.
    pf_muon_identification: float = 0.99
    pf_electron_identification: float = 0.95
    track_pt_resolution_constant: float = 0.005  # sigma(pT)/pT = c (+) s * pT
    track_pt_resolution_slope: float = 1.5e-4  # per GeV
    d0_resolution_constant: float = 10e-4  # cm (10 um)
    d0_resolution_over_pt: float = 30e-4  # cm * GeV (30 um GeV / pT)
    dz_resolution_constant: float = 20e-4  # cm (20 um)
    dz_resolution_over_pt: float = 60e-4  # cm * GeV (60 um GeV / pT)
    pixel_layer_radii: tuple[float, ...] = (2.9, 6.8, 10.9, 16.0)  # cm
    track_chi2_ndof: int = 10  # normalised chi2 drawn from chi2(ndof)/ndof
    ecal_abs_eta: float = 3.0
    ecal_stochastic: float = 0.03  # sigma(E)/E = a/sqrt(E) (+) c
    ecal_constant: float = 0.005
    hcal_abs_eta: float = 3.0
    hcal_stochastic: float = 1.00
    hcal_constant: float = 0.05
    hf_abs_eta: float = 5.0
    hf_em_stochastic: float = 1.98
    hf_em_constant: float = 0.09
    hf_had_stochastic: float = 2.80
    hf_had_constant: float = 0.11
    photon_min_energy: float = 0.5  # GeV
    neutral_hadron_min_energy: float = 1.0  # GeV
    hf_min_energy: float = 5.0  # GeV
    # The a/sqrt(E) (+) c parametrisations are measured for E >~ 10 GeV; extrapolated to the
    # sub-GeV deposits of pileup they would let a 1 GeV hadron fluctuate above the 5 GeV HF
    # threshold (sigma = 280%). The relative resolution is capped at this value (jetml's choice).
    calo_max_relative_resolution: float = 0.5
    sv_finding_efficiency: float = 0.70
    sv_min_tracks: int = 2
    sv_position_resolution_xy: float = 0.010  # cm (100 um)
    sv_position_resolution_z: float = 0.015  # cm (150 um)
    pv_resolution: float = 0.0015  # cm (15 um), enters SV flight significances
    # Non-Gaussian tails (jetml's documented choices, see docs/samples.md "Detector tails"):
    # a fraction of tracks has impact-parameter residuals from a wider Gaussian (hit
    # mis-assignment, large-angle multiple scattering; CMS JINST 9 (2014) P10009 Fig. 14 shows
    # the tails of the IP residual beyond the core), with the core sigma still quoted as error.
    ip_tail_fraction: float = 0.05
    ip_tail_scale: float = 4.0
    # Calorimeter response tails (leakage, cracks, dead channels): a fraction of deposits is
    # measured with a response drawn uniformly in [low, 1] on top of the Gaussian resolution.
    hcal_tail_fraction: float = 0.05
    hcal_tail_low: float = 0.3
    ecal_tail_fraction: float = 0.02
    ecal_tail_low: float = 0.6
    # Fake tracks (random hit combinations) per reconstructed track; CMS quotes a few per cent
    # for all tracks in ttbar events and below 1% for highPurity ones (P10009, Fig. 10).
    fake_track_rate: float = 0.01
    # Secondary tracks from nuclear interactions and photon conversions in the tracker material
    # (0.4-1.8 X0 / 0.1-0.5 lambda_I, P10009 Fig. 1): per charged hadron above 1 GeV, with a
    # production radius uniform between the beam pipe and the middle of the strip tracker.
    secondary_track_rate: float = 0.02
    secondary_radius_min: float = 4.0  # cm
    secondary_radius_max: float = 30.0  # cm

    def d0_resolution(self, pt: np.ndarray) -> np.ndarray:
        """sigma(d0) = a (+) b/pT in cm."""
        return np.hypot(self.d0_resolution_constant, self.d0_resolution_over_pt / pt)

    def dz_resolution(self, pt: np.ndarray) -> np.ndarray:
        """sigma(dz) = a (+) b/pT in cm."""
        return np.hypot(self.dz_resolution_constant, self.dz_resolution_over_pt / pt)

    def track_efficiency(self, pt: np.ndarray) -> np.ndarray:
        """Probability that a charged particle inside the tracker is reconstructed as a track."""
        efficiency = np.where(
            pt >= self.track_efficiency_pt_boundary,
            self.track_efficiency_high_pt,
            self.track_efficiency_low_pt,
        )
        return np.where(pt >= self.track_min_pt, efficiency, 0.0)


@dataclass(frozen=True)
class PFCandidates:
    """Reconstructed PF candidates of a batch, flat (one row per candidate) with event offsets.

    ``truth_row`` is the row of the generating particle in the :class:`EventRecord` given to
    :func:`reconstruct` (in a sample: the hard-scatter record, -1 for pileup particles and for
    fake or secondary tracks); ``vertex`` is the true interaction of the event that made it
    (0 hard scatter, k the k-th pileup interaction, -1 fake track). ``from_pv`` and
    ``pv_assoc_quality`` are set by :func:`jetml.samples.primary.assign_vertices` (until then
    every candidate counts as used in the PV fit); ``puppi_weight`` by
    :func:`jetml.samples.puppi.puppi_weights`. Track quantities of neutral candidates are -1, as in
    CMS PFNano.
    """

    offsets: np.ndarray
    truth_row: np.ndarray
    pt: np.ndarray
    eta: np.ndarray
    phi: np.ndarray
    mass: np.ndarray
    energy: np.ndarray
    pdg_id: np.ndarray
    charge: np.ndarray
    d0: np.ndarray
    d0_err: np.ndarray
    dz: np.ndarray
    dz_err: np.ndarray
    trk_chi2: np.ndarray
    lost_inner_hits: np.ndarray
    trk_quality: np.ndarray
    pv_assoc_quality: np.ndarray
    vertex: np.ndarray
    from_pv: np.ndarray
    puppi_weight: np.ndarray

    @property
    def counts(self) -> np.ndarray:
        """Candidates per event."""
        return np.diff(self.offsets)

    # Computed once per instance (instances are immutable; many steps read them).
    @functools.cached_property
    def px(self) -> np.ndarray:
        return self.pt * np.cos(self.phi)

    @functools.cached_property
    def py(self) -> np.ndarray:
        return self.pt * np.sin(self.phi)

    @functools.cached_property
    def pz(self) -> np.ndarray:
        return self.pt * np.sinh(self.eta)

    def take(self, rows: np.ndarray, counts: np.ndarray) -> PFCandidates:
        """The candidates at ``rows`` (ordered by event), regrouped with ``counts`` per event."""
        offsets = np.zeros(len(counts) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        columns = {
            name: getattr(self, name)[rows]
            for name in self.__dataclass_fields__
            if name != "offsets"
        }
        return PFCandidates(offsets=offsets, **columns)


def charge_of(pdg_id: np.ndarray) -> np.ndarray:
    """Electric charge of the stable particles Pythia leaves (leptons, hadrons, photons)."""
    absolute = np.abs(pdg_id)
    sign = np.sign(pdg_id)
    charge = np.zeros(len(pdg_id), dtype=np.int32)
    leptons = np.isin(absolute, (11, 13, 15))
    charge[leptons] = -sign[leptons]
    charged_hadrons = np.isin(absolute, (211, 321, 2212, 3222, 3112, 3312, 3334))
    charge[charged_hadrons] = sign[charged_hadrons]
    # Sigma- (3112), Xi- (3312), Omega- (3334) have negative charge for positive codes.
    flipped = np.isin(absolute, (3112, 3312, 3334))
    charge[flipped] = -charge[flipped]
    return charge


def reconstruct(
    record: EventRecord, model: DetectorModel, rng: np.random.Generator
) -> PFCandidates:
    """Turn the stable visible particles of ``record`` into PF candidates with measured values."""
    # Particles along the beam (pT = 0) have no direction in (eta, phi): never measured.
    stable = np.flatnonzero(
        (record.status > 0)
        & ~np.isin(np.abs(record.pdg_id), NEUTRINO_IDS)
        & ((record.px != 0) | (record.py != 0))
    )
    pdg = record.pdg_id[stable]
    absolute = np.abs(pdg)
    px, py, pz = record.px[stable], record.py[stable], record.pz[stable]
    energy = record.energy[stable]
    pt = np.hypot(px, py)
    eta = np.arcsinh(pz / pt)
    phi = np.arctan2(py, px)
    charge = charge_of(pdg)
    abs_eta = np.abs(eta)
    n = len(stable)

    x, y, z = record.x[stable], record.y[stable], record.z[stable]
    in_tracker = (
        (charge != 0)
        & (abs_eta < model.tracker_abs_eta)
        & (np.hypot(x, y) < model.track_max_production_radius)
        & (np.abs(z) < model.track_max_production_z)
    )
    muon = (absolute == 13) & (pt >= model.track_min_pt)
    efficiency = np.where(muon, model.muon_track_efficiency, model.track_efficiency(pt))
    tracked = in_tracker & (rng.random(n) < efficiency)
    electromagnetic = (absolute == 22) | (absolute == 11)
    central_calo = abs_eta < model.ecal_abs_eta
    in_hf = (abs_eta >= model.ecal_abs_eta) & (abs_eta < model.hf_abs_eta)

    pf_type = np.zeros(n, dtype=np.int32)
    pf_type[tracked] = PF_CHARGED_HADRON
    identified = rng.random(n)
    electron_id = identified < model.pf_electron_identification
    muon_id = identified < model.pf_muon_identification
    pf_type[tracked & (absolute == 11) & electron_id] = PF_ELECTRON
    pf_type[tracked & (absolute == 13) & muon_id] = PF_MUON
    # Untracked particles are seen by the calorimeters (muons leave only a MIP: dropped).
    calo = ~tracked & (absolute != 13)
    pf_type[calo & central_calo & electromagnetic] = PF_PHOTON
    pf_type[calo & central_calo & ~electromagnetic] = PF_NEUTRAL_HADRON
    pf_type[calo & in_hf & electromagnetic] = PF_HF_EM
    pf_type[calo & in_hf & ~electromagnetic] = PF_HF_HADRON

    measured_energy = energy.copy()
    gauss = rng.standard_normal(n)
    for kind, stochastic, constant in (
        (PF_PHOTON, model.ecal_stochastic, model.ecal_constant),
        (PF_NEUTRAL_HADRON, model.hcal_stochastic, model.hcal_constant),
        (PF_HF_EM, model.hf_em_stochastic, model.hf_em_constant),
        (PF_HF_HADRON, model.hf_had_stochastic, model.hf_had_constant),
    ):
        selected = pf_type == kind
        e = energy[selected]
        sigma = np.minimum(
            np.hypot(stochastic / np.sqrt(e), constant), model.calo_max_relative_resolution
        )
        measured_energy[selected] = e * np.clip(1.0 + sigma * gauss[selected], 0.0, None)
    tail_fraction = np.select(
        [
            np.isin(pf_type, (PF_PHOTON, PF_HF_EM)),
            np.isin(pf_type, (PF_NEUTRAL_HADRON, PF_HF_HADRON)),
        ],
        [model.ecal_tail_fraction, model.hcal_tail_fraction],
        default=0.0,
    )
    tail_low = np.where(
        np.isin(pf_type, (PF_PHOTON, PF_HF_EM)), model.ecal_tail_low, model.hcal_tail_low
    )
    in_tail = rng.random(n) < tail_fraction
    response = tail_low + (1.0 - tail_low) * rng.random(n)
    measured_energy = np.where(in_tail, measured_energy * response, measured_energy)

    thresholds = np.zeros(n)
    thresholds[pf_type == PF_PHOTON] = model.photon_min_energy
    thresholds[pf_type == PF_NEUTRAL_HADRON] = model.neutral_hadron_min_energy
    thresholds[(pf_type == PF_HF_EM) | (pf_type == PF_HF_HADRON)] = model.hf_min_energy
    keep = (pf_type != 0) & (measured_energy > thresholds)

    is_track = np.isin(pf_type, (PF_CHARGED_HADRON, PF_ELECTRON, PF_MUON))
    mass = np.zeros(n)
    mass[pf_type == PF_CHARGED_HADRON] = PION_MASS
    mass[pf_type == PF_ELECTRON] = ELECTRON_MASS
    mass[pf_type == PF_MUON] = MUON_MASS

    # Tracks: smeared pT, same direction. Calorimeter deposits: massless, measured energy.
    track_sigma = np.hypot(model.track_pt_resolution_constant, model.track_pt_resolution_slope * pt)
    measured_pt = np.where(
        is_track,
        pt * np.clip(1.0 + track_sigma * rng.standard_normal(n), 0.05, None),
        measured_energy / np.cosh(eta),
    )

    rows = stable
    # Straight-line track from the true production vertex to its point of closest approach to
    # the beam line, with the CMS sign conventions of reco::TrackBase::dxy()/dz() at (0,0,0).
    true_d0 = (-x * py + y * px) / pt
    true_dz = z - (x * px + y * py) / pt * (pz / pt)
    d0_err = model.d0_resolution(pt)
    dz_err = model.dz_resolution(pt)
    ip_scale = np.where(rng.random(n) < model.ip_tail_fraction, model.ip_tail_scale, 1.0)
    d0 = true_d0 + ip_scale * d0_err * rng.standard_normal(n)
    dz = true_dz + ip_scale * dz_err * rng.standard_normal(n)
    trk_chi2 = rng.chisquare(model.track_chi2_ndof, n) / model.track_chi2_ndof

    radius = np.hypot(x, y)
    layers_missed = np.searchsorted(np.asarray(model.pixel_layer_radii), radius, side="right")
    # CMS convention: -1 valid hit in the first pixel layer, 0 none lost, 1 one, 2 more.
    lost_inner_hits = np.where(layers_missed == 0, -1, np.minimum(layers_missed, 2)).astype(
        np.int32
    )
    # trkQuality bits: 1 loose, 4 highPurity (5 = both); high purity needs chi2/ndof < 3.
    trk_quality = np.where(trk_chi2 < 3.0, 5, 1).astype(np.int32)

    def track_only(values: np.ndarray, dtype: type) -> np.ndarray:
        return np.where(is_track, values, -1).astype(dtype)

    kept = np.flatnonzero(keep)
    event_of_particle = record.event_of_row[rows]
    counts = np.bincount(event_of_particle[kept], minlength=record.n_events)
    offsets = np.zeros(record.n_events + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    # CMS PF pdgId carries the particle's sign: 211 for pi+, 11 for e-, 13 for mu-.
    signed_type = np.where(
        pf_type == PF_CHARGED_HADRON,
        PF_CHARGED_HADRON * charge,
        np.where(is_track, -charge * pf_type, pf_type),
    )
    return PFCandidates(
        offsets=offsets,
        truth_row=rows[kept],
        pt=measured_pt[kept],
        eta=eta[kept],
        phi=phi[kept],
        mass=mass[kept],
        energy=np.sqrt((measured_pt * np.cosh(eta)) ** 2 + mass**2)[kept],
        pdg_id=signed_type[kept].astype(np.int32),
        charge=np.where(is_track, charge, 0)[kept].astype(np.int32),
        d0=track_only(d0, np.float64)[kept],
        d0_err=track_only(d0_err, np.float64)[kept],
        dz=track_only(dz, np.float64)[kept],
        dz_err=track_only(dz_err, np.float64)[kept],
        trk_chi2=track_only(trk_chi2, np.float64)[kept],
        lost_inner_hits=np.where(is_track, lost_inner_hits, -1)[kept].astype(np.int32),
        trk_quality=np.where(is_track, trk_quality, 0)[kept].astype(np.int32),
        pv_assoc_quality=np.full(len(kept), 7, dtype=np.int32),
        vertex=np.zeros(len(kept), dtype=np.int64),
        from_pv=np.full(len(kept), 3, dtype=np.int32),
        puppi_weight=np.ones(len(kept)),
    )
