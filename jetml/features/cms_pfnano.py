"""CMS ``pfcand_*`` / ``sv_*`` tagger inputs computed from PFNano branches, as CMSSW computes them.

CMSSW builds the inputs of ParticleNet-AK8 (and DeepAK8) in ``DeepBoostedJetTagInfoProducer``
from MiniAOD packed candidates. PFNano stores those candidates (``PFCands``), the jet-candidate
links (``FatJetPFCands``) and the jet-SV links (``FatJetSVs``), so the same inputs can be rebuilt
column-wise. The conventions reproduced here (facts read from the CMSSW source):

* candidates are the jet daughters with PUPPI weight >= 0.01, sorted by their *unweighted* pT,
  descending (``pfParticleNetTagInfos`` sets ``use_puppiP4 = False``);
* ``etarel = sign(eta_jet) * (eta - eta_jet)`` with ``sign = +1`` only for ``eta_jet > 0``;
  ``phirel`` is ``reco::deltaPhi`` in [-pi, pi];
* candidates without track details (all neutrals, and charged ones below the MiniAOD track
  threshold) get ``normchi2 = 999``, ``dzsig = dxysig = 0``, ``quality = 0`` and all ``btag*``
  set to 0. PFNano writes ``-1`` for their ``dz``/``d0``/errors/``trkChi2``; those ``-1`` are
  never fed. A neutral candidate's packed ``dz``/``dxy`` is exactly 0 (its vertex is the primary
  vertex); a charged one without track details has a packed ``dz``/``dxy`` in MiniAOD that PFNano
  does not keep, so 0 is used for it (documented difference, see ``docs/cms_models.md``);
* ``normchi2 = floor(track normalised chi2)``;
* SVs are all secondary vertices within dR < R of the jet axis, sorted by 2D flight-distance
  significance, descending: exactly the rows and order PFNano writes in ``FatJetSVs``;
* an SV's eta comes from the NanoAOD ``SV`` table when it is there (``sVIdx >= 0``). NanoAOD drops
  SVs with 3D flight significance <= 3; for those it is rebuilt from the stored dR to the jet
  (``deltaR`` stores ``dR - 0.5`` clipped to [-2, 0]), the stored ``phirel``, and the SV energy
  (``enration * E_jet``), which fixes ``|eta|`` and so the sign of ``eta - eta_jet``.

Infinities and NaN are left in place: the data config's ``replace_inf_value`` handles them, as
CMSSW's ``catch_infs`` does. Everything is vectorised over the flattened candidate tables.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import awkward as ak
import numpy as np

from jetml.errors import ConfigError, InputFileError
from jetml.features.columns import ChunkColumns, columns_of
from jetml.features.jagged import Jagged
from jetml.features.kernels import descending_within

MIN_PUPPI_WEIGHT = 0.01
"""CMSSW ``min_puppi_wgt``: jet daughters with a smaller PUPPI weight are not fed."""
NO_TRACK_NORMCHI2 = 999.0
"""CMSSW's ``pfcand_normchi2`` for a candidate without a track."""
JET_RADIUS = {"FatJet": 0.8, "Jet": 0.4}
"""Jet radius per collection: CMSSW associates SVs within this dR of the jet axis."""


@dataclass(frozen=True)
class CmsVariable:
    """One CMS input variable: its name, meaning, and the PFNano branch suffixes it reads.

    ``candidate_fields`` are ``PFCands`` fields, ``link_fields`` fields of the jet-candidate or
    jet-SV link table (``FatJetPFCands``/``FatJetSVs``), ``jet_fields`` fields of the jet
    collection and ``sv_fields`` fields of the NanoAOD ``SV`` table.
    """

    name: str
    doc: str
    candidate_fields: tuple[str, ...] = ()
    link_fields: tuple[str, ...] = ()
    jet_fields: tuple[str, ...] = ()
    sv_fields: tuple[str, ...] = ()


