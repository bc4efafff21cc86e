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
