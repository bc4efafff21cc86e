"""Soft drop grooming with Cambridge/Aachen declustering, compiled with numba for whole batches.

fastjet's awkward soft-drop interface costs 1.5-2 ms per AK8 jet (measured), more than Pythia
spends per event. This module clusters each jet's constituents with C/A (nearest-neighbour
bookkeeping, O(N^2) per jet), then walks the primary declustering: the first splitting with
z = min(pT1, pT2) / (pT1 + pT2) > z_cut (Delta R / R0)^beta stops the grooming, and its two
branches are the soft-drop subjets. The result equals fastjet's ``SoftDrop`` (checked in the
tests against ``fastjet.ClusterSequence.exclusive_jets_softdrop_grooming``).
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def _rapidity(px: float, py: float, pz: float, e: float) -> float:
    if px * px + py * py == 0.0 or e <= abs(pz):
        # Along the beam: a rapidity far beyond any jet, with the sign of pz.
        return 1e5 if pz > 0 else -1e5
    return 0.5 * np.log((e + pz) / (e - pz))


@numba.njit(cache=True)
def _distance2(y1: float, phi1: float, y2: float, phi2: float) -> float:
    dphi = abs(phi1 - phi2)
    if dphi > np.pi:
        dphi = 2.0 * np.pi - dphi
    return (y1 - y2) ** 2 + dphi * dphi


@numba.njit(cache=True)
def soft_drop_batch(
    px: np.ndarray,
    py: np.ndarray,
    pz: np.ndarray,
    energy: np.ndarray,
    offsets: np.ndarray,
    z_cut: float,
    beta: float,
    r0: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Groomed four-momenta (n_jets, 4), subjet four-momenta (n_jets, 2, 4) and subjet counts.

    Jets are the constituent blocks ``offsets[j]:offsets[j+1]`` of the flat (px, py, pz, E).
    Subjets are ordered by decreasing pT; a groomed jet that is a single particle has one subjet.
    """
    n_jets = len(offsets) - 1
    groomed = np.zeros((n_jets, 4))
    subjets = np.zeros((n_jets, 2, 4))
    n_subjets = np.zeros(n_jets, dtype=np.int64)
    for jet in range(n_jets):
        start = offsets[jet]
        n = offsets[jet + 1] - start
        if n == 0:
            continue
        size = 2 * n - 1
        node = np.zeros((size, 4))
        y = np.zeros(size)
        phi = np.zeros(size)
        parent1 = np.full(size, -1)
        parent2 = np.full(size, -1)
        active = np.empty(n, dtype=np.int64)
        for i in range(n):
            node[i, 0] = px[start + i]
            node[i, 1] = py[start + i]
            node[i, 2] = pz[start + i]
            node[i, 3] = energy[start + i]
            y[i] = _rapidity(node[i, 0], node[i, 1], node[i, 2], node[i, 3])
            phi[i] = np.arctan2(node[i, 1], node[i, 0])
            active[i] = i
        # Nearest-neighbour bookkeeping over active positions.
        nn = np.full(n, -1)
        nn_dist = np.full(n, np.inf)
        for a in range(n):
            for b in range(n):
                if a != b:
                    d = _distance2(y[active[a]], phi[active[a]], y[active[b]], phi[active[b]])
                    if d < nn_dist[a]:
                        nn_dist[a] = d
                        nn[a] = b
        m = n
        next_node = n
        while m > 1:
            best = 0
            for a in range(1, m):
                if nn_dist[a] < nn_dist[best]:
                    best = a
            other = nn[best]
            i, k = active[best], active[other]
            new = next_node
            next_node += 1
            for c in range(4):
                node[new, c] = node[i, c] + node[k, c]
            y[new] = _rapidity(node[new, 0], node[new, 1], node[new, 2], node[new, 3])
            phi[new] = np.arctan2(node[new, 1], node[new, 0])
            parent1[new] = i
            parent2[new] = k
            # The merged node takes position ``best``; the last active position fills ``other``.
            low, high = min(best, other), max(best, other)
            active[low] = new
            last = m - 1
            active[high] = active[last]
            nn_dist[high] = nn_dist[last]
            nn[high] = nn[last]
            for a in range(m - 1):
                if nn[a] == last:
                    nn[a] = high
            m -= 1
            # Recompute neighbours of the new node and of nodes that pointed to the merged ones.
            for a in range(m):
                if a == low or nn[a] == low or nn[a] == high or nn[a] < 0:
                    nn_dist[a] = np.inf
                    nn[a] = -1
                    for b in range(m):
                        if a != b:
                            d = _distance2(
                                y[active[a]], phi[active[a]], y[active[b]], phi[active[b]]
                            )
                            if d < nn_dist[a]:
                                nn_dist[a] = d
                                nn[a] = b
                else:
                    d = _distance2(y[active[a]], phi[active[a]], y[active[low]], phi[active[low]])
                    if d < nn_dist[a]:
                        nn_dist[a] = d
                        nn[a] = low
        current = active[0]
        while True:
            p1, p2 = parent1[current], parent2[current]
            if p1 < 0:
                groomed[jet] = node[current]
                subjets[jet, 0] = node[current]
                n_subjets[jet] = 1
                break
            pt1 = np.hypot(node[p1, 0], node[p1, 1])
            pt2 = np.hypot(node[p2, 0], node[p2, 1])
            z = min(pt1, pt2) / (pt1 + pt2)
            delta_r = np.sqrt(_distance2(y[p1], phi[p1], y[p2], phi[p2]))
            if z > z_cut * (delta_r / r0) ** beta:
                groomed[jet] = node[current]
                harder, softer = (p1, p2) if pt1 >= pt2 else (p2, p1)
                subjets[jet, 0] = node[harder]
                subjets[jet, 1] = node[softer]
                n_subjets[jet] = 2
                break
            current = p1 if pt1 >= pt2 else p2
    return groomed, subjets, n_subjets