def _pf(
    name: str, doc: str, cand: Sequence[str] = (), link: Sequence[str] = (), jet=()
) -> CmsVariable:
    return CmsVariable(name, doc, tuple(cand), tuple(link), tuple(jet))


_TRACK = ("trkChi2",)
PFCAND_VARIABLES: dict[str, CmsVariable] = {
    v.name: v
    for v in (
        _pf("pfcand_mask", "1 for every fed candidate"),
        _pf("pfcand_pt_log_nopuppi", "log(pT), pT not PUPPI-weighted", ["pt"]),
        _pf("pfcand_e_log_nopuppi", "log(E), E not PUPPI-weighted", ["pt", "eta", "mass"]),
        _pf("pfcand_etarel", "sign(eta_jet) * (eta - eta_jet)", ["eta"], jet=["eta"]),
        _pf("pfcand_phirel", "deltaPhi(candidate, jet)", ["phi"], jet=["phi"]),
        _pf("pfcand_abseta", "|eta|", ["eta"]),
        _pf("pfcand_charge", "electric charge", ["charge"]),
        _pf("pfcand_isEl", "|pdgId| == 11", ["pdgId"]),
        _pf("pfcand_isMu", "|pdgId| == 13", ["pdgId"]),
        _pf("pfcand_isGamma", "|pdgId| == 22", ["pdgId"]),
        _pf("pfcand_isChargedHad", "|pdgId| == 211", ["pdgId"]),
        _pf("pfcand_isNeutralHad", "|pdgId| == 130", ["pdgId"]),
        _pf("pfcand_VTX_ass", "PV association quality", ["pvAssocQuality"]),
        _pf("pfcand_lostInnerHits", "lost inner hits", ["lostInnerHits"]),
        _pf("pfcand_normchi2", "floor(track chi2/ndof); 999 without track", _TRACK),
        _pf("pfcand_quality", "track quality mask; 0 without track", ["trkQuality"]),
        _pf("pfcand_dz", "dz to the PV; 0 without track details", ["dz", "charge", *_TRACK]),
        _pf("pfcand_dzsig", "dz / sigma(dz); 0 without track", ["dz", "dzErr", *_TRACK]),
        _pf("pfcand_dxy", "dxy to the PV; 0 without track details", ["d0", "charge", *_TRACK]),
        _pf("pfcand_dxysig", "dxy / sigma(dxy); 0 without track", ["d0", "d0Err", *_TRACK]),
        _pf("pfcand_btagEtaRel", "track eta relative to the jet axis", link=["btagEtaRel"]),
        _pf("pfcand_btagPtRatio", "track pT ratio to the jet", link=["btagPtRatio"]),
        _pf("pfcand_btagPParRatio", "track p_parallel ratio", link=["btagPParRatio"]),
        _pf("pfcand_btagSip3dVal", "signed 3D impact parameter", link=["btagSip3dVal"]),
        _pf("pfcand_btagSip3dSig", "signed 3D IP significance", link=["btagSip3dSig"]),
        _pf("pfcand_btagJetDistVal", "track-jet axis distance", link=["btagJetDistVal"]),
    )
}
"""Candidate variables, in CMSSW's names, that :func:`cms_jet_variables` computes."""

