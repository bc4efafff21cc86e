"""numba kernels for the few feature steps numpy cannot do in one vectorised call.

Compiled on first use and cached on disk (``cache=True``), so a worker pays the compilation
once per installation, not per chunk.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def _segment_sums(values: np.ndarray, counts: np.ndarray, out: np.ndarray) -> None:
    position = 0
    for segment in range(len(counts)):
        total = out.dtype.type(0)
        for _ in range(counts[segment]):
            total += values[position]
            position += 1
        out[segment] = total


def segment_sums(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Sum of each run of ``counts[i]`` consecutive ``values``, accumulated one value after the
    other in the values' dtype -- bit for bit what ``ak.sum(jagged, axis=1)`` returns (numpy's
    ``add.reduceat`` sums pairwise and rounds differently)."""
    counts = np.asarray(counts, dtype=np.int64)
    if int(counts.sum()) != len(values):
        raise ValueError(f"segment_sums: counts add up to {int(counts.sum())}, not {len(values)}")
    out = np.empty(len(counts), dtype=values.dtype)
    _segment_sums(np.ascontiguousarray(values), counts, out)
    return out


@numba.njit(cache=True, nogil=True)
def _standardised_cells(
    owner: np.ndarray,
    cell: np.ndarray,
    values: np.ndarray,
    center: np.ndarray,
    scale: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    out: np.ndarray,
) -> None:
    n_channels, n_cells = out.shape[1], out.shape[2]
    sums = np.zeros((n_channels, n_cells), dtype=np.float64)
    hits = np.zeros(n_cells, dtype=np.int64)
    touched = np.empty(n_cells, dtype=np.int64)
    start = 0
    n = len(owner)
    while start < n:
        jet = owner[start]
        stop = start
        n_touched = 0
        while stop < n and owner[stop] == jet:
            c = cell[stop]
            if hits[c] == 0:
                touched[n_touched] = c
                n_touched += 1
            hits[c] += 1
            for k in range(n_channels):
                sums[k, c] += values[k, stop]
            stop += 1
        for t in range(n_touched):
            c = touched[t]
            for k in range(n_channels):
                x = (np.float32(sums[k, c]) - center[k]) * scale[k]
                if x < lower[k]:
                    x = lower[k]
                elif x > upper[k]:
                    x = upper[k]
                out[jet, k, c] = x
                sums[k, c] = 0.0
            hits[c] = 0
        start = stop


def standardised_cells(
    owner: np.ndarray,
    cell: np.ndarray,
    values: np.ndarray,
    n_jets: int,
    n_cells: int,
    stats: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> np.ndarray:
    """Standardised per-cell sums, float32 ``(n_jets, channels, n_cells)``, in one pass.

    ``owner`` (non-decreasing) and ``cell`` give each entry's jet and cell, ``values`` its
    ``(channels, entries)`` float64 features. A cell holding entries gets
    ``clip((float32(sum) - center) * scale, lower, upper)`` (float32; sums in float64 in entry
    order); an empty cell gets ``clip((0 - center) * scale, lower, upper) * 0`` -- exactly what
    summing into dense grids with ``np.bincount`` and standardising them with numpy gives, at
    the cost of the entries instead of every cell of every grid.
    """
    center, scale, lower, upper = (np.asarray(s, dtype=np.float32) for s in stats)
    empty = np.clip((np.float32(0) - center) * scale, lower, upper) * np.float32(0)
    out = np.empty((n_jets, len(center), n_cells), dtype=np.float32)
    out[...] = empty[np.newaxis, :, np.newaxis]
    if len(owner):
        _standardised_cells(
            np.ascontiguousarray(owner, dtype=np.int64),
            np.ascontiguousarray(cell, dtype=np.int64),
            np.ascontiguousarray(values, dtype=np.float64),
            center,
            scale,
            lower,
            upper,
            out,
        )
    return out


@numba.njit(cache=True, nogil=True)
def _descending_within(segment: np.ndarray, key: np.ndarray, out: np.ndarray) -> None:
    start = 0
    n = len(segment)
    while start < n:
        stop = start + 1
        while stop < n and segment[stop] == segment[start]:
            stop += 1
        if stop - start == 1:
            out[start] = start
        else:
            local = np.argsort(-key[start:stop], kind="mergesort")
            for i in range(stop - start):
                out[start + i] = start + local[i]
        start = stop


def descending_within(segment: np.ndarray, key: np.ndarray, *, nan_first: bool) -> np.ndarray:
    """Permutation ordering rows by ``segment`` (ascending), then ``key`` descending, ties in
    row order: ``np.lexsort((-key, segment))`` with NaN keys last, or with ``nan_first``
    ``np.lexsort((-key, ~np.isnan(key), segment))`` (the order of awkward's stable descending
    ``ak.argsort`` within lists). Rows already grouped by segment and free of NaN (the usual
    case) are sorted segment by segment in numba, far faster than a global two-key sort;
    anything else takes the lexsort."""
    segment = np.asarray(segment)
    key = np.asarray(key)
    if len(segment) == 0:
        return np.zeros(0, dtype=np.int64)
    if np.isnan(key).any() or bool(np.any(segment[1:] < segment[:-1])):
        if nan_first:
            return np.lexsort((-key, ~np.isnan(key), segment))
        return np.lexsort((-key, segment))
    out = np.empty(len(segment), dtype=np.int64)
    _descending_within(np.ascontiguousarray(segment), np.ascontiguousarray(key), out)
    return out


@numba.njit(cache=True, nogil=True)
def _pad(
    content: np.ndarray,
    starts: np.ndarray,
    counts: np.ndarray,
    pad: np.ndarray,
    wrap: bool,
    out: np.ndarray,
    mask: np.ndarray,
) -> None:
    n_vars, target = out.shape[1], out.shape[2]
    for jet in range(len(counts)):
        n = counts[jet]
        start = starts[jet]
        filled = target if (wrap and n > 0) else min(n, target)
        for slot in range(target):
            mask[jet, 0, slot] = 1.0 if slot < n else 0.0
        for var in range(n_vars):
            row = content[var]
            if wrap and n > 0:
                for slot in range(filled):
                    out[jet, var, slot] = row[start + slot % n]
            else:
                for slot in range(filled):
                    out[jet, var, slot] = row[start + slot]
            for slot in range(filled, target):
                out[jet, var, slot] = pad[var]


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
    float32 (numpy, all variables at once: the sequence of
    :func:`jetml.features.builder.preprocess_values`); one numba pass then places the
    candidates into their slots. Slots past a jet's candidates repeat them (``wrap``; a jet
    without any gets the pad value) or hold the pad value.
    """
    counts = np.ascontiguousarray(counts, dtype=np.int64)
    starts = np.zeros(len(counts), dtype=np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    replace, center, scale, lower, upper = (p[:, np.newaxis] for p in params[:5])
    bad = ~np.isfinite(content)
    bad |= np.abs(content) >= threshold
    np.copyto(content, np.broadcast_to(replace, content.shape), where=bad)
    content -= center
    content *= scale
    np.clip(content, lower, upper, out=content)
    out = np.empty((len(counts), content.shape[0], target), dtype=np.float32)
    mask = np.empty((len(counts), 1, target), dtype=np.float32)
    _pad(content, starts, counts, np.ascontiguousarray(params[5]), wrap, out, mask)
    return out, mask
