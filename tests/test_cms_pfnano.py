"""CMS pfcand_/sv_ inputs from real PFNano: vectorised catalogue vs a slow per-jet reference."""

from __future__ import annotations

import json
import math

import awkward as ak
import numpy as np
import pytest
import uproot

from jetml.errors import ConfigError, InputFileError
from jetml.features.cms_pfnano import (
    CMS_VARIABLES,
    MIN_PUPPI_WEIGHT,
    cms_jet_variables,
    rebuild_sv_eta,
    required_branches,
)
from jetml.nanoaod import load_events

PF_VARS = [
    "pfcand_mask",
    "pfcand_pt_log_nopuppi",
    "pfcand_e_log_nopuppi",
    "pfcand_etarel",
    "pfcand_phirel",
    "pfcand_abseta",
    "pfcand_charge",
    "pfcand_isEl",
    "pfcand_isMu",
    "pfcand_isGamma",
    "pfcand_isChargedHad",
    "pfcand_isNeutralHad",
    "pfcand_VTX_ass",
    "pfcand_lostInnerHits",
    "pfcand_normchi2",
    "pfcand_quality",
    "pfcand_dz",
    "pfcand_dzsig",
    "pfcand_dxy",
    "pfcand_dxysig",
    "pfcand_btagEtaRel",
    "pfcand_btagSip3dVal",
]
SV_VARS = [
    "sv_mask",
    "sv_pt_log",
    "sv_mass",
    "sv_etarel",
    "sv_phirel",
    "sv_abseta",
    "sv_ntracks",
    "sv_normchi2",
    "sv_dxysig",
    "sv_d3dsig",
]
COLLECTIONS = ("FatJet", "PFCands", "FatJetPFCands", "FatJetSVs", "SV")


def read_records(path) -> ak.Array:
    """The PFNano collections as a plain awkward record array (fields can be edited)."""
    tree = uproot.open(path)["Events"]
    fields = {}
    for name in COLLECTIONS:
        branches = [b for b in tree.keys() if b.startswith(f"{name}_")]
        arrays = tree.arrays(branches)
        fields[name] = ak.zip({b[len(name) + 1 :]: arrays[b] for b in branches})
    return ak.Array(fields)


@pytest.fixture(scope="module")
def pfnano(cms_nano):
    return cms_nano / "pfnano.root"


@pytest.fixture(scope="module")
def records(pfnano):
    return read_records(pfnano)


def _delta_phi(a: float, b: float) -> float:
    d = a - b
    while d > math.pi:
        d -= 2 * math.pi
    while d <= -math.pi:
        d += 2 * math.pi
    return d


def slow_reference(records: ak.Array, min_pt: float) -> list[dict[str, list[float]]]:
    """Per jet, written as CMSSW's loop: daughters, PUPPI cut, pT sort, per-candidate values."""
    out = []
    events = ak.to_list(records)
    for event in events:
        jets = event["FatJet"]
        for j, jet in enumerate(jets):
            if not jet["pt"] > min_pt:
                continue
            daughters = [
                (link, event["PFCands"][link["pFCandsIdx"]])
                for link in event["FatJetPFCands"]
                if link["jetIdx"] == j
            ]
            daughters = [d for d in daughters if d[1]["puppiWeight"] >= MIN_PUPPI_WEIGHT]
            daughters.sort(key=lambda d: -d[1]["pt"])
            sign = 1.0 if jet["eta"] > 0 else -1.0
            values: dict[str, list[float]] = {name: [] for name in PF_VARS}
            for link, c in daughters:
                track = c["trkChi2"] != -1
                energy = math.sqrt((c["pt"] * math.cosh(c["eta"])) ** 2 + c["mass"] ** 2)
                row = {
                    "pfcand_mask": 1.0,
                    "pfcand_pt_log_nopuppi": math.log(c["pt"]),
                    "pfcand_e_log_nopuppi": math.log(energy),
                    "pfcand_etarel": sign * (c["eta"] - jet["eta"]),
                    "pfcand_phirel": _delta_phi(c["phi"], jet["phi"]),
                    "pfcand_abseta": abs(c["eta"]),
                    "pfcand_charge": float(c["charge"]),
                    "pfcand_isEl": float(abs(c["pdgId"]) == 11),
                    "pfcand_isMu": float(abs(c["pdgId"]) == 13),
                    "pfcand_isGamma": float(abs(c["pdgId"]) == 22),
                    "pfcand_isChargedHad": float(abs(c["pdgId"]) == 211),
                    "pfcand_isNeutralHad": float(abs(c["pdgId"]) == 130),
                    "pfcand_VTX_ass": float(c["pvAssocQuality"]),
                    "pfcand_lostInnerHits": float(c["lostInnerHits"]),
                    "pfcand_normchi2": math.floor(c["trkChi2"]) if track else 999.0,
                    "pfcand_quality": float(c["trkQuality"]) if track else 0.0,
                    "pfcand_dz": c["dz"] if track else 0.0,
                    "pfcand_dzsig": c["dz"] / c["dzErr"] if track else 0.0,
                    "pfcand_dxy": c["d0"] if track else 0.0,
                    "pfcand_dxysig": c["d0"] / c["d0Err"] if track else 0.0,
                    "pfcand_btagEtaRel": link["btagEtaRel"],
                    "pfcand_btagSip3dVal": link["btagSip3dVal"],
                }
                for name in PF_VARS:
                    values[name].append(row[name])
            svs = [sv for sv in event["FatJetSVs"] if sv["jetIdx"] == j]
            values["n_sv"] = [float(len(svs))]
            values["sv_dxysig"] = [sv["dxysig"] for sv in svs]
            values["sv_eta_in_nano"] = [
                sign * (event["SV"][sv["sVIdx"]]["eta"] - jet["eta"]) if sv["sVIdx"] >= 0 else None
                for sv in svs
            ]
            out.append(values)
    return out


