"""Columnar builder vs a slow, obviously correct per-jet reference."""

from __future__ import annotations

import math

import awkward as ak
import numpy as np
import pytest

from jetml.errors import ConfigError, ModelInputError
from jetml.features import (
    DataConfig,
    InputGroupConfig,
    VarInfo,
    build_group,
    build_inputs,
    group_lengths,
    sort_candidates,
)

SPECIAL = [np.nan, np.inf, -np.inf, 3e32, -3e32]


def _random_jagged(rng: np.random.Generator, counts: np.ndarray) -> ak.Array:
    """Jagged float32 values with ~5% NaN/inf/huge entries."""
    values = rng.normal(0.0, 3.0, size=int(counts.sum())).astype(np.float32)
    special = rng.random(values.size) < 0.05
    values[special] = rng.choice(np.array(SPECIAL, dtype=np.float32), size=int(special.sum()))
    return ak.unflatten(values, counts)


def _reference_value(x: float, info: VarInfo) -> np.float32:
    """CMSSW center_norm_pad for one value, written out in scalar float32 arithmetic."""
    x = np.float32(x)
    if not math.isfinite(x) or abs(float(x)) > 1e32:
        x = np.float32(info.replace_inf_value)
    v = (x - np.float32(info.center)) * np.float32(info.scale)
    return np.float32(min(max(v, np.float32(info.lower_bound)), np.float32(info.upper_bound)))


def _reference_group(variables, grp: InputGroupConfig, length: int):
    """Per-jet, per-candidate loops (slow, obviously correct)."""
    per_var = {name: ak.to_list(variables[name]) for name in grp.var_names}
    n_jets = len(per_var[grp.var_names[0]])
    out = np.zeros((n_jets, len(grp.var_names), length), dtype=np.float32)
    mask = np.zeros((n_jets, 1, length), dtype=np.float32)
    for j in range(n_jets):
        for v, name in enumerate(grp.var_names):
            info = grp.vars[name]
            cands = per_var[name][j]
            for slot in range(length):
                if slot < len(cands):
                    out[j, v, slot] = _reference_value(cands[slot], info)
                    mask[j, 0, slot] = 1.0
                elif grp.pad_mode == "wrap" and cands:
                    out[j, v, slot] = _reference_value(cands[slot % len(cands)], info)
                else:
                    out[j, v, slot] = info.pad_value
    return out, mask


def _group(pad_mode: str, min_length: int = 4, max_length: int = 6) -> InputGroupConfig:
    infos = {
        "a": VarInfo(1.0, 0.5, -2.0, 2.0, 0.0, 0.0),
        "b": VarInfo(0.0, 1.0, -1e32, 1e32, -1.0, 7.0),
        "c": VarInfo(-0.3, 3.0, -5.0, 5.0, 9.0, -2.0),
    }
    return InputGroupConfig("grp", list(infos), min_length, max_length, pad_mode, infos)


@pytest.mark.parametrize("pad_mode", ["constant", "wrap"])
@pytest.mark.parametrize("length", [None, 1, 5, 20])
def test_builder_matches_reference(pad_mode: str, length: int | None) -> None:
    rng = np.random.default_rng(42)
    # jets with 0, 1, exactly-length and more-than-length candidates, plus random ones
    counts = np.concatenate([[0, 1, 4, 6, 7, 15, 0], rng.integers(0, 12, size=60)])
    variables = {name: _random_jagged(rng, counts) for name in "abc"}
    grp = _group(pad_mode)
    values, mask = build_group(variables, grp, length)
    target = grp.resolve_length(length)
    ref_values, ref_mask = _reference_group(variables, grp, target)
    assert values.dtype == np.float32 and mask.dtype == np.float32
    assert values.shape == (len(counts), 3, target)
    assert mask.shape == (len(counts), 1, target)
    np.testing.assert_array_equal(values, ref_values)  # bitwise, not approximately
    np.testing.assert_array_equal(mask, ref_mask)
    assert np.isfinite(values).all()


def test_nan_inf_replaced_then_standardised() -> None:
    info = VarInfo(center=1.0, scale=2.0, lower_bound=-3.0, upper_bound=3.0, replace_inf_value=0.5)
    grp = InputGroupConfig("g", ["x"], 5, 5, "constant", {"x": info})
    x = ak.Array([[np.nan, np.inf, -np.inf, 2e33, 1.5]])
    values, _ = build_group({"x": x}, grp)
    # replaced by 0.5 -> (0.5 - 1) * 2 = -1; 1.5 -> 1.0
    np.testing.assert_array_equal(values[0, 0], np.array([-1, -1, -1, -1, 1], dtype=np.float32))


