"""Columnar builder: jagged candidate variables → padded float32 model inputs.

Everything is vectorised over jets and candidates with numpy index arithmetic on the flat
content of the jagged arrays (one gather per input group); there is no Python loop over jets
or candidates. The semantics are CMSSW's ``center_norm_pad``/weaver's ``_finalize_inputs``:

* ``x'`` = ``x`` with NaN, ±inf and ``|x| >= 1e32`` replaced by ``replace_inf_value``;
* value = ``clip((x' - center) * scale, lower_bound, upper_bound)`` in float32 arithmetic;
* slots after the jet's candidates hold ``pad_value`` (``pad_mode: constant``), or repeat the
  jet's candidates cyclically (``pad_mode: wrap``; a jet without candidates gets ``pad_value``);
* a jet with more candidates than the length keeps the first ones (callers sort beforehand).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import awkward as ak
import numpy as np

from jetml.errors import ConfigError, ModelInputError
from jetml.features.config import DataConfig, InputGroupConfig
from jetml.features.expressions import check_expression, evaluate_expression, is_elementwise
from jetml.features.jagged import Jagged, as_jagged
from jetml.features.kernels import standardise_pad

# Values at or above this magnitude count as infinite (CMSSW ``catch_infs``: |x| > 1e32 in
# double precision; float32(1e32) is the smallest float32 above 1e32).
_INF_THRESHOLD = np.float32(1e32)


class _VariableView(Mapping[str, Any]):
    """Read-only name → array view over a dict or an awkward record array, plus lazily
    evaluated ``new_variables`` (each computed once, cycles and unknown names reported)."""

    def __init__(
        self, variables: Any, new_variables: Mapping[str, str], source: str = "<memory>"
    ) -> None:
        self._base = variables
        self._new = dict(new_variables)
        self._source = source
        self._computed: dict[str, Any] = {}
        self._in_progress: set[str] = set()
        if isinstance(variables, ak.Array):
            self._base_names = set(ak.fields(variables))
        elif isinstance(variables, Mapping):
            self._base_names = set(variables.keys())
        else:
            raise ModelInputError(
                f"variables must be a mapping or an awkward record array, got {type(variables)}"
            )

    def __contains__(self, name: object) -> bool:
        return name in self._base_names or name in self._new

    def __getitem__(self, name: str) -> Any:
        if name in self._computed:
            return self._computed[name]
        if name in self._base_names:
            return self._base[name]
        if name not in self._new:
            raise KeyError(name)
        if name in self._in_progress:
            raise ConfigError(f"{self._source}: new_variables.{name} depends on itself")
        self._in_progress.add(name)
        try:
            expr = self._new[name]
            where = f"{self._source}: new_variables.{name}"
            for needed in check_expression(expr, where=where):
                if needed not in self:
                    raise ConfigError(
                        f"{where}: expression {expr!r} reads '{needed}', which is neither in "
                        "the candidate arrays nor defined in new_variables"
                    )
            value = self._evaluate_flat(expr, where)
            if value is None:
                value = evaluate_expression(expr, self, where=where)
        finally:
            self._in_progress.discard(name)
        self._computed[name] = value
        return value

    def _evaluate_flat(self, expr: str, where: str) -> Any:
        """``expr`` on the flat numpy content of its operands, or None when that is not
        equivalent to awkward's broadcasting (non-elementwise calls, operands of different
        shapes). Per-jet operands are repeated over the candidates of the jagged ones, which
        is exactly what awkward's broadcasting does before it calls the same numpy ufuncs."""
        if not is_elementwise(expr, where=where):
            return None
        operands: dict[str, Any] = {}
        counts: np.ndarray | None = None
        for needed in check_expression(expr, where=where):
            value = self[needed]
            if isinstance(value, ak.Array) and isinstance(value.layout, ak.contents.NumpyArray):
                value = np.asarray(value.layout.data)
            if isinstance(value, np.ndarray) and value.ndim == 1:
                operands[needed] = value
                continue
            jagged = as_jagged(value)
            if jagged is None:
                return None
            if (
                counts is not None
                and counts is not jagged.counts
                and not np.array_equal(counts, jagged.counts)
            ):
                return None
            counts = jagged.counts
            operands[needed] = jagged
        if counts is None:
            return None  # per-jet arrays only: evaluated as before
        flat: dict[str, Any] = {}
        for name, value in operands.items():
            if isinstance(value, Jagged):
                flat[name] = value.values
            elif len(value) == len(counts):
                flat[name] = np.repeat(value, counts)
            else:
                return None
        result = evaluate_expression(expr, flat, where=where)
        if not isinstance(result, np.ndarray) or result.shape != (int(counts.sum()),):
            return None
        return Jagged(counts, result)

    def __iter__(self) -> Iterator[str]:
        yield from self._base_names
        yield from (n for n in self._new if n not in self._base_names)

    def __len__(self) -> int:
        return len(self._base_names | set(self._new))