_SV_ETA_LINK = ("pt", "mass", "phirel", "deltaR", "enration", "sVIdx")
_SV_ETA_JET = ("pt", "eta", "mass")
SV_VARIABLES: dict[str, CmsVariable] = {
    v.name: v
    for v in (
        CmsVariable("sv_mask", "1 for every SV"),
        CmsVariable("sv_pt_log", "log(SV pT)", link_fields=("pt",)),
        CmsVariable("sv_mass", "SV mass", link_fields=("mass",)),
        CmsVariable(
            "sv_etarel",
            "sign(eta_jet) * (eta_SV - eta_jet)",
            link_fields=_SV_ETA_LINK,
            jet_fields=_SV_ETA_JET,
            sv_fields=("eta",),
        ),
        CmsVariable("sv_phirel", "deltaPhi(SV, jet)", link_fields=("phirel",)),
        CmsVariable(
            "sv_abseta",
            "|eta_SV|",
            link_fields=_SV_ETA_LINK,
            jet_fields=_SV_ETA_JET,
            sv_fields=("eta",),
        ),
        CmsVariable("sv_ntracks", "number of SV tracks", link_fields=("ntracks",)),
        CmsVariable("sv_normchi2", "SV chi2/ndof", link_fields=("normchi2",)),
        CmsVariable("sv_dxy", "2D flight distance", link_fields=("dxy",)),
        CmsVariable("sv_dxysig", "2D flight distance significance", link_fields=("dxysig",)),
        CmsVariable("sv_d3d", "3D flight distance", link_fields=("d3d",)),
        CmsVariable("sv_d3dsig", "3D flight distance significance", link_fields=("d3dsig",)),
    )
}
"""Secondary-vertex variables, in CMSSW's names, that :func:`cms_jet_variables` computes."""

CMS_VARIABLES: dict[str, CmsVariable] = {**PFCAND_VARIABLES, **SV_VARIABLES}
"""The whole catalogue: every variable name :func:`cms_jet_variables` accepts."""

_PFCAND_ALWAYS = ("pt", "puppiWeight")
_LINK_ALWAYS = ("jetIdx",)
# coffea's NanoEvents refuse to expose the SV collection without its position fields, so a
# branch-filtered read that uses SV_eta must include them.
_SV_BEHAVIOUR = ("x", "y", "z")


def _link_tables(collection: str) -> tuple[str, str]:
    if collection not in JET_RADIUS:
        raise ConfigError(f"CMS PFNano inputs: unknown jet collection {collection!r}")
    return f"{collection}PFCands", f"{collection}SVs"


def _check_names(var_names: Iterable[str]) -> list[str]:
    names = list(dict.fromkeys(var_names))
    unknown = [name for name in names if name not in CMS_VARIABLES]
    if unknown:
        raise ConfigError(
            f"CMS PFNano inputs: no definition for variable(s) {', '.join(unknown)} "
            f"(known: {', '.join(CMS_VARIABLES)})"
        )
    return names


def required_branches(var_names: Iterable[str], collection: str = "FatJet") -> tuple[str, ...]:
    """Flat NanoAOD branch names needed to compute ``var_names`` for jets of ``collection``."""
    names = _check_names(var_names)
    cand_table, sv_table = _link_tables(collection)
    branches: list[str] = []
    pf_names = [n for n in names if n in PFCAND_VARIABLES]
    sv_names = [n for n in names if n in SV_VARIABLES]
    if pf_names:
        branches += [f"{cand_table}_{f}" for f in (*_LINK_ALWAYS, "pFCandsIdx")]
        branches += [f"PFCands_{f}" for f in _PFCAND_ALWAYS]
    if sv_names:
        branches += [f"{sv_table}_{f}" for f in _LINK_ALWAYS]
    for name in names:
        var = CMS_VARIABLES[name]
        table = cand_table if name in PFCAND_VARIABLES else sv_table
        branches += [f"PFCands_{f}" for f in var.candidate_fields]
        branches += [f"{table}_{f}" for f in var.link_fields]
        branches += [f"{collection}_{f}" for f in var.jet_fields]
        branches += [f"SV_{f}" for f in var.sv_fields]
        if var.sv_fields:
            branches += [f"SV_{f}" for f in _SV_BEHAVIOUR]
    return tuple(dict.fromkeys(branches))


def _flat(
    cols: ChunkColumns,
    collection: str,
    field: str,
    dtype=np.float64,
    rows: np.ndarray | None = None,
) -> np.ndarray:
    """Flat ``collection_field`` (its ``rows``) as ``dtype``; InputFileError names a missing
    branch."""
    if not cols.has(collection, field):
        raise InputFileError(f"CMS PFNano inputs: branch {collection}_{field} not in the events")
    return cols.field(collection, field, dtype, rows)