def test_empty_chunk_and_jets_without_candidates() -> None:
    grp = _group("wrap")
    empty = {n: ak.Array(np.zeros(0, dtype=np.float32)) for n in "abc"}
    empty = {n: ak.unflatten(v, np.zeros(0, dtype=np.int64)) for n, v in empty.items()}
    values, mask = build_group(empty, grp)
    assert values.shape == (0, 3, 6) and mask.shape == (0, 1, 6)
    no_cands = {n: ak.Array([[], []]) for n in "abc"}
    values, mask = build_group(no_cands, grp)
    assert (mask == 0).all()
    np.testing.assert_array_equal(values[:, :, 0], [[0.0, -1.0, 9.0]] * 2)


def test_per_jet_scalars_and_integers() -> None:
    grp = InputGroupConfig("glob", ["pt", "n"], 1, 1, "constant", {"pt": VarInfo(), "n": VarInfo()})
    values, _ = build_group({"pt": np.array([1.0, 2.0]), "n": ak.Array([3, 4])}, grp)
    np.testing.assert_array_equal(values[:, :, 0], [[1.0, 3.0], [2.0, 4.0]])


def test_mismatched_candidate_counts() -> None:
    grp = _group("constant")
    bad = {"a": ak.Array([[1.0], [2.0]]), "b": ak.Array([[1.0], []]), "c": ak.Array([[1.0], [1]])}
    with pytest.raises(ModelInputError, match="'b' has a different number"):
        build_group(bad, grp)


def _config() -> DataConfig:
    pf = InputGroupConfig(
        "pf_features",
        ["pt_log", "eta"],
        2,
        8,
        "constant",
        {"pt_log": VarInfo(1.0, 0.5, -5, 5, 0, 0), "eta": VarInfo()},
    )
    pf_mask = InputGroupConfig("pf_mask", ["mask"], 2, 8, "constant", {"mask": VarInfo()})
    return DataConfig(
        input_names=["pf_features", "pf_mask"],
        inputs={"pf_features": pf, "pf_mask": pf_mask},
        output_names=["p"],
        new_variables={"pt_log": "np.log(pt)", "mask": "ak.ones_like(pt)"},
        source="test.yaml",
    )


def test_build_inputs_with_new_variables_and_record_array() -> None:
    cands = ak.zip({"pt": [[10.0, 0.0, 5.0], [2.0]], "eta": [[0.1, 0.2, -0.3], [1.0]]})
    inputs = build_inputs(_config(), cands, length=None)
    assert set(inputs) == {"pf_features", "pf_mask"}
    assert inputs["pf_features"].shape == (2, 2, 8)
    # log(0) = -inf -> replaced by 0 -> (0 - 1) * 0.5
    expected = np.float32((np.log(np.float32(10.0)) - 1) * 0.5)
    assert inputs["pf_features"][0, 0, 0] == pytest.approx(expected, rel=1e-6)
    assert inputs["pf_features"][0, 0, 1] == np.float32(-0.5)
    np.testing.assert_array_equal(inputs["pf_mask"][:, 0, :4], [[1, 1, 1, 0], [1, 0, 0, 0]])
    lengths = group_lengths(_config(), cands)
    assert lengths == {"pf_features": 3, "pf_mask": 3}
    short = build_inputs(_config(), cands, length=lengths)
    assert short["pf_features"].shape == (2, 2, 3)


def test_missing_branch_names_branch_and_config() -> None:
    cands = ak.zip({"pt": [[10.0]]})
    with pytest.raises(ConfigError) as info:
        build_inputs(_config(), cands)
    assert "'eta'" in str(info.value) and "test.yaml" in str(info.value)


def test_sort_candidates_descending_stable() -> None:
    cands = ak.zip({"pt": [[1.0, 3.0, 2.0, 3.0], []], "i": [[0, 1, 2, 3], []]})
    ordered = sort_candidates(cands, "pt")
    assert ak.to_list(ordered.i) == [[1, 3, 2, 0], []]
    assert ak.to_list(sort_candidates(cands, "pt", ascending=True).i) == [[0, 2, 1, 3], []]