def evaluate_new_variables(
    new_variables: Mapping[str, str],
    variables: Any,
    names: list[str] | None = None,
    *,
    source: str = "<memory>",
) -> dict[str, Any]:
    """Compute ``new_variables`` (all, or those needed for ``names``) from ``variables``.

    Returns a dict with the requested names (default: every new variable) mapped to arrays;
    expressions go through the whitelisted evaluator, so a config can never run other code.
    """
    view = _VariableView(variables, new_variables, source)
    wanted = list(new_variables) if names is None else names
    out: dict[str, Any] = {}
    for name in wanted:
        if name not in view:
            raise ConfigError(f"{source}: variable '{name}' is not in the candidate arrays")
        value = view[name]
        out[name] = value.to_awkward() if isinstance(value, Jagged) else value
    return out


def sort_candidates(candidates: ak.Array, key: str, ascending: bool = False) -> ak.Array:
    """Sort each jet's candidates by field ``key`` (descending by default, stable)."""
    order = ak.argsort(candidates[key], axis=-1, ascending=ascending, stable=True)
    return candidates[order]


def _flat_column(array: Any, name: str, group: str) -> tuple[np.ndarray, np.ndarray]:
    """(counts per jet, flat float32 values) of a jagged (jets x var) or flat (jets) array."""
    if isinstance(array, np.ndarray) and array.ndim == 1:
        return np.ones(len(array), dtype=np.int64), array.astype(np.float32)
    array = ak.Array(array) if not isinstance(array, (ak.Array, Jagged)) else array
    direct = as_jagged(array)
    if direct is not None and direct.values.dtype.kind in "fiub":
        return direct.counts, direct.values.astype(np.float32)
    if array.layout.is_option:  # a missing jet has no candidates
        array = ak.fill_none(array, [], axis=0) if array.ndim == 2 else array
    if array.ndim == 1:
        values = array
        counts = np.ones(len(array), dtype=np.int64)
    elif array.ndim == 2:
        counts = ak.to_numpy(ak.num(array, axis=1)).astype(np.int64)
        values = ak.flatten(array, axis=1)
    else:
        raise ModelInputError(
            f"input group '{group}': variable '{name}' has {array.ndim} dimensions; "
            "expected jets x candidates"
        )
    if values.layout.is_option:  # a missing value counts as NaN (replaced per config)
        values = ak.fill_none(values, np.nan)
    try:
        flat = ak.to_numpy(values).astype(np.float32)
    except (TypeError, ValueError) as exc:
        raise ModelInputError(
            f"input group '{group}': variable '{name}' is not numeric ({values.type})"
        ) from exc
    return counts, flat


def preprocess_values(values: np.ndarray, info: Any) -> np.ndarray:
    """Apply one variable's preprocessing to flat float32 values (returns a new array)."""
    x = np.array(values, dtype=np.float32, copy=True)
    bad = ~np.isfinite(x)
    bad |= np.abs(x) >= _INF_THRESHOLD
    x[bad] = np.float32(info.replace_inf_value)
    x -= np.float32(info.center)
    x *= np.float32(info.scale)
    np.clip(x, np.float32(info.lower_bound), np.float32(info.upper_bound), out=x)
    return x


