"""Safe evaluation of ``new_variables`` expressions from data configs.

A data config may define derived variables such as ``pfcand_pt_log: np.log(pfcand_pt)``. weaver
evaluates them with ``eval``; a config file must never be able to run arbitrary code, so jetml
parses each expression with :mod:`ast` and walks the tree itself, allowing only arithmetic,
comparisons, boolean/bitwise operators, conditional expressions, literals, variable names and
calls of a fixed list of numpy/awkward functions. Anything else (imports, attribute access
outside the list, dunder names, lambdas, comprehensions, ...) raises :class:`ConfigError`.

A config must not be able to hang or exhaust the process either: expressions are limited in
length and nesting depth, string literals may only be function arguments (``"float32"``), and
powers of Python numbers are bounded (``9**9**9**9`` is refused instead of computed for hours).
"""

from __future__ import annotations

import ast
import functools
import math
import operator
from collections.abc import Callable, Mapping
from typing import Any

import awkward as ak
import numpy as np

from jetml.errors import ConfigError

_NUMPY_FUNCTIONS = (
    "abs absolute sign floor ceil rint trunc sqrt square power exp expm1 log log1p log2 log10 "
    "sin cos tan arcsin arccos arctan arctan2 sinh cosh tanh arcsinh arccosh arctanh hypot "
    "minimum maximum fmin fmax isnan isinf isfinite logical_and logical_or logical_not "
    "logical_xor float32 float64 int32 int64 bool_"
).split()


def _clip(x: Any, lower: Any, upper: Any) -> Any:
    """``np.clip`` that also works on jagged awkward arrays (built from ufuncs)."""
    return np.minimum(np.maximum(x, lower), upper)


# numpy functions that are not ufuncs: the awkward equivalents handle both array kinds
_NUMPY_REPLACEMENTS: dict[str, Callable[..., Any]] = {
    "clip": _clip,
    "where": ak.where,
    "nan_to_num": ak.nan_to_num,
    "ones_like": ak.ones_like,
    "zeros_like": ak.zeros_like,
    "full_like": ak.full_like,
}
_NUMPY_CONSTANTS = {"pi": np.pi, "e": np.e, "inf": np.inf, "nan": np.nan}
_AWKWARD_FUNCTIONS = (
    "num ones_like zeros_like full_like values_astype fill_none is_none local_index where sum "
    "prod max min mean any all count count_nonzero firsts argsort sort"
).split()

#: Allowed ``module.function`` calls, resolved once.
ALLOWED_FUNCTIONS: dict[str, Callable[..., Any]] = {
    **{f"np.{n}": getattr(np, n) for n in _NUMPY_FUNCTIONS},
    **{f"numpy.{n}": getattr(np, n) for n in _NUMPY_FUNCTIONS},
    **{f"np.{n}": f for n, f in _NUMPY_REPLACEMENTS.items()},
    **{f"numpy.{n}": f for n, f in _NUMPY_REPLACEMENTS.items()},
    **{f"ak.{n}": getattr(ak, n) for n in _AWKWARD_FUNCTIONS},
    **{f"awkward.{n}": getattr(ak, n) for n in _AWKWARD_FUNCTIONS},
}
ALLOWED_CONSTANTS: dict[str, float] = {
    **{f"np.{n}": v for n, v in _NUMPY_CONSTANTS.items()},
    **{f"numpy.{n}": v for n, v in _NUMPY_CONSTANTS.items()},
}

#: Longest expression accepted (weaver's are well under 200 characters).
MAX_EXPRESSION_CHARS = 1000
#: Deepest nesting of operators and calls accepted (keeps evaluation far from Python's stack limit).
MAX_DEPTH = 64
#: Largest integer power of Python numbers, in bits of the result.
MAX_POWER_BITS = 1024


def _bounded_pow(base: Any, exponent: Any) -> Any:
    """``base ** exponent``, refusing integer results over MAX_POWER_BITS bits and float overflow.

    Arrays follow numpy (overflow gives inf or wraps, at array speed); Python ints grow without
    bound, so ``9**9**9**9`` would run for hours.
    """
    scalars = (int, float, np.integer, np.floating)
    if isinstance(base, scalars) and isinstance(exponent, scalars):
        if isinstance(base, (int, np.integer)) and isinstance(exponent, (int, np.integer)):
            bits = max(int(abs(base)).bit_length(), 1) * abs(int(exponent))
            if exponent > 0 and abs(base) > 1 and bits > MAX_POWER_BITS:
                raise OverflowError(f"{base} ** {exponent} exceeds {MAX_POWER_BITS} bits")
        return math.pow(base, exponent) if isinstance(base, float) else operator.pow(base, exponent)
    return np.power(base, exponent)


