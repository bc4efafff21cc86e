"""Generator presets: one documented Pythia 8 configuration per physics process.

Every preset is pp at 13 TeV with ISR, FSR, multiparton interactions (MPI) and hadronisation on
(Pythia's defaults). The boosted presets set ``PhaseSpace:pTHatMin`` so that the AK8 jets of
interest have pT > 300 GeV; the value can be overridden per run. Seeds are always set explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from jetml.errors import ConfigError
from jetml.samples.labels import FatJetLabel

# Default mean number of pileup interactions (see docs/samples.md, "Pileup": CMS Run 2 averaged
# 27-37 interactions per crossing over 2016-2018; the default is kept where premixing costs at
# most twice the generation time of mu = 0).
DEFAULT_PILEUP = 30.0

# Settings shared by every preset: beams, quiet output, explicit seeding.
COMMON_SETTINGS: tuple[str, ...] = (
    "Beams:idA = 2212",
    "Beams:idB = 2212",
    "Beams:eCM = 13000.",
    "Next:numberCount = 0",
    "Next:numberShowInfo = 0",
    "Next:numberShowProcess = 0",
    "Next:numberShowEvent = 0",
    "Init:showChangedSettings = off",
    "Init:showChangedParticleData = off",
    "Init:showProcesses = off",
    "Print:quiet = on",
    "Random:setSeed = on",
)

# Hadronic decays only, for W (24), Z (23) and top's W: quarks d..b (1-5).
_W_TO_QUARKS = ("24:onMode = off", "24:onIfAny = 1 2 3 4 5")
_Z_TO_QUARKS = ("23:onMode = off", "23:onIfAny = 1 2 3 4 5")
_Z_TO_NUNU = ("23:onMode = off", "23:onIfAny = 12 14 16")


def _drell_yan(lepton: int) -> tuple[str, ...]:
    """Z/gamma* -> l+l- with full interference, m(ll) > 50 GeV."""
    return (
        "WeakSingleBoson:ffbar2gmZ = on",
        "WeakZ0:gmZmode = 0",
        "PhaseSpace:mHatMin = 50.",
        "23:onMode = off",
        f"23:onIfAny = {lepton}",
    )


@dataclass(frozen=True)
class Preset:
    """A named Pythia configuration and the labels its AK8 jets are expected to carry."""

    name: str
    description: str
    settings: tuple[str, ...]
    pthat_min: float
    fatjet_labels: tuple[FatJetLabel, ...] = field(default_factory=tuple)
    event_filter: str | None = None  # a name in jetml.samples.filters.EVENT_FILTERS
    pileup: float = DEFAULT_PILEUP  # mean pileup interactions overlaid by default

    def pythia_settings(self, *, seed: int, mpi: bool, pthat_min: float | None = None) -> list[str]:
        """All ``readString`` lines for this preset with the given seed, MPI switch and pTHatMin."""
        if not 1 <= seed <= 900_000_000:
            raise ConfigError(f"preset {self.name}: Pythia seed {seed} outside 1..900000000")
        threshold = self.pthat_min if pthat_min is None else pthat_min
        if threshold < 0:
            raise ConfigError(f"preset {self.name}: pTHatMin must be >= 0 (got {threshold})")
        return [
            *COMMON_SETTINGS,
            f"Random:seed = {seed}",
            f"PartonLevel:MPI = {'on' if mpi else 'off'}",
            f"PhaseSpace:pTHatMin = {threshold:g}",
            *self.settings,
        ]


_QCD_LABELS = (
    FatJetLabel.QCD_bb,
    FatJetLabel.QCD_cc,
    FatJetLabel.QCD_b,
    FatJetLabel.QCD_c,
    FatJetLabel.QCD_others,
)

PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in (
        Preset(
            "qcd",
            "QCD multijet, all 2->2 hard QCD processes (HardQCD:all)",
            ("HardQCD:all = on",),
            300.0,
            _QCD_LABELS,
        ),
        Preset(
            "ttbar_had",
            "boosted fully hadronic ttbar (gg/qqbar->ttbar, both W->qq')",
            ("Top:gg2ttbar = on", "Top:qqbar2ttbar = on", *_W_TO_QUARKS),
            400.0,
            (
                FatJetLabel.Top_bcq,
                FatJetLabel.Top_bqq,
                FatJetLabel.Top_bc,
                FatJetLabel.Top_bq,
                FatJetLabel.W_cq,
                FatJetLabel.W_qq,
            ),
        ),
        Preset(
            "ww",
            "boosted hadronic WW (ffbar->W+W-, W->qq')",
            ("WeakDoubleBoson:ffbar2WW = on", *_W_TO_QUARKS),
            300.0,
            (FatJetLabel.W_cq, FatJetLabel.W_qq),
        ),
        Preset(
            "wz",
            "boosted hadronic WZ (ffbar->ZW, W->qq', Z->qq)",
            ("WeakDoubleBoson:ffbar2ZW = on", *_W_TO_QUARKS, *_Z_TO_QUARKS),
            300.0,
            (
                FatJetLabel.W_cq,
                FatJetLabel.W_qq,
                FatJetLabel.Z_bb,
                FatJetLabel.Z_cc,
                FatJetLabel.Z_qq,
            ),
        ),
        Preset(
            "zz",
            "boosted hadronic ZZ (ffbar->ZZ, Z->qq)",
            ("WeakDoubleBoson:ffbar2gmZgmZ = on", "WeakZ0:gmZmode = 2", *_Z_TO_QUARKS),
            300.0,
            (FatJetLabel.Z_bb, FatJetLabel.Z_cc, FatJetLabel.Z_qq),
        ),
        Preset(
            "zqq",
            "boosted Z->qq recoiling against a jet (qqbar->Zg, qg->Zq)",
            (
                "WeakBosonAndParton:qqbar2gmZg = on",
                "WeakBosonAndParton:qg2gmZq = on",
                "WeakZ0:gmZmode = 2",
                *_Z_TO_QUARKS,
            ),
            300.0,
            (FatJetLabel.Z_bb, FatJetLabel.Z_cc, FatJetLabel.Z_qq),
        ),
        Preset(
            "zh_bb",
            "boosted H->bb in ffbar->HZ with Z->nunu (the Higgs is the leading jet)",
            ("HiggsSM:ffbar2HZ = on", "25:onMode = off", "25:onIfMatch = 5 -5", *_Z_TO_NUNU),
            300.0,
            (FatJetLabel.H_bb,),
        ),
        Preset(
            "zh_cc",
            "boosted H->cc in ffbar->HZ with Z->nunu",
            ("HiggsSM:ffbar2HZ = on", "25:onMode = off", "25:onIfMatch = 4 -4", *_Z_TO_NUNU),
            300.0,
            (FatJetLabel.H_cc,),
        ),
        Preset(
            "zh_ww4q",
            "boosted H->WW*->4q in ffbar->HZ with Z->nunu",
            (
                "HiggsSM:ffbar2HZ = on",
                "25:onMode = off",
                "25:onIfMatch = 24 -24",
                *_W_TO_QUARKS,
                *_Z_TO_NUNU,
            ),
            300.0,
            (FatJetLabel.H_qqqq,),
        ),
        Preset(
            "ttbar_semilep",
            "semileptonic ttbar (one W->lnu with l = e, mu, tau; one W->qq'): AK4 jets of all "
            "flavours for DeepJet and b-jet regression",
            (
                "Top:gg2ttbar = on",
                "Top:qqbar2ttbar = on",
                "24:onMode = off",
                "24:onPosIfAny = 1 2 3 4 5",
                "24:onNegIfAny = 11 13 15",
            ),
            0.0,
        ),
        Preset(
            "dy_tautau",
            "Drell-Yan Z/gamma* -> tautau, m > 50 GeV, taus decayed by Pythia (all modes)",
            _drell_yan(15),
            0.0,
        ),
        Preset(
            "dy_mutauh",
            "Drell-Yan Z/gamma* -> tautau, m > 50 GeV, with tau- -> mu- nu nu and tau+ -> "
            "hadrons forced (mu tau_h enriched); sigmaGen does not include the tau branching "
            "fractions (0.1739 x 0.6479, times 2 for the charge conjugate)",
            (
                *_drell_yan(15),
                "15:onMode = off",
                "15:onPosIfAny = 13",
                "15:onNegIfAny = 111 211 321 130 310",
            ),
            0.0,
        ),
        Preset("dy_mumu", "Drell-Yan Z/gamma* -> mumu, m > 50 GeV", _drell_yan(13), 0.0),
        Preset("dy_ee", "Drell-Yan Z/gamma* -> ee, m > 50 GeV", _drell_yan(11), 0.0),
        Preset(
            "w_jets",
            "W -> munu + jet (qqbar->Wg, qg->Wq), the jet -> tau_h fake source",
            (
                "WeakBosonAndParton:qqbar2Wg = on",
                "WeakBosonAndParton:qg2Wq = on",
                "24:onMode = off",
                "24:onIfAny = 13",
            ),
            30.0,
        ),
        Preset(
            "qcd_mu",
            "QCD multijet (HardQCD:all) filtered at generator level for a stable muon with "
            "pT > 5 GeV and |eta| < 2.4 (muon-enriched multijet)",
            ("HardQCD:all = on",),
            30.0,
            event_filter="muon_pt5",
        ),
    )
}


def get_preset(name: str) -> Preset:
    """The preset called ``name``; ConfigError listing the valid names otherwise."""
    try:
        return PRESETS[name]
    except KeyError:
        valid = ", ".join(sorted(PRESETS))
        raise ConfigError(f"unknown preset {name!r} (valid presets: {valid})") from None
