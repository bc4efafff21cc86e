"""Input standardisation computed on the training data, like weaver's ``auto`` mode.

For each variable: ``center`` = median, ``scale = 1 / max(p84 - p50, p50 - p16)`` over the
candidates actually present (padding never counts), clipped to ``[-5, 5]`` after scaling, padding
value 0 -- weaver-core's defaults. Flags and counts listed as ``fixed`` are passed unchanged.

The result is a :class:`jetml.features.DataConfig`; training builds its arrays with
:func:`jetml.features.build_inputs` from that config, the very code the deployment runs, and the
config is saved as the model's ``preprocess.json``. Training and deployment therefore preprocess
identically by construction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import awkward as ak
import numpy as np

from jetml.errors import ConfigError
from jetml.features import DataConfig, InputGroupConfig, VarInfo
from jetml.features.config import NO_BOUND

AUTO_LOWER_BOUND = -5.0
AUTO_UPPER_BOUND = 5.0
_HUGE = 1e32


@dataclass(frozen=True)
class GroupSpec:
    """One model input to standardise: its variables in order and its padded length."""

    name: str
    var_names: tuple[str, ...]
    length: int
    fixed: tuple[str, ...] = ()
    """Variables passed through unchanged (flags, charges)."""
    min_length: int | None = None
    """Shortest length a deployment may pad to (defaults to ``length``: fixed length)."""


def flat_values(array: Any) -> np.ndarray:
    """All finite numbers of a flat or jagged array as float64 (NaN, ±inf and |x| >= 1e32 out)."""
    layout = ak.to_layout(array) if not isinstance(array, np.ndarray) else None
    values = (
        np.asarray(array, dtype=np.float64).ravel()
        if layout is None
        else ak.to_numpy(ak.ravel(array)).astype(np.float64)
    )
    return values[np.isfinite(values) & (np.abs(values) < _HUGE)]


def auto_var_info(
    values: np.ndarray,
    lower_bound: float = AUTO_LOWER_BOUND,
    upper_bound: float = AUTO_UPPER_BOUND,
    pad_value: float = 0.0,
) -> VarInfo:
    """weaver ``auto``: center = median, scale = 1/max(p84 - p50, p50 - p16) (1 if that is 0)."""
    if len(values) == 0:
        return VarInfo(0.0, 1.0, lower_bound, upper_bound, pad_value, 0.0)
    p16, p50, p84 = np.percentile(values, [16, 50, 84])
    spread = max(p84 - p50, p50 - p16)
    scale = 1.0 / spread if spread > 0 else 1.0
    return VarInfo(float(p50), float(scale), lower_bound, upper_bound, pad_value, 0.0)


def fit_data_config(
    specs: Sequence[GroupSpec],
    variables: Mapping[str, Any],
    output_names: Sequence[str],
    new_variables: Mapping[str, str] | None = None,
) -> DataConfig:
    """Standardisation of every group's variables from the training ``variables`` (name ->
    flat or jagged per-candidate array). ``new_variables`` are recorded in the config (the caller
    has already evaluated them into ``variables``)."""
    groups: dict[str, InputGroupConfig] = {}
    for spec in specs:
        missing = [v for v in spec.var_names if v not in variables]
        if missing:
            raise ConfigError(f"input '{spec.name}': training data lack variable(s) {missing}")
        infos = {
            var: (
                VarInfo(0.0, 1.0, -NO_BOUND, NO_BOUND, 0.0, 0.0)
                if var in spec.fixed
                else auto_var_info(flat_values(variables[var]))
            )
            for var in spec.var_names
        }
        groups[spec.name] = InputGroupConfig(
            spec.name,
            list(spec.var_names),
            spec.min_length or spec.length,
            spec.length,
            "constant",
            infos,
        )
    return DataConfig(
        input_names=[s.name for s in specs],
        inputs=groups,
        output_names=list(output_names),
        new_variables=dict(new_variables or {}),
    )


def group_specs_of(
    groups: dict[str, tuple[tuple[str, ...], int]], fixed: tuple[str, ...]
) -> list[GroupSpec]:
    """Specs of ``groups`` (name -> (variables, length)), in order; ``fixed`` are not scaled."""
    return [
        GroupSpec(name, names, length, fixed=tuple(v for v in names if v in fixed))
        for name, (names, length) in groups.items()
    ]
