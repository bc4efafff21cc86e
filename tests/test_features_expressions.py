"""The whitelisted new_variables evaluator: correct results, unsafe code refused."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

from jetml.errors import ConfigError
from jetml.features import check_expression, evaluate_expression, evaluate_new_variables

PT = ak.Array([[10.0, 20.0], [], [5.0]])
ETA = ak.Array([[0.5, -1.0], [], [2.0]])


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("np.log(pt)", [[np.log(10.0), np.log(20.0)], [], [np.log(5.0)]]),
        ("np.abs(eta) * 2 + 1", [[2.0, 3.0], [], [5.0]]),
        ("(pt > 8) & (np.abs(eta) < 1.5)", [[True, True], [], [False]]),
        ("ak.ones_like(pt)", [[1.0, 1.0], [], [1.0]]),
        ("np.where(eta > 0, pt, -pt)", [[10.0, -20.0], [], [5.0]]),
        ("1 if True else 0", 1),
        ("np.clip(eta, -0.5, 0.5) ** 2", [[0.25, 0.25], [], [0.25]]),
        ("pt / np.pi", [[10 / np.pi, 20 / np.pi], [], [5 / np.pi]]),
    ],
)
def test_allowed_expressions(expr: str, expected) -> None:
    result = evaluate_expression(expr, {"pt": PT, "eta": ETA})
    if isinstance(expected, int):
        assert result == expected
        return
    expected = ak.Array(expected)
    assert ak.to_list(ak.num(result)) == ak.to_list(ak.num(expected))
    np.testing.assert_allclose(ak.to_numpy(ak.flatten(result)), ak.to_numpy(ak.flatten(expected)))


@pytest.mark.parametrize(
    "expr",
    [
        "__import__('os').system('echo pwned')",
        "pt.__class__",
        "pt.__class__.__bases__[0].__subclasses__()",
        "(lambda: 1)()",
        "[x for x in pt]",
        "np.load('x.npy')",
        "os.system('ls')",
        "getattr(pt, 'x')",
        "eval('1')",
        "np.__dict__",
        "_hidden + 1",
        "np",
        "pt[0]",
        "np.log(*pt)",
        "np.log(**pt)",
        "1 if pt else exec('x')",
    ],
)
def test_unsafe_expressions_raise_config_error(expr: str) -> None:
    with pytest.raises(ConfigError, match="unsafe or unsupported"):
        check_expression(expr, where="cfg.yaml: new_variables.x")
    with pytest.raises(ConfigError):
        evaluate_expression(expr, {"pt": PT})


def test_syntax_error_is_config_error() -> None:
    with pytest.raises(ConfigError, match="cannot parse"):
        check_expression("np.log(pt", where="x")


def test_new_variables_resolve_dependencies_and_cycles() -> None:
    new = {"pt_log": "np.log(pt)", "pt_log2": "pt_log * 2", "a": "b + 1", "b": "a + 1"}
    out = evaluate_new_variables(new, {"pt": PT}, ["pt_log2"], source="c.yaml")
    assert ak.to_list(out["pt_log2"])[0] == pytest.approx([2 * np.log(10), 2 * np.log(20)])
    with pytest.raises(ConfigError, match="depends on itself"):
        evaluate_new_variables(new, {"pt": PT}, ["a"], source="c.yaml")
    with pytest.raises(ConfigError, match="'missing'"):
        evaluate_new_variables({"y": "missing + 1"}, {"pt": PT}, source="c.yaml")
