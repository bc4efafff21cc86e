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
from jetml.features import DataConfig, build_group
from jetml.inference.model import DEFAULT_BATCH_SIZE, OnnxModel

DEFAULT_GROWTH = 1.25
"""A bucket's longest member is at most this factor times its shortest (primary group)."""


@dataclass(frozen=True)
class Bucket:
    """Jets evaluated in one call and the padded length of each input group for that call."""

    jets: np.ndarray
    lengths: dict[str, int]


def jet_lengths(cfg: DataConfig, variables: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Per jet and input group: ``clamp(n_candidates, min_length, max_length)`` (CMSSW's)."""
    out: dict[str, np.ndarray] = {}
    for name in cfg.input_names:
        grp = cfg.inputs[name]
        first = grp.var_names[0]
        if first not in variables:
            raise ConfigError(f"{cfg.source}: input '{name}' needs variable '{first}'")
        counts = np.asarray(ak.to_numpy(ak.num(variables[first], axis=1)), dtype=np.int64)
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


def _subset(variables: Mapping[str, Any], names: list[str], jets: np.ndarray) -> dict[str, Any]:
    return {name: variables[name][jets] for name in names}


def build_bucket_inputs(
    cfg: DataConfig, variables: Mapping[str, Any], bucket: Bucket
) -> dict[str, np.ndarray]:
    """Model inputs of the jets of ``bucket``, each group padded to the bucket's length."""
    subset = _subset(variables, cfg.var_names, bucket.jets)
    return {
        name: build_group(subset, cfg.inputs[name], bucket.lengths[name], source=cfg.source)[0]
        for name in cfg.input_names
    }


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
    buckets = length_buckets(lengths, batch_size or model.batch_size, growth)
    if not buckets:
        return model.run(build_bucket_inputs(cfg, variables, _empty_bucket(cfg)))
    n_jets = sum(len(bucket.jets) for bucket in buckets)
    outputs: dict[str, np.ndarray] = {}
    for bucket in buckets:
        result = model.run(build_bucket_inputs(cfg, variables, bucket))
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
    n_jets = len(next(iter(lengths.values()))) if lengths else 0
    if n_jets == 0:
        return model.run(build_bucket_inputs(cfg, variables, _empty_bucket(cfg)))
    pieces = [
        model.run(
            build_bucket_inputs(
                cfg,
                variables,
                Bucket(np.array([jet]), {name: int(v[jet]) for name, v in lengths.items()}),
            )
        )
        for jet in range(n_jets)
    ]
    return {name: np.concatenate([p[name] for p in pieces]) for name in pieces[0]}
