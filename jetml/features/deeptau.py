"""DeepTau-like inputs from PFNano ``Tau`` and ``PFCands``: one recipe for training and deployment.

For every selected tau, the PF candidates within ΔR < :data:`CONE` of its axis (the cone jetml's
samples store in full around taus) are gathered from every tau-candidate pair of the event with
numpy index arithmetic on the chunk's flat columns (:class:`TauCone`), split into three blocks by
``|pdgId|`` -- e/gamma (11, 22), muons (13), hadrons (everything else: charged and neutral
hadrons) -- and binned into two η-φ grids (:data:`GRIDS`: inner 11 x 11 of 0.02, outer 21 x 21
of 0.05) with :class:`jetml.features.grid.GridCells`. Each cell holds the sums of the block's
per-candidate features (:data:`BLOCK_FEATURES`) over the candidates in it.

Standardisation (:class:`GridConfig`, saved as ``grids.json`` beside ``preprocess.json``): per grid
input and feature, weaver-auto statistics (median, 1/max(p84 - p50, p50 - p16), clip to ±5) over
the *occupied* cells of the training taus; empty cells are 0 after standardisation, as in DeepTau.
The high-level tau features (:data:`TAU_FEATURES`) form the ``tau`` group of ``preprocess.json``
(length 1) and go through :func:`jetml.features.build_inputs`. :func:`deeptau_inputs` builds all
seven model inputs from events with both files; the training pipeline and the tagger call it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, astuple, dataclass
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np

from jetml.errors import ConfigError, InputFileError
from jetml.features.builder import build_inputs
from jetml.features.columns import columns_of
from jetml.features.config import DataConfig
from jetml.features.grid import GridCells, GridSpec, cell_indices, relative_coordinates
from jetml.features.kernels import segment_sums, standardised_cells

CONE = 0.5
"""ΔR of the candidates used around each tau."""
GRIDS: dict[str, GridSpec] = {"inner": GridSpec(11, 0.02), "outer": GridSpec(21, 0.05)}
BLOCKS: tuple[str, ...] = ("egamma", "muon", "hadrons")
BLOCK_FEATURES: dict[str, tuple[str, ...]] = {
    "egamma": ("ptfrac", "electron_ptfrac", "n_electrons", "n_photons", "charge"),
    "muon": ("ptfrac", "n_muons", "charge", "abs_d0sig", "abs_dz"),
    "hadrons": (
        "charged_ptfrac", "neutral_ptfrac", "n_charged", "n_neutral", "charge", "abs_d0sig",
        "abs_dz",
    ),
}  # fmt: skip
"""Per-cell features of each block: sums over the block's candidates in the cell. ``ptfrac`` is
pT / pT(tau); ``abs_d0sig`` = |d0 / d0Err| and ``abs_dz`` = |dz| (cm) of charged candidates."""
TAU_FEATURES: tuple[str, ...] = (
    "tau_pt_log", "tau_eta", "tau_mass", "tau_charge", "tau_dm0", "tau_dm1", "tau_dm10",
    "tau_dxy", "tau_dz", "tau_leadTkPtOverTauPt", "tau_chargedIso_rel", "tau_neutralIso_rel",
    "tau_rawIso_rel", "tau_chargedIso_log", "tau_neutralIso_log", "tau_photonsOutside_log",
    "tau_n_charged", "tau_n_neutral", "tau_n_photons", "tau_n_electrons", "tau_n_muons",
    "tau_electron_ptfrac", "tau_muon_ptfrac", "tau_egamma_ptfrac",
)  # fmt: skip
"""High-level tau features: Tau fields (decay mode one-hot, isolation relative to pT and as
log(1 + x GeV)) and counts / pT fractions of the candidates within :data:`CONE`."""
TAU_FIXED: tuple[str, ...] = ("tau_charge", "tau_dm0", "tau_dm1", "tau_dm10")
TAU_FIELDS: tuple[str, ...] = (
    "pt", "eta", "phi", "mass", "charge", "decayMode", "dxy", "dz", "leadTkPtOverTauPt",
    "chargedIso", "neutralIso", "photonsOutsideSignalCone", "rawIso",
)  # fmt: skip
CANDIDATE_FIELDS: tuple[str, ...] = ("pt", "eta", "phi", "charge", "pdgId", "d0", "d0Err", "dz")
GRID_CONFIG_FILE = "grids.json"
LABEL_OF_GENPARTFLAV = np.array([2, 0, 1, 0, 1, 3], dtype=np.int64)
"""``Tau_genPartFlav`` (0 jet, 1 prompt e, 2 prompt μ, 3 τ→e, 4 τ→μ, 5 τh) -> class index of
(e, mu, jet, tau)."""


def grid_input_names() -> tuple[str, ...]:
    """Model input names of the grids, in the network's order (inner blocks, then outer)."""
    return tuple(f"{grid}_{block}" for grid in GRIDS for block in BLOCKS)


