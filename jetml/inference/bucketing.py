"""Ragged inputs done right: length-bucketed batches for variable-length models (ParticleNet).

CMSSW evaluates ParticleNet one jet per call, each input group padded to
``clamp(n_candidates, min_length, max_length)``, so a jet with 20 candidates costs a 20-slot
evaluation, not 100. Batching every jet at ``max_length`` would waste most of the time
(ParticleNet costs roughly linear in the length). jetml sorts the jets by their padded length
and cuts the sorted list into buckets of at most ``batch_size`` jets whose longest member is at
most ``growth`` times the shortest; each bucket is padded only to its own longest member.

Masked models give the same outputs whatever the padding beyond a jet's own length, so bucketed
outputs equal per-jet ones up to float rounding (measured in the tests).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import awkward as ak
import numpy as np

from jetml.errors import ConfigError
from jetml.features import DataConfig, preprocess_values
from jetml.features.jagged import as_jagged
from jetml.inference.model import DEFAULT_BATCH_SIZE, OnnxModel

DEFAULT_GROWTH = 1.25
"""A bucket's longest member is at most this factor times its shortest (primary group)."""


@dataclass(frozen=True)
class Bucket:
    """Jets evaluated in one call and the padded length of each input group for that call."""

    jets: np.ndarray
    lengths: dict[str, int]


def _jagged_column(array: Any) -> tuple[np.ndarray, np.ndarray]:
    """(candidates per jet, flat values) of a jagged column, straight from its buffers when
    it has a plain layout (:func:`jetml.features.jagged.as_jagged`)."""
    direct = as_jagged(array)
    if direct is not None:
        return direct.counts, direct.values
    counts = np.asarray(ak.to_numpy(ak.num(array, axis=1)), dtype=np.int64)
    return counts, np.asarray(ak.to_numpy(ak.flatten(array, axis=1)))


