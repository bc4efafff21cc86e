"""Per-jet (segment) operations on flat candidate tables, whole chunk at once.

Each function works on flat numpy values plus the number of values per jet (``counts``) and
returns exactly what the awkward operation on the jagged array returns (``ak.sum``,
``ak.max``, ``ak.argmax``, stable descending ``ak.argsort``), or what the dense numpy code it
replaces returned, bit for bit.

Numpy only, no numba: a numba kernel is faster per call, but the first numba call in a process
initialises numba's compiler and extensions (measured 1.2-1.9 s on the 2-core development
machine, even with cached kernels), which every worker process of a run would pay -- more than
the whole feature building of the demo's chunks.
"""

from __future__ import annotations

import awkward as ak
import numpy as np

from jetml.features.jagged import Jagged


def _offsets(counts: np.ndarray) -> np.ndarray:
    starts = np.zeros(len(counts), dtype=np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    return starts


def _check(values: np.ndarray, counts: np.ndarray, what: str) -> np.ndarray:
    counts = np.asarray(counts, dtype=np.int64)
    if int(counts.sum()) != len(values):
        raise ValueError(f"{what}: counts add up to {int(counts.sum())}, not {len(values)}")
    return counts


def segment_sums(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Sum of each run of ``counts[i]`` consecutive ``values``: ``ak.sum(jagged, axis=1)``,
    accumulated value after value in the values' dtype. numpy's ``add.reduceat`` sums
    pairwise and rounds differently, so it is used only for whole numbers whose sums stay
    exact (e.g. counts of flags); other values are added step by step across segments."""
    counts = _check(values, counts, "segment_sums")
    if values.dtype.kind == "f":  # whole numbers whose every partial sum is exact
        limit = 2.0 ** (np.finfo(values.dtype).nmant + 1)
        whole = bool(np.all(values == np.trunc(values))) and float(np.abs(values).sum()) < limit
    else:
        whole = values.dtype.kind in "iub"
    if whole:
        out = np.zeros(len(counts), dtype=np.sum(values[:0]).dtype)
        filled = counts > 0
        if filled.any():
            out[filled] = np.add.reduceat(values, _offsets(counts)[filled])
        return out
    longest = int(counts.max(initial=0))
    if longest <= _MAX_STEPS:
        return _stepwise_sums(values, counts, longest)
    return ak.to_numpy(ak.sum(Jagged(counts, values).to_awkward(), axis=1))


_MAX_STEPS = 512
"""Longest segment :func:`segment_sums` adds up step by step (longer ones go to awkward)."""


def _stepwise_sums(values: np.ndarray, counts: np.ndarray, longest: int) -> np.ndarray:
    """Sequential sums of all segments at once: step ``k`` adds every segment's ``k``-th value
    to its running total (one vectorised add per step, in the values' dtype), which is the
    value-after-value order of ``ak.sum`` for each segment."""
    order = np.argsort(-counts, kind="stable")  # longest first: active segments are a prefix
    ranked_counts, ranked_starts = counts[order], _offsets(counts)[order]
    totals = np.zeros(len(counts), dtype=values.dtype)
    active = np.searchsorted(-ranked_counts, -np.arange(longest), side="left")
    for step in range(longest):
        n = active[step]
        totals[:n] += values[ranked_starts[:n] + step]
    out = np.empty_like(totals)
    out[order] = totals
    return out


def segment_max(values: np.ndarray, counts: np.ndarray, empty: float) -> np.ndarray:
    """``ak.max(jagged, axis=1)`` with ``empty`` for jets without values (NaN never wins;
    a jet of NaN only gets -inf, as in awkward)."""
    counts = _check(values, counts, "segment_max")
    filled = counts > 0
    if not (np.isnan(values).any() or (np.signbit(values) & (values == 0)).any()):
        # without NaN or -0.0 every maximum is one value, whatever order numpy compares in
        out = np.full(len(counts), empty, dtype=values.dtype)
        if filled.any():
            out[filled] = np.maximum.reduceat(values, _offsets(counts)[filled])
        return out
    maxima = ak.max(Jagged(counts, values).to_awkward(), axis=1)
    return ak.to_numpy(ak.fill_none(maxima, empty)).astype(values.dtype, copy=False)


def segment_argmax(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Flat position of each jet's ``ak.argmax`` (the first maximum), -1 for empty jets."""
    counts = _check(values, counts, "segment_argmax")
    starts = _offsets(counts)
    if not np.isnan(values).any():
        out = np.full(len(counts), -1, dtype=np.int64)
        filled = counts > 0
        if filled.any():
            maxima = np.maximum.reduceat(values, starts[filled])
            segment = np.repeat(np.arange(len(counts)), counts)
            at_max = values == np.repeat(_spread(maxima, filled), counts)
            hits = np.flatnonzero(at_max)
            first_segment, first_hit = np.unique(segment[hits], return_index=True)
            out[first_segment] = hits[first_hit]
        return out
    local = ak.argmax(Jagged(counts, values).to_awkward(), axis=1)
    local = ak.to_numpy(ak.fill_none(local, -1)).astype(np.int64)
    return np.where(local >= 0, starts + local, -1)


def _spread(values: np.ndarray, filled: np.ndarray) -> np.ndarray:
    """``values`` of the filled segments placed into an array over all segments."""
    out = np.zeros(len(filled), dtype=values.dtype)
    out[filled] = values
    return out


def descending_within(segment: np.ndarray, key: np.ndarray, *, nan_first: bool) -> np.ndarray:
    """Permutation ordering rows by ``segment`` (ascending), then ``key`` descending, ties in
    row order: ``np.lexsort((-key, segment))`` with NaN keys last, or with ``nan_first``
    ``np.lexsort((-key, ~np.isnan(key), segment))`` (the order of awkward's stable descending
    ``ak.argsort`` within lists). Two stable single-key sorts, the segment one on 16-bit
    integers (numpy's radix sort) when the segment numbers allow it: faster than lexsort."""
    segment = np.asarray(segment)
    key = np.asarray(key)
    if len(segment) == 0:
        return np.zeros(0, dtype=np.int64)
    same = segment[1:] == segment[:-1]
    if (
        not np.isnan(key).any()
        and bool(np.all(segment[1:] >= segment[:-1]))
        and bool(np.all(key[1:][same] <= key[:-1][same]))
    ):
        return np.arange(len(segment))  # already in order (e.g. jetml's own samples)
    order = np.argsort(-key, kind="stable")  # NaN last
    if nan_first:
        nan = np.isnan(key[order])
        if nan.any():
            order = order[np.argsort(~nan, kind="stable")]
    narrow = (
        np.int16
        if segment.min() >= 0 and segment.max() <= np.iinfo(np.int16).max
        else segment.dtype
    )
    return order[np.argsort(segment[order].astype(narrow, copy=False), kind="stable")]


def standardised_cells(
    owner: np.ndarray,
    cell: np.ndarray,
    values: np.ndarray,
    n_jets: int,
    n_cells: int,
    stats: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> np.ndarray:
    """Standardised per-cell sums, float32 ``(n_jets, channels, n_cells)``.

    ``owner`` and ``cell`` give each entry's jet and cell, ``values`` its ``(channels,
    entries)`` float64 features. A cell holding entries gets ``clip((float32(sum) - center) *
    scale, lower, upper)`` (float32; sums in float64 in entry order); an empty cell gets
    ``clip((0 - center) * scale, lower, upper) * 0`` -- exactly what summing into dense grids
    with ``np.bincount`` and standardising them with numpy gives, at the cost of the occupied
    cells instead of every cell of every grid.
    """
    center, scale, lower, upper = (np.asarray(s, dtype=np.float32)[:, np.newaxis] for s in stats)
    empty = np.clip((np.float32(0) - center) * scale, lower, upper) * np.float32(0)
    out = np.empty((n_jets, len(center), n_cells), dtype=np.float32)
    out[...] = empty[np.newaxis, :, :]
    if len(owner) == 0:
        return out
    flat = np.asarray(owner, dtype=np.int64) * n_cells + np.asarray(cell, dtype=np.int64)
    occupied, slot = np.unique(flat, return_inverse=True)
    sums = np.stack([np.bincount(slot, weights=v, minlength=len(occupied)) for v in values])
    standard = np.clip((sums.astype(np.float32) - center) * scale, lower, upper)
    jets, cells = np.divmod(occupied, n_cells)
    out[jets, :, cells] = standard.T
    return out


def standardise_pad(
    content: np.ndarray,
    counts: np.ndarray,
    params: np.ndarray,
    target: int,
    *,
    wrap: bool,
    threshold: np.float32,
) -> tuple[np.ndarray, np.ndarray]:
    """Float32 ``(n_jets, n_vars, target)`` inputs and ``(n_jets, 1, target)`` mask.

    ``content`` is ``(n_vars, n_candidates)`` float32, the jets' candidates back to back
    (``counts`` per jet), standardised here in place; ``params`` is float32 ``(6, n_vars)``:
    replacement of non-finite and ``|x| >= threshold`` values, center, scale, lower and upper
    clip bound, pad value. Each value becomes ``clip((x' - center) * scale, lower, upper)`` in
    float32 (all variables at once, the numpy sequence of
    :func:`jetml.features.builder.preprocess_values`); then one gather per variable places
    the candidates into their slots, the pad value being an extra last candidate. Slots past a
    jet's candidates repeat them (``wrap``; a jet without any gets the pad value) or hold the
    pad value.
    """
    counts = np.asarray(counts, dtype=np.int64)
    n_vars, n_cands = content.shape
    replace, center, scale, lower, upper = (p[:, np.newaxis] for p in params[:5])
    extended = np.empty((n_vars, n_cands + 1), dtype=np.float32)
    body = extended[:, :n_cands]
    body[...] = content
    good = np.abs(body) < threshold  # False for NaN, ±inf and |x| >= threshold
    if not good.all():
        np.copyto(body, np.broadcast_to(replace, body.shape), where=~good)
    body -= center
    body *= scale
    np.clip(body, lower, upper, out=body)
    extended[:, n_cands] = params[5]
    slot = np.arange(target, dtype=np.int64)
    mask = slot[np.newaxis, :] < counts[:, np.newaxis]
    if wrap:
        filled = np.broadcast_to(counts[:, np.newaxis] > 0, mask.shape)
        source = slot[np.newaxis, :] % np.maximum(counts, 1)[:, np.newaxis]
    else:
        filled, source = mask, slot[np.newaxis, :]
    index = np.where(filled, _offsets(counts)[:, np.newaxis] + source, n_cands)
    out = np.empty((len(counts), n_vars, target), dtype=np.float32)
    for var in range(n_vars):
        out[:, var, :] = extended[var][index]
    return out, mask.astype(np.float32)[:, np.newaxis, :]