def required_branches() -> tuple[str, ...]:
    """Flat NanoAOD branches the recipe reads."""
    return (
        *(f"Tau_{field}" for field in TAU_FIELDS),
        *(f"PFCands_{field}" for field in CANDIDATE_FIELDS),
    )


def check_branches(events: ak.Array, source: str) -> None:
    """Raise InputFileError naming the first missing branch of :func:`required_branches`."""
    for collection, fields in (("Tau", TAU_FIELDS), ("PFCands", CANDIDATE_FIELDS)):
        if collection not in events.fields:
            raise InputFileError(f"{source}: no {collection} collection (DeepTau needs it)")
        missing = [f for f in fields if f not in events[collection].fields]
        if missing:
            raise InputFileError(f"{source}: lacks branch {collection}_{missing[0]}")


@dataclass(frozen=True)
class TauCone:
    """Selected taus and, per tau, the PF candidates within :data:`CONE` of its axis (flat numpy).

    ``tau`` holds :data:`TAU_FIELDS` (one value per tau); ``cand`` holds
    :data:`CANDIDATE_FIELDS` plus ``deta``/``dphi`` to the tau axis, the candidates of tau 0
    first, each tau's in ``PFCands`` order; ``counts`` is the number per tau.
    """

    tau: dict[str, np.ndarray]
    cand: dict[str, np.ndarray]
    counts: np.ndarray

    def __len__(self) -> int:
        return len(self.counts)

    @property
    def tau_of_candidate(self) -> np.ndarray:
        """Index of the tau each candidate row belongs to."""
        return np.repeat(np.arange(len(self.counts), dtype=np.int64), self.counts)


def tau_candidates(events: ak.Array, mask: ak.Array | np.ndarray) -> TauCone:
    """Selected taus ``events.Tau[mask]`` and the PF candidates of their event within
    :data:`CONE` of each (every tau-candidate pair of the event is tested, as a per-event
    cartesian product would)."""
    cols = columns_of(events)
    tau_counts = cols.counts("Tau")
    selected = np.asarray(
        mask if isinstance(mask, np.ndarray) else ak.to_numpy(ak.flatten(mask)), dtype=bool
    )
    tau = {f: cols.flat("Tau", f)[selected] for f in TAU_FIELDS}
    event_of_tau = np.repeat(np.arange(len(tau_counts), dtype=np.int64), tau_counts)[selected]
    cand_counts = cols.counts("PFCands")
    cand_starts = np.cumsum(cand_counts) - cand_counts
    pairs = cand_counts[event_of_tau]
    pair_tau = np.repeat(np.arange(len(event_of_tau), dtype=np.int64), pairs)
    pair_starts = np.cumsum(pairs) - pairs
    pair_cand = (
        np.arange(len(pair_tau), dtype=np.int64)
        - pair_starts[pair_tau]
        + cand_starts[event_of_tau][pair_tau]
    )
    deta, dphi = relative_coordinates(
        cols.flat("PFCands", "eta")[pair_cand],
        cols.flat("PFCands", "phi")[pair_cand],
        tau["eta"][pair_tau],
        tau["phi"][pair_tau],
    )
    inside = np.power(deta, 2) + np.power(dphi, 2) < CONE**2
    rows = pair_cand[inside]
    cand = {f: cols.flat("PFCands", f)[rows] for f in CANDIDATE_FIELDS}
    cand["deta"], cand["dphi"] = deta[inside], dphi[inside]
    counts = np.bincount(pair_tau[inside], minlength=len(event_of_tau))
    return TauCone(tau, cand, counts)


