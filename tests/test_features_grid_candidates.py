"""Eta-phi grids vs a per-jet reference; jet->candidate grouping by jetIdx (real PFNano)."""

from __future__ import annotations

import math
from pathlib import Path

import awkward as ak
import numpy as np
import pytest

from jetml.errors import ConfigError, ModelInputError
from jetml.features import (
    GridSpec,
    build_grid,
    group_by_jet,
    linked_candidates,
    relative_coordinates,
)


def _reference_grid(deta, dphi, values, spec: GridSpec) -> np.ndarray:
    """Loop over jets and candidates, accumulate in float64 in candidate order."""
    deta, dphi = ak.to_list(deta), ak.to_list(dphi)
    vals = {k: ak.to_list(v) for k, v in values.items()}
    n = spec.n_cells
    out = np.zeros((len(deta), len(vals) + 1, n, n), dtype=np.float64)
    for j in range(len(deta)):
        for c in range(len(deta[j])):
            x, y = deta[j][c], dphi[j][c]
            if not (math.isfinite(x) and math.isfinite(y)):
                continue
            ie = math.floor(x / spec.cell_size + n / 2)
            ip = math.floor(y / spec.cell_size + n / 2)
            if not (0 <= ie < n and 0 <= ip < n):
                continue
            for k, name in enumerate(vals):
                v = vals[name][j][c]
                out[j, k, ie, ip] += v if math.isfinite(v) else 0.0
            out[j, len(vals), ie, ip] += 1
    return out.astype(np.float32)


@pytest.mark.parametrize("spec", [GridSpec(11, 0.02), GridSpec(21, 0.05), GridSpec(4, 0.1)])
def test_grid_matches_reference(spec: GridSpec) -> None:
    rng = np.random.default_rng(7)
    counts = np.concatenate([[0, 1, 40], rng.integers(0, 30, size=40)])
    total = int(counts.sum())
    eta = ak.unflatten(rng.normal(0, 0.3, total), counts)
    phi = ak.unflatten(rng.uniform(-np.pi, np.pi, total), counts)
    axis_eta = rng.normal(0, 1, len(counts))
    axis_phi = rng.uniform(-np.pi, np.pi, len(counts))
    # put some candidates right next to the axis (across the phi = ±pi seam too)
    phi = ak.where(ak.local_index(phi) % 3 == 0, axis_phi + rng.normal(0, 0.05), phi)
    pt = rng.exponential(5.0, total)
    pt[::17] = np.nan
    pt[::23] = np.inf
    deta, dphi = relative_coordinates(eta, phi, axis_eta, axis_phi)
    assert ak.all(dphi >= -np.pi) and ak.all(dphi < np.pi)
    values = {"pt": ak.unflatten(pt, counts), "one": ak.ones_like(deta)}
    grid = build_grid(deta, dphi, values, spec)
    assert grid.shape == (len(counts), 3, spec.n_cells, spec.n_cells)
    assert grid.dtype == np.float32
    np.testing.assert_array_equal(grid, _reference_grid(deta, dphi, values, spec))
    np.testing.assert_array_equal(grid[:, 1], grid[:, 2])  # sum of ones == count
    assert grid[0].sum() == 0


def test_axis_sits_in_centre_cell() -> None:
    spec = GridSpec(11, 0.02)
    deta = ak.Array([[0.0, 0.0099, -0.0099, 0.011]])
    dphi = ak.Array([[0.0, 0.0, 0.0, 0.0]])
    grid = build_grid(deta, dphi, {}, spec)
    assert grid[0, 0, 5, 5] == 3 and grid[0, 0, 6, 5] == 1


def test_grid_errors() -> None:
    with pytest.raises(ConfigError):
        GridSpec(0, 0.1)
    with pytest.raises(ModelInputError, match="value 'x'"):
        build_grid(
            ak.Array([[0.0]]), ak.Array([[0.0]]), {"x": ak.Array([[1.0, 2.0]])}, GridSpec(3, 0.1)
        )


def test_group_by_jet_synthetic() -> None:
    links = ak.zip({"jetIdx": [[1, 0, 1, 2], [], [0]], "v": [[10, 11, 12, 13], [], [20]]})
    grouped = group_by_jet(links, [3, 2, 1])
    assert ak.to_list(grouped.v) == [[[11], [10, 12], [13]], [[], []], [[20]]]
    with pytest.raises(ModelInputError, match="points outside its 1 jets"):
        group_by_jet(ak.zip({"jetIdx": [[1]]}), [1], name="FatJetPFCands")


@pytest.fixture(scope="module")
def pfnano_events(cms_nano: Path):
    from jetml.nanoaod import load_events

    return load_events(cms_nano / "pfnano.root")


def test_linked_candidates_on_real_pfnano(pfnano_events) -> None:
    events = pfnano_events
    cands = linked_candidates(
        events, "FatJet", "FatJetPFCands", "PFCands", candidate_index="pFCandsIdx"
    )
    assert ak.to_list(ak.num(cands, axis=1)) == ak.to_list(ak.num(events.FatJet))
    assert int(ak.sum(ak.num(cands, axis=2))) == int(ak.sum(ak.num(events.FatJetPFCands)))
    # every candidate sits in the jet its link names, and is the PF candidate it points to
    assert ak.all(cands.jetIdx == ak.local_index(cands, axis=1))
    flat_pt = ak.flatten(cands.pt, axis=None)
    direct = ak.flatten(events.PFCands.pt[events.FatJetPFCands.pFCandsIdx], axis=None)
    assert sorted(ak.to_list(flat_pt)) == sorted(ak.to_list(direct))
    # candidates are near their AK8 jet axis
    deta, dphi = relative_coordinates(cands.eta, cands.phi, events.FatJet.eta, events.FatJet.phi)
    assert ak.max(np.hypot(deta, dphi)) < 1.0
    svs = linked_candidates(events, "FatJet", "FatJetSVs", "SV", candidate_index="sVIdx")
    assert "dxysig" in svs.fields and "ntracks" in svs.fields
    with pytest.raises(ModelInputError, match="lack the collection 'Nope'"):
        linked_candidates(events, "FatJet", "Nope", "PFCands", candidate_index="pFCandsIdx")


def test_build_group_from_real_pfnano_candidates(pfnano_events) -> None:
    from jetml.features import InputGroupConfig, VarInfo, build_group, sort_candidates

    events = pfnano_events
    cands = linked_candidates(
        events, "FatJet", "FatJetPFCands", "PFCands", candidate_index="pFCandsIdx"
    )
    per_jet = sort_candidates(ak.flatten(cands, axis=1), "pt")
    infos = {"pt": VarInfo(), "eta": VarInfo(), "charge": VarInfo()}
    grp = InputGroupConfig("pf", ["pt", "eta", "charge"], 16, 50, "constant", infos)
    values, mask = build_group({k: per_jet[k] for k in infos}, grp)
    counts = ak.to_numpy(ak.num(per_jet))
    assert values.shape == (len(counts), 3, 50)
    np.testing.assert_array_equal(mask.sum(axis=(1, 2)), np.minimum(counts, 50))
    # pT-descending within each jet, and identical to the candidates' own values
    pts = values[:, 0, :]
    assert (np.diff(pts, axis=1)[mask[:, 0, 1:] > 0] <= 0).all()
    first = ak.to_numpy(ak.firsts(per_jet.pt)).astype(np.float32)
    np.testing.assert_array_equal(pts[:, 0], first)
    assert set(np.unique(values[:, 2, :])) <= {-1.0, 0.0, 1.0}