# numpy ufuncs rather than the ``operator`` functions: awkward arrays dispatch operators to
# these same ufuncs, and numpy arrays then behave like them (``ndarray ** 2`` would otherwise
# take numpy's ``square`` shortcut, which need not round like ``np.power``).
_BINARY_OPS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: np.add,
    ast.Sub: np.subtract,
    ast.Mult: np.multiply,
    ast.Div: np.true_divide,
    ast.FloorDiv: np.floor_divide,
    ast.Mod: np.remainder,
    ast.Pow: _bounded_pow,
    ast.BitAnd: np.bitwise_and,
    ast.BitOr: np.bitwise_or,
    ast.BitXor: np.bitwise_xor,
}
_UNARY_OPS: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.USub: np.negative,
    ast.UAdd: np.positive,
    ast.Invert: np.invert,
    ast.Not: np.logical_not,
}
_COMPARE_OPS: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}


def _dotted(node: ast.AST) -> str | None:
    """``np.log`` → "np.log" for a plain Name.attr chain, else None."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def _parse(expr: str, where: str) -> ast.Expression:
    if not isinstance(expr, str):
        raise ConfigError(f"{where}: expression must be a string, got {type(expr).__name__}")
    return _parse_string(expr, where)


@functools.lru_cache(maxsize=1024)
def _parse_string(expr: str, where: str) -> ast.Expression:
    """The checked AST of ``expr`` (cached: every chunk evaluates the same expressions)."""
    if len(expr) > MAX_EXPRESSION_CHARS:
        raise ConfigError(
            f"{where}: expression of {len(expr)} characters (at most {MAX_EXPRESSION_CHARS})"
        )
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except SyntaxError as exc:
        raise ConfigError(f"{where}: cannot parse expression {_short(expr)} ({exc.msg})") from exc
    except (RecursionError, MemoryError) as exc:
        raise ConfigError(f"{where}: expression {_short(expr)} nested too deeply") from exc
    depth = _depth(tree.body)
    if depth > MAX_DEPTH:
        raise ConfigError(
            f"{where}: expression {_short(expr)} nested {depth} levels deep (at most {MAX_DEPTH})"
        )
    return tree


def _short(expr: str, keep: int = 60) -> str:
    """``expr`` quoted, cut to ``keep`` characters for one-line messages."""
    return repr(expr) if len(expr) <= keep else repr(expr[:keep]) + f"... ({len(expr)} chars)"


def _depth(root: ast.AST) -> int:
    """Nesting depth of an AST, computed without recursion."""
    deepest, stack = 0, [(root, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        stack += [(child, level + 1) for child in ast.iter_child_nodes(node)]
    return deepest


def check_expression(expr: str, *, where: str = "expression") -> set[str]:
    """Validate ``expr`` against the whitelist; return the variable names it reads."""
    tree = _parse(expr, where)
    names: set[str] = set()
    _check(tree.body, expr, where, names)
    return names


def _reject(node: ast.AST, expr: str, where: str, why: str) -> ConfigError:
    return ConfigError(f"{where}: unsafe or unsupported expression {_short(expr)}: {why}")


def _check(
    node: ast.AST, expr: str, where: str, names: set[str], *, argument: bool = False
) -> None:
    """Recursively verify that every node is allowed; collect variable names.

    ``argument``: the node is a function argument, the only place a string literal may be.
    """
    if isinstance(node, ast.Constant):
        if not isinstance(node.value, (int, float, bool, str)) or node.value is Ellipsis:
            raise _reject(node, expr, where, f"literal {node.value!r} not allowed")
        if isinstance(node.value, str) and not argument:
            raise _reject(node, expr, where, "string literals only as function arguments")
        return
    if isinstance(node, ast.Name):
        if node.id.startswith("_"):
            raise _reject(node, expr, where, f"name '{node.id}' not allowed")
        if node.id in ("np", "numpy", "ak", "awkward"):
            raise _reject(node, expr, where, f"bare module '{node.id}' not allowed")
        names.add(node.id)
        return
    if isinstance(node, ast.Attribute):
        dotted = _dotted(node)
        if dotted is None or dotted not in ALLOWED_CONSTANTS:
            raise _reject(node, expr, where, f"attribute access '{ast.unparse(node)}' not allowed")
        return
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY_OPS:
        _check(node.left, expr, where, names)
        _check(node.right, expr, where, names)
        if not any(isinstance(n, (ast.Name, ast.Call)) for n in ast.walk(node)):
            _eval(node, {}, expr, where)  # constants only: bounded, refused now, not per chunk
        return
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY_OPS:
        _check(node.operand, expr, where, names)
        return
    if isinstance(node, ast.Compare) and all(type(op) in _COMPARE_OPS for op in node.ops):
        for child in (node.left, *node.comparators):
            _check(child, expr, where, names)
        return
    if isinstance(node, ast.IfExp):
        for child in (node.test, node.body, node.orelse):
            _check(child, expr, where, names)
        return
    if isinstance(node, (ast.Tuple, ast.List)):
        if not argument:  # [0] * 10**10 would allocate without bound
            raise _reject(node, expr, where, "tuples and lists only as function arguments")
        for child in node.elts:
            _check(child, expr, where, names, argument=True)
        return
    if isinstance(node, ast.Call):
        dotted = _dotted(node.func)
        if dotted is None or dotted not in ALLOWED_FUNCTIONS:
            raise _reject(node, expr, where, f"call of '{ast.unparse(node.func)}' not allowed")
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise _reject(node, expr, where, "star-arguments not allowed")
            _check(arg, expr, where, names, argument=True)
        for kw in node.keywords:
            if kw.arg is None or kw.arg.startswith("_"):
                raise _reject(node, expr, where, "keyword unpacking not allowed")
            _check(kw.value, expr, where, names, argument=True)
        return
    raise _reject(node, expr, where, f"{type(node).__name__} not allowed")


def is_elementwise(expr: str, *, where: str = "expression") -> bool:
    """True when ``expr`` only combines names and constants with operators and numpy ufuncs,
    so evaluating it on flat arrays equals evaluating it on jagged ones element by element."""
    tree = _parse(expr, where)
    _check(tree.body, expr, where, set())
    for node in ast.walk(tree.body):
        if isinstance(node, ast.Call):
            if not isinstance(ALLOWED_FUNCTIONS[_dotted(node.func)], np.ufunc):  # type: ignore[index]
                return False
        elif isinstance(node, (ast.IfExp, ast.Tuple, ast.List, ast.keyword)):
            return False
    return True


def evaluate_expression(
    expr: str, variables: Mapping[str, Any], *, where: str = "expression"
) -> Any:
    """Evaluate a whitelisted expression with ``variables`` as the only names in scope."""
    tree = _parse(expr, where)
    _check(tree.body, expr, where, set())
    # log(0), 0/0 ... give ±inf/NaN on purpose; the builder replaces them per the config
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return _eval(tree.body, variables, expr, where)


def _eval(node: ast.AST, variables: Mapping[str, Any], expr: str, where: str) -> Any:
    """Evaluate an AST that :func:`_check` accepted; arithmetic failures become ConfigError."""
    try:
        return _eval_node(node, variables, expr, where)
    except (ArithmeticError, MemoryError, RecursionError) as exc:
        raise ConfigError(f"{where}: evaluating {_short(expr)} failed ({exc})") from exc


def _eval_node(node: ast.AST, variables: Mapping[str, Any], expr: str, where: str) -> Any:
    """Evaluate one node (recursively)."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id not in variables:
            raise ConfigError(f"{where}: expression {expr!r} reads unknown variable '{node.id}'")
        return variables[node.id]
    if isinstance(node, ast.Attribute):
        return ALLOWED_CONSTANTS[_dotted(node)]  # type: ignore[index]
    if isinstance(node, ast.BinOp):
        left = _eval_node(node.left, variables, expr, where)
        return _BINARY_OPS[type(node.op)](left, _eval_node(node.right, variables, expr, where))
    if isinstance(node, ast.UnaryOp):
        return _UNARY_OPS[type(node.op)](_eval_node(node.operand, variables, expr, where))
    if isinstance(node, ast.Compare):
        left = _eval_node(node.left, variables, expr, where)
        result: Any = None
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = _eval_node(comparator, variables, expr, where)
            step = _COMPARE_OPS[type(op)](left, right)
            result = step if result is None else result & step
            left = right
        return result
    if isinstance(node, ast.IfExp):
        test = _eval_node(node.test, variables, expr, where)
        if isinstance(test, (bool, np.bool_)):
            branch = node.body if test else node.orelse
            return _eval_node(branch, variables, expr, where)
        body = _eval_node(node.body, variables, expr, where)
        return ak.where(test, body, _eval_node(node.orelse, variables, expr, where))
    if isinstance(node, ast.Tuple):
        return tuple(_eval_node(e, variables, expr, where) for e in node.elts)
    if isinstance(node, ast.List):
        return [_eval_node(e, variables, expr, where) for e in node.elts]
    if isinstance(node, ast.Call):
        func = ALLOWED_FUNCTIONS[_dotted(node.func)]  # type: ignore[index]
        args = [_eval_node(a, variables, expr, where) for a in node.args]
        kwargs = {kw.arg: _eval_node(kw.value, variables, expr, where) for kw in node.keywords}
        try:
            return func(*args, **kwargs)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{where}: evaluating {expr!r} failed: {exc}") from exc
    raise ConfigError(f"{where}: {type(node).__name__} not allowed in {expr!r}")