def _candidate_values(cone: TauCone) -> dict[str, np.ndarray]:
    """Per-candidate quantities the blocks and the high-level features sum."""
    cand = cone.cand
    pdg = np.abs(cand["pdgId"])
    charged = cand["charge"] != 0
    d0_err = np.where(cand["d0Err"] > 0, cand["d0Err"].astype(np.float64), np.inf)
    d0sig = np.abs(cand["d0"]) / d0_err
    return {
        "ptfrac": cand["pt"] / cone.tau["pt"][cone.tau_of_candidate],
        "is_electron": (pdg == 11).astype(np.float32),
        "is_photon": (pdg == 22).astype(np.float32),
        "is_muon": (pdg == 13).astype(np.float32),
        "is_charged": charged.astype(np.float32),
        "charge": cand["charge"].astype(np.float32),
        "abs_d0sig": np.where(charged, d0sig, 0.0),
        "abs_dz": np.where(charged, np.abs(cand["dz"]).astype(np.float64), 0.0),
    }


def _block_values(values: Mapping[str, np.ndarray], block: str) -> dict[str, np.ndarray]:
    """The per-candidate values of :data:`BLOCK_FEATURES` ``[block]``."""
    v = values
    if block == "egamma":
        return {
            "ptfrac": v["ptfrac"],
            "electron_ptfrac": v["ptfrac"] * v["is_electron"],
            "n_electrons": v["is_electron"],
            "n_photons": v["is_photon"],
            "charge": v["charge"],
        }
    if block == "muon":
        return {
            "ptfrac": v["ptfrac"],
            "n_muons": v["is_muon"],
            "charge": v["charge"],
            "abs_d0sig": v["abs_d0sig"],
            "abs_dz": v["abs_dz"],
        }
    return {
        "charged_ptfrac": v["ptfrac"] * v["is_charged"],
        "neutral_ptfrac": v["ptfrac"] * (1.0 - v["is_charged"]),
        "n_charged": v["is_charged"],
        "n_neutral": 1.0 - v["is_charged"],
        "charge": v["charge"],
        "abs_d0sig": v["abs_d0sig"],
        "abs_dz": v["abs_dz"],
    }


def _block_masks(cone: TauCone) -> dict[str, np.ndarray]:
    pdg = np.abs(cone.cand["pdgId"])
    egamma = (pdg == 11) | (pdg == 22)
    muon = pdg == 13
    return {"egamma": egamma, "muon": muon, "hadrons": ~(egamma | muon)}