def build_group(
    variables: Any,
    grp: InputGroupConfig,
    length: int | None = None,
    *,
    new_variables: Mapping[str, str] | None = None,
    source: str = "<memory>",
) -> tuple[np.ndarray, np.ndarray]:
    """Build one input group: float32 ``(n_jets, n_vars, L)`` values and ``(n_jets, 1, L)`` mask.

    ``variables`` maps each of ``grp.var_names`` to a jagged (jets x candidates) array whose
    candidates are already in the model's order. ``L`` is ``grp.max_length`` unless ``length``
    is given (then clamped to ``[min_length, max_length]``). The mask is 1 on the slots that
    hold one of the jet's own candidates (the first ``min(n, L)``), 0 on padding.
    """
    view = (
        variables
        if isinstance(variables, _VariableView)
        else _VariableView(variables, new_variables or {}, source)
    )
    target = grp.resolve_length(length)
    counts: np.ndarray | None = None
    columns: list[np.ndarray] = []
    first = grp.var_names[0]
    for name in grp.var_names:
        if name not in view:
            raise ConfigError(
                f"{source}: input '{grp.name}' needs variable '{name}', which the events lack "
                "(not among the candidate arrays and not defined in new_variables)"
            )
        var_counts, flat = _flat_column(view[name], name, grp.name)
        if counts is None:
            counts = var_counts
        elif var_counts is not counts and not np.array_equal(var_counts, counts):
            raise ModelInputError(
                f"input group '{grp.name}': variable '{name}' has a different number of jets "
                f"or candidates per jet than '{first}'"
            )
        columns.append(flat)
    assert counts is not None
    content = np.empty((len(columns), int(counts.sum())), dtype=np.float32)
    for row, flat in enumerate(columns):
        content[row] = flat
    infos = [grp.vars[v] for v in grp.var_names]
    params = np.array(
        [
            [getattr(info, field) for info in infos]
            for field in (
                "replace_inf_value",
                "center",
                "scale",
                "lower_bound",
                "upper_bound",
                "pad_value",
            )
        ],
        dtype=np.float32,
    )
    return standardise_pad(
        content, counts, params, target, wrap=grp.pad_mode == "wrap", threshold=_INF_THRESHOLD
    )


def group_lengths(
    cfg: DataConfig, variables: Any, *, new_variables: Mapping[str, str] | None = None
) -> dict[str, int]:
    """Smallest length per group that holds every jet's candidates, clamped to the config range.

    This is what CMSSW does per jet for variable-length models (ParticleNet: 16 … 100).
    """
    view = _VariableView(variables, cfg.new_variables if new_variables is None else new_variables)
    out: dict[str, int] = {}
    for name in cfg.input_names:
        grp = cfg.inputs[name]
        counts, _ = _flat_column(view[grp.var_names[0]], grp.var_names[0], name)
        longest = int(counts.max()) if len(counts) else 0
        out[name] = grp.resolve_length(longest)
    return out


def build_inputs(
    cfg: DataConfig,
    variables: Any,
    length: int | Mapping[str, int] | None = None,
) -> dict[str, np.ndarray]:
    """Build every model input of ``cfg``: ``{input_name: float32 (n_jets, n_vars, L)}``.

    ``variables`` is a mapping (or awkward record array) of jagged per-candidate arrays;
    variables the config defines in ``new_variables`` are computed from it on demand.
    ``length`` is None (each group's ``max_length``), one length for every group (clamped per
    group) or a mapping group name → length (e.g. from :func:`group_lengths`).
    """
    view = _VariableView(variables, cfg.new_variables, cfg.source)
    out: dict[str, np.ndarray] = {}
    for name in cfg.input_names:
        grp_length = length.get(name) if isinstance(length, Mapping) else length
        values, _ = build_group(view, cfg.inputs[name], grp_length, source=cfg.source)
        out[name] = values
    return out