class _Links:
    """Rows of a link table (``FatJetPFCands``/``FatJetSVs``) placed on global jet numbers."""

    def __init__(self, cols: ChunkColumns, table: str, collection: str, jet_counts: np.ndarray):
        jet_idx = _flat(cols, table, "jetIdx", np.int64)
        rows_per_event = cols.counts(table)
        self.event = np.repeat(np.arange(len(rows_per_event)), rows_per_event)
        bad = (jet_idx < 0) | (jet_idx >= jet_counts[self.event])
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise InputFileError(
                f"CMS PFNano inputs: {table}_jetIdx = {jet_idx[row]} in event {self.event[row]} "
                f"points outside {collection} ({jet_counts[self.event[row]]} jets)"
            )
        jet_offsets = np.cumsum(jet_counts) - jet_counts
        self.jet = jet_offsets[self.event] + jet_idx
        self.table = table

    def gather(
        self, cols: ChunkColumns, target: str, index_field: str, allow_missing: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """Flat positions in ``target`` of each row's ``index_field``, and a validity mask."""
        index = _flat(cols, self.table, index_field, np.int64)
        if not cols.has(target, "eta"):
            raise InputFileError(f"CMS PFNano inputs: branch {target}_eta not in the events")
        target_counts = cols.counts(target)
        valid = (index >= 0) & (index < target_counts[self.event])
        if not allow_missing and not valid.all():
            row = int(np.flatnonzero(~valid)[0])
            raise InputFileError(
                f"CMS PFNano inputs: {self.table}_{index_field} = {index[row]} in event "
                f"{self.event[row]} points outside {target} ({target_counts[self.event[row]]} rows)"
            )
        offsets = np.cumsum(target_counts) - target_counts
        return np.where(valid, offsets[self.event] + index, 0), valid


def _delta_phi(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``reco::deltaPhi``: a - b wrapped into [-pi, pi]."""
    d = a - b
    return d - 2 * np.pi * np.round(d / (2 * np.pi))


def _jet_values(cols: ChunkColumns, collection: str, field: str, rows: np.ndarray) -> np.ndarray:
    return _flat(cols, collection, field, rows=rows)


class _CandidateRows:
    """The fed candidates of every jet of ``collection`` in CMSSW order (PUPPI weight cut,
    unweighted pT descending), as positions into the link table and ``PFCands``."""

    def __init__(self, cols: ChunkColumns, collection: str, jet_counts: np.ndarray) -> None:
        cand_table, _ = _link_tables(collection)
        links = _Links(cols, cand_table, collection, jet_counts)
        where, _ = links.gather(cols, "PFCands", "pFCandsIdx")
        pt = _flat(cols, "PFCands", "pt", rows=where)
        keep = _flat(cols, "PFCands", "puppiWeight", rows=where) >= MIN_PUPPI_WEIGHT
        # CMSSW sorts the fed daughters by unweighted pT, descending; ties keep the table order.
        order = descending_within(links.jet, pt, nan_first=False)
        self.order = order[keep[order]]
        self.cand = where[self.order]
        self.jet_of_row = links.jet[self.order]


def _candidate_columns(
    cols: ChunkColumns, names: list[str], collection: str, jet_counts: np.ndarray
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Per-row candidate variables (in CMSSW order) plus the global jet number of each row."""
    cand_table, _ = _link_tables(collection)
    rows = cols.memo(
        ("cms_pfnano.candidates", collection),
        lambda: _CandidateRows(cols, collection, jet_counts),
    )
    order = rows.order

    cache: dict[str, np.ndarray] = {}  # per call: float64 copies are not kept for the chunk

    def c(field: str) -> np.ndarray:
        if field not in cache:
            dtype = np.int64 if field in ("charge", "pdgId") else np.float64
            cache[field] = _flat(cols, "PFCands", field, dtype, rows.cand)
        return cache[field]

    def link(field: str) -> np.ndarray:
        return _flat(cols, cand_table, field, rows=order)

    def jet(field: str) -> np.ndarray:
        if f"jet_{field}" not in cache:
            cache[f"jet_{field}"] = _jet_values(cols, collection, field, rows.jet_of_row)
        return cache[f"jet_{field}"]

    def has_track() -> np.ndarray:
        # PFNano writes trkChi2 = -1 exactly when the packed candidate has no track details.
        return c("trkChi2") != -1

    def significance(value: str, error: str) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(has_track(), c(value) / c(error), 0.0)

    def impact(value: str) -> np.ndarray:
        return np.where(has_track(), c(value), 0.0)

    def energy() -> np.ndarray:
        return np.sqrt((c("pt") * np.cosh(c("eta"))) ** 2 + c("mass") ** 2)

    def eta_sign() -> np.ndarray:
        return np.where(jet("eta") > 0, 1.0, -1.0)

    def pdg(code: int) -> Callable[[], np.ndarray]:
        return lambda: (np.abs(c("pdgId")) == code).astype(np.float64)

    formulas: dict[str, Callable[[], np.ndarray]] = {
        "pfcand_mask": lambda: np.ones(len(order)),
        "pfcand_pt_log_nopuppi": lambda: np.log(c("pt")),
        "pfcand_e_log_nopuppi": lambda: np.log(energy()),
        "pfcand_etarel": lambda: eta_sign() * (c("eta") - jet("eta")),
        "pfcand_phirel": lambda: _delta_phi(c("phi"), jet("phi")),
        "pfcand_abseta": lambda: np.abs(c("eta")),
        "pfcand_charge": lambda: c("charge").astype(np.float64),
        "pfcand_isEl": pdg(11),
        "pfcand_isMu": pdg(13),
        "pfcand_isGamma": pdg(22),
        "pfcand_isChargedHad": pdg(211),
        "pfcand_isNeutralHad": pdg(130),
        "pfcand_VTX_ass": lambda: c("pvAssocQuality"),
        "pfcand_lostInnerHits": lambda: c("lostInnerHits"),
        "pfcand_normchi2": lambda: np.where(has_track(), np.floor(c("trkChi2")), NO_TRACK_NORMCHI2),
        "pfcand_quality": lambda: np.where(has_track(), c("trkQuality"), 0.0),
        "pfcand_dz": lambda: impact("dz"),
        "pfcand_dzsig": lambda: significance("dz", "dzErr"),
        "pfcand_dxy": lambda: impact("d0"),
        "pfcand_dxysig": lambda: significance("d0", "d0Err"),
    }
    for field in (
        "btagEtaRel",
        "btagPtRatio",
        "btagPParRatio",
        "btagSip3dVal",
        "btagSip3dSig",
        "btagJetDistVal",
    ):
        formulas[f"pfcand_{field}"] = lambda field=field: link(field)

    def column(name: str) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return formulas[name]().astype(np.float32)

    columns = {
        name: cols.memo(("cms_pfnano.column", collection, name), lambda name=name: column(name))
        for name in names
    }
    return columns, rows.jet_of_row


def rebuild_sv_eta(
    eta_jet: np.ndarray,
    energy_jet: np.ndarray,
    sv_pt: np.ndarray,
    sv_mass: np.ndarray,
    sv_energy_ratio: np.ndarray,
    sv_phirel: np.ndarray,
    sv_stored_deltar: np.ndarray,
    jet_radius: float = JET_RADIUS["FatJet"],
) -> np.ndarray:
    """SV pseudorapidity from PFNano's jet-relative SV columns (for SVs NanoAOD dropped).

    ``|eta_SV|`` follows from the SV energy ``enration * E_jet``, pT and mass. The stored
    ``deltaR`` is ``dR - 0.5`` clipped to [-2, 0]: below 0 it gives ``dR``, hence
    ``|eta_SV - eta_jet| = sqrt(dR^2 - phirel^2)``, and the energy picks the sign. At 0 only
    ``0.5 <= dR < jet_radius`` is known: of ``+-|eta_SV|`` the one whose dR to the jet lies in
    that range is taken (the nearer one if both or neither do).
    """
    sv_energy = sv_energy_ratio * energy_jet
    momentum = np.sqrt(np.maximum(sv_energy**2 - sv_mass**2, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        abs_eta = np.arccosh(np.maximum(momentum / sv_pt, 1.0))
    dr_known = sv_stored_deltar < 0
    abs_deta = np.sqrt(np.maximum((sv_stored_deltar + 0.5) ** 2 - sv_phirel**2, 0.0))
    up, down = eta_jet + abs_deta, eta_jet - abs_deta
    from_dr = np.where(np.abs(np.abs(up) - abs_eta) <= np.abs(np.abs(down) - abs_eta), up, down)

    def outside_ring(eta: np.ndarray) -> np.ndarray:
        dr = np.hypot(eta - eta_jet, sv_phirel)
        return np.maximum(0.5 - dr, 0.0) + np.maximum(dr - jet_radius, 0.0)

    plus, minus = outside_ring(abs_eta), outside_ring(-abs_eta)
    nearer_plus = np.abs(abs_eta - eta_jet) <= np.abs(abs_eta + eta_jet)
    choose_plus = (plus < minus) | ((plus == minus) & nearer_plus)
    from_energy = np.where(choose_plus, abs_eta, -abs_eta)
    return np.where(dr_known, from_dr, from_energy)


def _sv_eta(cols: ChunkColumns, collection: str, links: _Links) -> np.ndarray:
    """Pseudorapidity of each SV link row: NanoAOD ``SV_eta`` if kept there, else rebuilt."""
    _, sv_table = _link_tables(collection)
    where, in_nano = links.gather(cols, "SV", "sVIdx", allow_missing=True)
    eta_jet = _jet_values(cols, collection, "eta", links.jet)
    pt_jet = _jet_values(cols, collection, "pt", links.jet)
    mass_jet = _jet_values(cols, collection, "mass", links.jet)
    energy_jet = np.sqrt((pt_jet * np.cosh(eta_jet)) ** 2 + mass_jet**2)
    rebuilt = rebuild_sv_eta(
        eta_jet,
        energy_jet,
        *(_flat(cols, sv_table, f) for f in ("pt", "mass", "enration", "phirel", "deltaR")),
        jet_radius=JET_RADIUS[collection],
    )
    return np.where(in_nano, _flat(cols, "SV", "eta", rows=where), rebuilt)


class _SvRows:
    """The SV link rows of every jet of ``collection`` in PFNano's (CMSSW's) order."""

    def __init__(self, cols: ChunkColumns, collection: str, jet_counts: np.ndarray) -> None:
        _, sv_table = _link_tables(collection)
        self.links = _Links(cols, sv_table, collection, jet_counts)
        self.order = np.argsort(self.links.jet, kind="stable")
        self.jet_of_row = self.links.jet[self.order]


def _sv_columns(
    cols: ChunkColumns, names: list[str], collection: str, jet_counts: np.ndarray
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Per-row SV variables; rows keep PFNano's order, which is CMSSW's (dxy significance)."""
    _, sv_table = _link_tables(collection)
    rows = cols.memo(("cms_pfnano.svs", collection), lambda: _SvRows(cols, collection, jet_counts))
    order, jet_of_row = rows.order, rows.jet_of_row

    def link(field: str) -> np.ndarray:
        return _flat(cols, sv_table, field, rows=order)

    def eta() -> np.ndarray:
        return cols.memo(
            ("cms_pfnano.sv_eta", collection),
            lambda: _sv_eta(cols, collection, rows.links)[order],
        )

    def eta_jet() -> np.ndarray:
        return _jet_values(cols, collection, "eta", jet_of_row)

    formulas: dict[str, Callable[[], np.ndarray]] = {
        "sv_mask": lambda: np.ones(len(order)),
        "sv_pt_log": lambda: np.log(link("pt")),
        "sv_etarel": lambda: np.where(eta_jet() > 0, 1.0, -1.0) * (eta() - eta_jet()),
        "sv_abseta": lambda: np.abs(eta()),
    }
    for name in ("phirel", "mass", "ntracks", "normchi2", "dxy", "dxysig", "d3d", "d3dsig"):
        formulas[f"sv_{name}"] = lambda name=name: link(name)

    def column(name: str) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return formulas[name]().astype(np.float32)

    columns = {
        name: cols.memo(("cms_pfnano.column", collection, name), lambda name=name: column(name))
        for name in names
    }
    return columns, jet_of_row


def cms_jet_variables(
    events: ak.Array | ChunkColumns,
    var_names: Iterable[str],
    mask: ak.Array | np.ndarray | None = None,
    collection: str = "FatJet",
) -> dict[str, ak.Array]:
    """CMS input variables of the jets ``events[collection][mask]``, one jagged list per jet.

    Returns ``{name: ak.Array}`` with shape ``(n_selected_jets, var)`` (float32), rows in
    ``ak.flatten(events[collection][mask])`` order, candidates already in CMSSW's order
    (pT-descending candidates, dxy-significance-descending SVs), ready for
    :func:`jetml.features.build_group`. ``events`` are coffea NanoEvents or any awkward record
    array with the PFNano collections as fields (or their :class:`ChunkColumns`); ``mask`` is
    jagged per event or already flat per jet. Unknown names raise ConfigError; missing
    branches or broken cross-references raise InputFileError. Within
    :func:`jetml.features.columns.shared_columns` every branch, ordering and column is computed
    once per chunk for all callers.
    """
    counts, values = cms_jet_columns(events, var_names, mask, collection)
    return {name: Jagged(counts[name], column).to_awkward() for name, column in values.items()}


def cms_jet_columns(
    events: ak.Array | ChunkColumns,
    var_names: Iterable[str],
    mask: ak.Array | np.ndarray | None = None,
    collection: str = "FatJet",
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """:func:`cms_jet_variables` as flat numpy: ``({name: rows per selected jet},
    {name: flat float32 values})`` (names of one table share one counts array)."""
    names = _check_names(var_names)
    cols = columns_of(events)
    if not cols.has(collection, "pt"):
        raise InputFileError(f"CMS PFNano inputs: branch {collection}_pt not in the events")
    jet_counts = cols.counts(collection)
    n_jets = int(jet_counts.sum())
    selected = flat_jet_mask(mask, n_jets, collection)
    counts: dict[str, np.ndarray] = {}
    values: dict[str, np.ndarray] = {}
    for group, builder in (
        (PFCAND_VARIABLES, _candidate_columns),
        (SV_VARIABLES, _sv_columns),
    ):
        wanted = [n for n in names if n in group]
        if not wanted:
            continue
        columns, jet_of_row = builder(cols, wanted, collection, jet_counts)
        per_jet = cols.memo(
            ("cms_pfnano.counts", collection, builder.__name__),
            lambda jet_of_row=jet_of_row: np.bincount(jet_of_row, minlength=n_jets),
        )
        if selected is None:
            group_counts, rows_kept = per_jet, None
        else:
            group_counts, rows_kept = per_jet[selected], selected[jet_of_row]
        for name in wanted:
            counts[name] = group_counts
            values[name] = columns[name] if rows_kept is None else columns[name][rows_kept]
    return {name: counts[name] for name in names}, {name: values[name] for name in names}


def flat_jet_mask(
    mask: ak.Array | np.ndarray | None, n_jets: int, collection: str
) -> np.ndarray | None:
    """A jagged (per event) or flat jet mask as a flat boolean array (None: every jet)."""
    if mask is None:
        return None
    if isinstance(mask, np.ndarray):
        selected = mask.astype(bool, copy=False)
    else:
        selected = np.asarray(ak.to_numpy(ak.flatten(mask)), dtype=bool)
    if len(selected) != n_jets:
        raise ValueError(f"jet mask has {len(selected)} entries for {n_jets} {collection} jets")
    return selected
