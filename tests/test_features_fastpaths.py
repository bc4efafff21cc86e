"""The fast feature paths of issue 14 are bit-for-bit the straightforward awkward code they
replaced: numba kernels vs awkward reducers and sorts, flat new_variables evaluation vs awkward
broadcasting, per-chunk shared columns vs fresh builds, fused DeepTau grids vs dense grids."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

from jetml.features import build_inputs, evaluate_new_variables, parse_weaver_yaml
from jetml.features.cms_pfnano import cms_jet_columns, cms_jet_variables
from jetml.features.columns import ChunkColumns, columns_of, shared_columns
from jetml.features.expressions import evaluate_expression, is_elementwise
from jetml.features.jagged import Jagged, as_jagged
from jetml.features.kernels import descending_within, segment_sums, standardised_cells
from jetml.nanoaod import load_events


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_segment_sums_equal_awkward_sum(dtype) -> None:
    rng = np.random.default_rng(1)
    counts = np.concatenate([[0, 1, 5000], rng.integers(0, 60, 300), [0]])
    values = rng.exponential(3.0, int(counts.sum())).astype(dtype)
    expected = ak.to_numpy(ak.sum(ak.unflatten(values, counts), axis=1))
    assert _same_bits(segment_sums(values, counts), expected)
    # numpy's pairwise reduceat rounds differently: the kernel is not a no-op replacement
    starts = np.cumsum(counts) - counts
    long = counts.argmax()
    pairwise = np.add.reduceat(values, starts[long : long + 1])[0]
    assert pairwise != expected[long]
    with pytest.raises(ValueError, match="add up"):
        segment_sums(values[:-1], counts)
    short = counts.copy()
    short[2] = 300  # every segment short enough for the step-by-step path
    short_values = rng.exponential(3.0, int(short.sum())).astype(dtype)
    expected_short = ak.to_numpy(ak.sum(ak.unflatten(short_values, short), axis=1))
    assert _same_bits(segment_sums(short_values, short), expected_short)
    flags = (values > 3).astype(dtype)  # whole numbers: the exact reduceat path
    expected = ak.to_numpy(ak.sum(ak.unflatten(flags, counts), axis=1))
    assert _same_bits(segment_sums(flags, counts), expected)


@pytest.mark.parametrize("nan_first", [True, False])
def test_descending_within_equals_lexsort_and_awkward(nan_first: bool) -> None:
    rng = np.random.default_rng(2)
    for trial in range(60):
        counts = rng.integers(0, 12, 15)
        segment = np.repeat(np.arange(15), counts)
        key = rng.integers(-3, 4, len(segment)).astype(np.float32)  # many ties
        key[rng.random(len(key)) < 0.05] = -0.0
        if trial % 3 == 0:
            key[rng.random(len(key)) < 0.1] = np.nan
        if trial % 4 == 0:
            segment = rng.permutation(segment)  # not grouped: the lexsort fallback
        order = descending_within(segment, key, nan_first=nan_first)
        keys = (-key, ~np.isnan(key), segment) if nan_first else (-key, segment)
        assert np.array_equal(order, np.lexsort(keys))
        if nan_first and trial % 4:
            jagged = ak.unflatten(key, counts)
            local = ak.argsort(jagged, axis=1, ascending=False, stable=True)
            starts = np.repeat(np.cumsum(counts) - counts, counts)
            assert np.array_equal(order, ak.to_numpy(ak.flatten(local)) + starts)


def test_standardised_cells_equal_dense_bincount_then_numpy() -> None:
    rng = np.random.default_rng(3)
    n_jets, n_cells, entries = 30, 49, 900
    owner = np.sort(rng.integers(0, n_jets, entries))
    cell = rng.integers(0, n_cells, entries)
    values = rng.normal(0, 2, (3, entries))
    stats = (
        np.array([0.5, -1.0, 0.0], np.float32),
        np.array([1.5, 0.25, 3.0], np.float32),
        np.full(3, -5.0, np.float32),
        np.full(3, 5.0, np.float32),
    )
    flat = owner * n_cells + cell
    dense = np.stack(
        [np.bincount(flat, weights=v, minlength=n_jets * n_cells) for v in values]
        + [np.bincount(flat, minlength=n_jets * n_cells).astype(np.float64)]
    )
    dense = dense.reshape(4, n_jets, n_cells).transpose(1, 0, 2).astype(np.float32)
    sums, occupied = dense[:, :-1], (dense[:, -1:] > 0).astype(np.float32)
    center, scale, lower, upper = (s[None, :, None] for s in stats)
    expected = np.clip((sums - center) * scale, lower, upper) * occupied  # GridConfig.apply
    got = standardised_cells(owner, cell, values, n_jets, n_cells, stats)
    assert _same_bits(got, expected)  # incl. -0.0 in empty cells where (0 - center) * scale < 0
    assert np.signbit(got[:, 0][occupied[:, 0] == 0]).all()  # channel 0: (0 - 0.5) * 1.5 < 0


EXPRESSIONS = {
    "ptrel": "pt_log - jet_pt_log",
    "dr": "np.hypot(etarel, phirel)",
    "power": "etarel ** 2 + phirel ** 2",
    "mixed": "np.log(pt_log - 3) * charge / 2",
    "compare": "(charge > 0) & (pt_log < 2.5)",
    "negate": "-np.abs(etarel) + np.pi",
}


def test_flat_new_variables_equal_awkward_broadcasting() -> None:
    rng = np.random.default_rng(4)
    counts = np.concatenate([[0, 3, 1], rng.integers(0, 20, 40)])
    total = int(counts.sum())
    variables = {
        "pt_log": ak.unflatten(rng.normal(2, 1, total).astype(np.float32), counts),
        "etarel": ak.unflatten(rng.normal(0, 0.3, total).astype(np.float32), counts),
        "phirel": Jagged(counts, rng.normal(0, 0.3, total).astype(np.float32)),
        "charge": ak.unflatten(rng.integers(-1, 2, total).astype(np.int32), counts),
        "jet_pt_log": rng.normal(6, 0.5, len(counts)).astype(np.float32),
    }
    awkward_vars = {k: v.to_awkward() if isinstance(v, Jagged) else v for k, v in variables.items()}
    assert all(is_elementwise(e) for e in EXPRESSIONS.values())
    assert not is_elementwise("ak.sum(pt_log, axis=1) + pt_log")
    flat = evaluate_new_variables(EXPRESSIONS, variables)
    for name, expr in EXPRESSIONS.items():
        reference = evaluate_expression(expr, awkward_vars)
        got = as_jagged(flat[name])
        assert got is not None and np.array_equal(got.counts, counts)
        assert _same_bits(got.values, ak.to_numpy(ak.flatten(reference))), name
    # a non-elementwise expression still runs through awkward
    out = evaluate_new_variables({"n": "ak.num(pt_log, axis=1) + jet_pt_log"}, variables)
    assert np.array_equal(ak.to_numpy(out["n"]), counts + variables["jet_pt_log"])


def test_builder_takes_jagged_columns() -> None:
    cfg = parse_weaver_yaml(
        {
            "new_variables": {"dr": "np.hypot(a, b)"},
            "inputs": {"x": {"length": 4, "pad_mode": "wrap", "vars": [["a", 0.5, 2.0], "dr"]}},
        }
    )
    counts = np.array([0, 2, 6])
    a = np.array([1, 2, 3, 4, 5, 6, 7, 8], np.float32)
    b = -a
    from_jagged = build_inputs(cfg, {"a": Jagged(counts, a), "b": Jagged(counts, b)})
    from_awkward = build_inputs(cfg, {"a": ak.unflatten(a, counts), "b": ak.unflatten(b, counts)})
    assert _same_bits(from_jagged["x"], from_awkward["x"])
    assert from_jagged["x"][1, 0].tolist() == [1.0, 3.0, 1.0, 3.0]  # wrap padding


@pytest.fixture(scope="module")
def pfnano_events(cms_nano):
    return load_events(cms_nano / "pfnano.root")


def test_chunk_columns_read_once_and_match_awkward(pfnano_events) -> None:
    events = pfnano_events
    cols = ChunkColumns(events)
    pt = cols.flat("PFCands", "pt")
    assert pt is cols.flat("PFCands", "pt")  # read once
    assert _same_bits(pt, ak.to_numpy(ak.flatten(events.PFCands.pt)))
    assert np.array_equal(cols.counts("FatJet"), ak.to_numpy(ak.num(events.FatJet)))
    # a sliced events array has another layout: the generic path gives the same numbers
    sliced = events[1:7]
    assert _same_bits(
        ChunkColumns(sliced).flat("PFCands", "eta"), ak.to_numpy(ak.flatten(sliced.PFCands.eta))
    )
    assert columns_of(events) is not columns_of(events)  # no scope: private caches
    with shared_columns(events) as shared:
        assert columns_of(events) is shared
        assert columns_of(sliced) is not shared


def test_shared_scope_builds_candidate_tables_once(pfnano_events, monkeypatch) -> None:
    from jetml.features import cms_pfnano

    names = ["pfcand_pt_log_nopuppi", "pfcand_etarel", "sv_d3dsig", "sv_etarel"]
    jets = pfnano_events.FatJet
    mask = jets.pt > 200
    fresh = cms_jet_variables(pfnano_events, names, mask)
    built = []
    original = cms_pfnano._CandidateRows.__init__

    def counting(self, *args, **kwargs):
        built.append(1)
        original(self, *args, **kwargs)

    monkeypatch.setattr(cms_pfnano._CandidateRows, "__init__", counting)
    with shared_columns(pfnano_events):
        first = cms_jet_variables(pfnano_events, names, mask)
        second = cms_jet_columns(pfnano_events, names, ak.to_numpy(ak.flatten(mask)))
        cms_jet_variables(pfnano_events, names[:1], jets.pt > 300)  # other jets, same table
    assert len(built) == 1
    for name in names:
        assert _same_bits(
            ak.to_numpy(ak.flatten(first[name])), ak.to_numpy(ak.flatten(fresh[name]))
        )
        assert _same_bits(second[1][name], ak.to_numpy(ak.flatten(fresh[name])))
        assert np.array_equal(second[0][name], ak.to_numpy(ak.num(fresh[name])))


@pytest.mark.parametrize("special", [None, "nan", "negative zero"])
def test_segment_max_and_argmax_equal_awkward(special) -> None:
    from jetml.features.kernels import segment_argmax, segment_max

    rng = np.random.default_rng(5)
    counts = np.concatenate([[0, 1, 3], rng.integers(0, 9, 200), [0]])
    values = rng.integers(-3, 4, int(counts.sum())).astype(np.float64)  # ties
    if special == "nan":
        values[rng.random(len(values)) < 0.2] = np.nan
        values[3:4] = np.nan  # a jet of NaN only (the one-candidate jet)
    if special == "negative zero":
        values[values == 0] = np.where(rng.random(int((values == 0).sum())) < 0.5, -0.0, 0.0)
    jagged = ak.unflatten(values, counts)
    expected_max = ak.to_numpy(ak.fill_none(ak.max(jagged, axis=1), 7.0))
    assert _same_bits(segment_max(values, counts, 7.0), expected_max)
    local = ak.to_numpy(ak.fill_none(ak.argmax(jagged, axis=1), -1))
    starts = np.cumsum(counts) - counts
    expected_arg = np.where(local >= 0, starts + local, -1)
    assert np.array_equal(segment_argmax(values, counts), expected_arg)