def jet_lengths(cfg: DataConfig, variables: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Per jet and input group: ``clamp(n_candidates, min_length, max_length)`` (CMSSW's)."""
    out: dict[str, np.ndarray] = {}
    for name in cfg.input_names:
        grp = cfg.inputs[name]
        first = grp.var_names[0]
        if first not in variables:
            raise ConfigError(f"{cfg.source}: input '{name}' needs variable '{first}'")
        counts, _ = _jagged_column(variables[first])
        out[name] = np.clip(counts, grp.min_length, grp.max_length)
    return out


def length_buckets(
    lengths: Mapping[str, np.ndarray],
    batch_size: int = DEFAULT_BATCH_SIZE,
    growth: float = DEFAULT_GROWTH,
) -> list[Bucket]:
    """Group jets into buckets; the group with the longest lengths drives the sorting.

    Jets are sorted by that group's length (stable), then cut greedily: a bucket closes at
    ``batch_size`` jets or when the next jet's length exceeds ``growth`` x the bucket's first.
    """
    if batch_size < 1 or growth < 1:
        raise ConfigError(
            f"bucketing needs batch_size >= 1 and growth >= 1, got {batch_size}, {growth}"
        )
    if not lengths:
        return []
    primary_name = max(lengths, key=lambda name: int(lengths[name].max(initial=0)))
    primary = lengths[primary_name]
    order = np.argsort(primary, kind="stable")
    buckets: list[Bucket] = []
    start = 0
    n = len(order)
    while start < n:
        limit = primary[order[start]] * growth
        stop = min(start + batch_size, n)
        # first position in [start, stop) whose length exceeds the growth limit
        over = np.flatnonzero(primary[order[start:stop]] > limit)
        if len(over):
            stop = start + int(over[0])
        jets = order[start:stop]
        buckets.append(Bucket(jets, {k: int(v[jets].max()) for k, v in lengths.items()}))
        start = stop
    return buckets


@dataclass(frozen=True)
class PreparedGroup:
    """One input group, preprocessed once for all jets: flat values plus per-jet offsets."""

    starts: np.ndarray
    counts: np.ndarray
    values: np.ndarray
    """``(n_candidates, n_vars)`` float32, preprocessing applied."""
    pads: np.ndarray
    wrap: bool

    def padded(self, jets: np.ndarray, length: int) -> np.ndarray:
        """``(len(jets), n_vars, length)`` float32 for the given jets (CMSSW/weaver padding)."""
        counts = self.counts[jets]
        slot = np.arange(length)
        if self.wrap:
            filled = np.broadcast_to(counts[:, np.newaxis] > 0, (len(jets), length))
            source = slot[np.newaxis, :] % np.maximum(counts, 1)[:, np.newaxis]
        else:
            filled = slot[np.newaxis, :] < counts[:, np.newaxis]
            source = np.broadcast_to(slot, (len(jets), length))
        index = np.where(filled, self.starts[jets][:, np.newaxis] + source, 0)
        if len(self.values):
            gathered = self.values[index]  # (jets, length, n_vars)
        else:
            gathered = np.zeros((len(jets), length, len(self.pads)), dtype=np.float32)
        out = np.where(filled[:, :, np.newaxis], gathered, self.pads[np.newaxis, np.newaxis, :])
        return np.ascontiguousarray(out.transpose(0, 2, 1), dtype=np.float32)


def prepare_groups(cfg: DataConfig, variables: Mapping[str, Any]) -> dict[str, PreparedGroup]:
    """Flatten and preprocess every input group once (each variable flattened once)."""
    flat: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def column(name: str) -> tuple[np.ndarray, np.ndarray]:
        if name not in flat:
            if name not in variables:
                raise ConfigError(f"{cfg.source}: inputs need variable '{name}'")
            counts, values = _jagged_column(variables[name])
            flat[name] = (counts, values.astype(np.float32, copy=False))
        return flat[name]

    groups: dict[str, PreparedGroup] = {}
    for name in cfg.input_names:
        grp = cfg.inputs[name]
        counts, _ = column(grp.var_names[0])
        columns = []
        for var in grp.var_names:
            var_counts, values = column(var)
            if not np.array_equal(var_counts, counts):
                raise ConfigError(
                    f"{cfg.source}: input '{name}': '{var}' and '{grp.var_names[0]}' differ in "
                    "candidates per jet"
                )
            columns.append(preprocess_values(values, grp.vars[var]))
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        groups[name] = PreparedGroup(
            starts=starts,
            counts=counts,
            values=np.stack(columns, axis=1) if columns else np.zeros((0, 0), np.float32),
            pads=np.array([grp.vars[v].pad_value for v in grp.var_names], dtype=np.float32),
            wrap=grp.pad_mode == "wrap",
        )
    return groups


def bucket_inputs(groups: Mapping[str, PreparedGroup], bucket: Bucket) -> dict[str, np.ndarray]:
    """Model inputs of the jets of ``bucket``, each group padded to the bucket's length."""
    return {name: g.padded(bucket.jets, bucket.lengths[name]) for name, g in groups.items()}


def _empty_bucket(cfg: DataConfig) -> Bucket:
    return Bucket(np.arange(0), {name: cfg.inputs[name].min_length for name in cfg.input_names})


def run_bucketed(
    model: OnnxModel,
    cfg: DataConfig,
    variables: Mapping[str, Any],
    *,
    batch_size: int | None = None,
    growth: float = DEFAULT_GROWTH,
) -> dict[str, np.ndarray]:
    """Evaluate every jet of ``variables`` in length buckets; outputs in the jets' order."""
    lengths = jet_lengths(cfg, variables)
    groups = prepare_groups(cfg, variables)
    buckets = length_buckets(lengths, batch_size or model.batch_size, growth)
    if not buckets:
        return model.run(bucket_inputs(groups, _empty_bucket(cfg)))
    n_jets = sum(len(bucket.jets) for bucket in buckets)
    outputs: dict[str, np.ndarray] = {}
    for bucket in buckets:
        result = model.run(bucket_inputs(groups, bucket))
        for name, values in result.items():
            if name not in outputs:
                outputs[name] = np.empty((n_jets, *values.shape[1:]), dtype=values.dtype)
            outputs[name][bucket.jets] = values
    return outputs


def run_per_jet(
    model: OnnxModel, cfg: DataConfig, variables: Mapping[str, Any]
) -> dict[str, np.ndarray]:
    """CMSSW's way, as the reference: one call per jet, each padded to its own length."""
    lengths = jet_lengths(cfg, variables)
    groups = prepare_groups(cfg, variables)
    n_jets = len(next(iter(lengths.values()))) if lengths else 0
    if n_jets == 0:
        return model.run(bucket_inputs(groups, _empty_bucket(cfg)))
    pieces = [
        model.run(
            bucket_inputs(
                groups, Bucket(np.array([jet]), {name: int(v[jet]) for name, v in lengths.items()})
            )
        )
        for jet in range(n_jets)
    ]
    return {name: np.concatenate([p[name] for p in pieces]) for name in pieces[0]}