def test_catalogue_covers_both_particlenet_configs(cms_models, pfnano):
    tree = uproot.open(pfnano)["Events"]
    for folder in ("particlenet_ak8_v01", "particlenet_ak8_md_v01"):
        config = json.loads((cms_models / folder / "preprocess.json").read_text())
        names = [v for group in config["input_names"] for v in config[group]["var_names"]]
        assert set(names) <= set(CMS_VARIABLES)
        branches = required_branches(names)
        assert "FatJetPFCands_pFCandsIdx" in branches and "SV_eta" in branches
        assert [b for b in branches if b not in tree.keys()] == []


def test_vectorised_equals_slow_per_jet_reference(records):
    fast = cms_jet_variables(records, PF_VARS + SV_VARS, records.FatJet.pt > 200)
    slow = slow_reference(records, 200)
    assert len(slow) == len(fast["pfcand_etarel"]) == 24
    for name in PF_VARS:
        got = ak.to_list(fast[name])
        for jet, (g, s) in enumerate(zip(got, slow, strict=True)):
            np.testing.assert_allclose(
                g, s[name], rtol=2e-6, atol=2e-6, err_msg=f"{name} jet {jet}"
            )
    for jet, s in enumerate(slow):
        assert len(fast["sv_mask"][jet]) == s["n_sv"][0]
        np.testing.assert_allclose(ak.to_list(fast["sv_dxysig"][jet]), s["sv_dxysig"], rtol=1e-6)
        etarel = ak.to_list(fast["sv_etarel"][jet])
        for got, expected in zip(etarel, s["sv_eta_in_nano"], strict=True):
            if expected is not None:
                assert got == pytest.approx(expected, abs=1e-5)


def test_cmssw_conventions_on_real_file(records):
    v = cms_jet_variables(records, PF_VARS + SV_VARS, records.FatJet.pt > 200)
    pt_log = v["pfcand_pt_log_nopuppi"]
    assert ak.all(pt_log[:, 1:] <= pt_log[:, :-1])  # pT-descending
    no_track = v["pfcand_normchi2"] == 999
    neutral = v["pfcand_charge"] == 0
    assert ak.all(no_track[neutral])  # neutrals never have a track
    assert ak.sum(no_track & ~neutral) > 0  # low-pT charged without track details exist here
    for name in ("pfcand_dz", "pfcand_dxy", "pfcand_dzsig", "pfcand_dxysig", "pfcand_quality"):
        assert ak.all(v[name][no_track] == 0), name  # never PFNano's -1
    assert ak.all(v["pfcand_btagSip3dVal"][no_track] == 0)
    assert ak.all(np.abs(v["pfcand_phirel"]) <= np.pi)
    assert ak.all(np.abs(v["pfcand_etarel"]) < 1.0) and ak.all(np.abs(v["sv_etarel"]) < 0.8)
    dxysig = v["sv_dxysig"]
    assert ak.all(dxysig[:, 1:] <= dxysig[:, :-1])  # CMSSW's SV order
    n_dropped = ak.sum(records.PFCands.puppiWeight[records.FatJetPFCands.pFCandsIdx] < 0.01)
    assert ak.sum(ak.num(v["pfcand_mask"])) == ak.sum(ak.num(records.FatJetPFCands)) - n_dropped