def raw_grids(cone: TauCone) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Unstandardised grids: input name -> (cell sums ``(n_tau, n_features, n, n)``, occupancy
    ``(n_tau, 1, n, n)``: 1 where the block has a candidate in the cell)."""
    values = _candidate_values(cone)
    masks = _block_masks(cone)
    tau_of = cone.tau_of_candidate
    grids: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for grid, spec in GRIDS.items():
        cells = GridCells(cone.cand["deta"], cone.cand["dphi"], spec)
        for block in BLOCKS:
            keep = masks[block]
            block_values = [a[keep] for a in _block_values(values, block).values()]
            summed = cells.sums(tau_of[keep], len(cone), block_values, select=keep)
            grids[f"{grid}_{block}"] = (summed[:, :-1], (summed[:, -1:] > 0).astype(np.float32))
    return grids


def standardised_grids(cone: TauCone, grid_config: GridConfig) -> dict[str, np.ndarray]:
    """``grid_config.apply(raw_grids(cone))``, bit for bit, in one pass over the candidates:
    only occupied cells are summed and standardised (:func:`standardised_cells`), instead of
    every cell of twelve dense grids per tau."""
    values = _candidate_values(cone)
    masks = _block_masks(cone)
    tau_of = cone.tau_of_candidate
    deta = cone.cand["deta"].astype(np.float64)
    dphi = cone.cand["dphi"].astype(np.float64)
    placed = {}
    for grid, spec in GRIDS.items():
        ieta, iphi, inside = cell_indices(deta, dphi, spec)
        placed[grid] = (ieta * spec.n_cells + iphi, inside)
    out: dict[str, np.ndarray] = {}
    for name, stats in grid_config.stats.items():
        grid, block = name.split("_", 1)
        if grid not in GRIDS or block not in BLOCKS:
            raise ConfigError(f"grid config: input '{name}' was not built")
        features = _block_values(values, block)
        if len(features) != len(stats):
            raise ConfigError(
                f"grid config: input '{name}' has {len(stats)} features, "
                f"the recipe built {len(features)}"
            )
        cell, inside = placed[grid]
        keep = masks[block] & inside
        channels = np.empty((len(features), int(keep.sum())), dtype=np.float64)
        for row, array in enumerate(features.values()):
            flat = array[keep].astype(np.float64)
            channels[row] = np.where(np.isfinite(flat), flat, 0.0)
        n = GRIDS[grid].n_cells
        columns = [[getattr(s, f) for s in stats] for f in ("center", "scale", "lower", "upper")]
        cells = standardised_cells(
            tau_of[keep], cell[keep], channels, len(cone), n * n, tuple(map(np.asarray, columns))
        )
        out[name] = cells.reshape(len(cone), len(stats), n, n)
    return out


def tau_variables(cone: TauCone) -> dict[str, np.ndarray]:
    """High-level features :data:`TAU_FEATURES` of the taus, one float32 value per tau."""
    values = _candidate_values(cone)
    tau = cone.tau
    pt = tau["pt"].astype(np.float64)
    dm = tau["decayMode"]

    def total(array: np.ndarray) -> np.ndarray:
        return segment_sums(array, cone.counts).astype(np.float64)

    is_gamma, is_e, is_mu = values["is_photon"], values["is_electron"], values["is_muon"]
    is_charged = values["is_charged"]
    out = {
        "tau_pt_log": np.log(pt),
        "tau_eta": tau["eta"],
        "tau_mass": tau["mass"],
        "tau_charge": tau["charge"],
        "tau_dm0": dm == 0,
        "tau_dm1": dm == 1,
        "tau_dm10": dm == 10,
        "tau_dxy": tau["dxy"],
        "tau_dz": tau["dz"],
        "tau_leadTkPtOverTauPt": tau["leadTkPtOverTauPt"],
        "tau_chargedIso_rel": tau["chargedIso"] / pt,
        "tau_neutralIso_rel": tau["neutralIso"] / pt,
        "tau_rawIso_rel": tau["rawIso"] / pt,
        "tau_chargedIso_log": np.log1p(tau["chargedIso"]),
        "tau_neutralIso_log": np.log1p(tau["neutralIso"]),
        "tau_photonsOutside_log": np.log1p(tau["photonsOutsideSignalCone"]),
        "tau_n_charged": total(is_charged * (1.0 - is_e) * (1.0 - is_mu)),
        "tau_n_neutral": total((1.0 - is_charged) * (1.0 - is_gamma)),
        "tau_n_photons": total(is_gamma),
        "tau_n_electrons": total(is_e),
        "tau_n_muons": total(is_mu),
        "tau_electron_ptfrac": total(values["ptfrac"] * is_e),
        "tau_muon_ptfrac": total(values["ptfrac"] * is_mu),
        "tau_egamma_ptfrac": total(values["ptfrac"] * (is_e + is_gamma)),
    }
    return {name: np.asarray(out[name], dtype=np.float32) for name in TAU_FEATURES}


@dataclass(frozen=True)
class FeatureStats:
    """Standardisation of one cell feature: ``clip((x - center) * scale, lower, upper)``."""

    center: float
    scale: float
    lower: float = -5.0
    upper: float = 5.0


@dataclass(frozen=True)
class GridConfig:
    """Grid geometry and per-input, per-feature standardisation (``grids.json``)."""

    grids: dict[str, GridSpec]
    features: dict[str, tuple[str, ...]]
    """Grid input name (``inner_egamma`` ...) -> its features, in channel order."""
    stats: dict[str, tuple[FeatureStats, ...]]

    @classmethod
    def fit(cls, raw: Mapping[str, tuple[np.ndarray, np.ndarray]]) -> GridConfig:
        """weaver-auto statistics of each feature over the occupied cells of ``raw``."""
        stats = {}
        for name, (sums, occupied) in raw.items():
            full = np.broadcast_to(occupied, sums.shape).astype(bool)
            per_feature = []
            for channel in range(sums.shape[1]):
                values = sums[:, channel][full[:, channel]].astype(np.float64)
                if values.size == 0:
                    per_feature.append(FeatureStats(0.0, 1.0))
                    continue
                p16, p50, p84 = np.percentile(values, [16, 50, 84])
                spread = max(p84 - p50, p50 - p16)
                per_feature.append(FeatureStats(float(p50), 1.0 / spread if spread > 0 else 1.0))
            stats[name] = tuple(per_feature)
        features = {f"{g}_{b}": BLOCK_FEATURES[b] for g in GRIDS for b in BLOCKS}
        return cls(dict(GRIDS), features, stats)

    def apply(self, raw: Mapping[str, tuple[np.ndarray, np.ndarray]]) -> dict[str, np.ndarray]:
        """Standardised float32 grids; empty cells are 0."""
        out = {}
        for name, stats in self.stats.items():
            if name not in raw:
                raise ConfigError(f"grid config: input '{name}' was not built")
            sums, occupied = raw[name]
            if sums.shape[1] != len(stats):
                raise ConfigError(
                    f"grid config: input '{name}' has {len(stats)} features, "
                    f"the recipe built {sums.shape[1]}"
                )
            center = np.array([s.center for s in stats], dtype=np.float32)[None, :, None, None]
            scale = np.array([s.scale for s in stats], dtype=np.float32)[None, :, None, None]
            lower = np.array([s.lower for s in stats], dtype=np.float32)[None, :, None, None]
            upper = np.array([s.upper for s in stats], dtype=np.float32)[None, :, None, None]
            standard = np.clip((sums - center) * scale, lower, upper) * occupied
            out[name] = np.ascontiguousarray(standard, dtype=np.float32)
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON form: grids (cells, cell size) and, per input, features with their statistics."""
        grids = {g: {"n_cells": s.n_cells, "cell_size": s.cell_size} for g, s in self.grids.items()}
        inputs = {
            name: {
                "grid": name.split("_", 1)[0],
                "features": list(self.features[name]),
                "stats": {f: asdict(s) for f, s in zip(self.features[name], stats, strict=True)},
            }
            for name, stats in self.stats.items()
        }
        return {"cone": CONE, "grids": grids, "inputs": inputs}

    def save(self, path: str | Path) -> None:
        """Write ``grids.json``."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> GridConfig:
        """Read ``grids.json``; its geometry and features must be this recipe's."""
        path = Path(path)
        try:
            raw = json.loads(path.read_text())
            grids = {
                g: GridSpec(int(v["n_cells"]), float(v["cell_size"]))
                for g, v in raw["grids"].items()
            }
            features = {n: tuple(v["features"]) for n, v in raw["inputs"].items()}
            stats = {
                n: tuple(
                    FeatureStats(
                        float(s["center"]), float(s["scale"]), float(s["lower"]), float(s["upper"])
                    )
                    for s in (v["stats"][f] for f in v["features"])
                )
                for n, v in raw["inputs"].items()
            }
        except (OSError, ValueError, KeyError, TypeError, RecursionError) as error:
            raise ConfigError(f"{path}: not a readable DeepTau grid config ({error!r})") from error
        for name, per_feature in stats.items():
            for feature, stat in zip(features[name], per_feature, strict=True):
                if not all(math.isfinite(v) for v in astuple(stat)):
                    raise ConfigError(
                        f"{path}: {name}.{feature} has a non-finite statistic {stat}; "
                        "it would change every score silently"
                    )
        expected = {f"{g}_{b}": BLOCK_FEATURES[b] for g in GRIDS for b in BLOCKS}
        if grids != GRIDS or features != expected:
            raise ConfigError(
                f"{path}: grid geometry or features differ from this jetml's DeepTau recipe"
            )
        return cls(grids, features, stats)


def deeptau_inputs(
    events: ak.Array, mask: ak.Array, config: DataConfig, grid_config: GridConfig
) -> dict[str, np.ndarray]:
    """All model inputs of the taus ``events.Tau[mask]``: ``tau`` from ``preprocess.json``, the
    six grids standardised by ``grids.json``."""
    cone = tau_candidates(events, mask)
    inputs = build_inputs(config, tau_variables(cone))
    return {**inputs, **standardised_grids(cone, grid_config)}