def test_nanoevents_and_plain_records_agree(pfnano, records):
    events = load_events(pfnano)
    mask_ev = events.FatJet.pt > 200
    from_events = cms_jet_variables(events, ["pfcand_etarel", "sv_abseta"], mask_ev)
    from_records = cms_jet_variables(
        records, ["pfcand_etarel", "sv_abseta"], records.FatJet.pt > 200
    )
    for name in from_events:
        assert ak.to_list(from_events[name]) == ak.to_list(from_records[name])


def test_rebuilt_sv_eta_matches_nanoaod_sv_eta(records):
    sv = records.FatJetSVs
    kept = sv.sVIdx >= 0
    jets = records.FatJet[sv.jetIdx][kept]
    nano = records.SV[ak.where(kept, sv.sVIdx, 0)][kept]
    sv = sv[kept]

    def flat(x):
        return ak.to_numpy(ak.flatten(x)).astype(np.float64)

    eta_jet = flat(jets.eta)
    energy = np.sqrt((flat(jets.pt) * np.cosh(eta_jet)) ** 2 + flat(jets.mass) ** 2)
    rebuilt = rebuild_sv_eta(
        eta_jet,
        energy,
        flat(sv.pt),
        flat(sv.mass),
        flat(sv.enration),
        flat(sv.phirel),
        flat(sv.deltaR),
    )
    assert len(rebuilt) >= 30
    assert np.max(np.abs(rebuilt - flat(nano.eta))) < 2e-3


def test_rebuilt_sv_eta_far_from_axis_uses_energy_and_association():
    # SVs at dR >= 0.5 (stored deltaR clipped to 0): eta from energy, sign from dR < 0.8
    eta_jet = np.array([0.3, -1.2, 2.0])
    sv_eta = np.array([-0.3, -0.6, 2.6])  # dR 0.6, 0.6, 0.6 with phirel 0
    pt, mass = np.array([50.0, 30.0, 20.0]), np.array([1.5, 2.0, 0.8])
    energy_sv = np.sqrt((pt * np.cosh(sv_eta)) ** 2 + mass**2)
    energy_jet = np.array([800.0, 900.0, 1500.0])
    rebuilt = rebuild_sv_eta(
        eta_jet, energy_jet, pt, mass, energy_sv / energy_jet, np.zeros(3), np.zeros(3)
    )
    np.testing.assert_allclose(rebuilt, sv_eta, atol=1e-9)


def test_empty_selection_gives_zero_jets(records):
    v = cms_jet_variables(records, ["pfcand_dz", "sv_mass"], records.FatJet.pt > 1e9)
    assert len(v["pfcand_dz"]) == 0 and len(v["sv_mass"]) == 0


def test_unknown_variable_is_a_config_error(records):
    with pytest.raises(ConfigError, match="pfcand_hcalFrac"):
        cms_jet_variables(records, ["pfcand_hcalFrac"])


def test_missing_branch_is_named(records):
    pf = records.PFCands
    broken = ak.with_field(records, pf[[f for f in pf.fields if f != "trkChi2"]], "PFCands")
    with pytest.raises(InputFileError, match="PFCands_trkChi2"):
        cms_jet_variables(broken, ["pfcand_normchi2"])


def test_broken_jet_index_is_refused(records):
    links = records.FatJetPFCands
    broken = ak.with_field(
        records, ak.with_field(links, links.jetIdx + 7, "jetIdx"), "FatJetPFCands"
    )
    with pytest.raises(InputFileError, match="FatJetPFCands_jetIdx"):
        cms_jet_variables(broken, ["pfcand_etarel"])


def test_broken_candidate_index_is_refused(records):
    links = records.FatJetPFCands
    bad = ak.with_field(links, links.pFCandsIdx + 100000, "pFCandsIdx")
    with pytest.raises(InputFileError, match="FatJetPFCands_pFCandsIdx"):
        cms_jet_variables(ak.with_field(records, bad, "FatJetPFCands"), ["pfcand_etarel"])
