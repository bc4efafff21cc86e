"""Cross-section normalisation of generated samples and Poisson pseudo-data.

A generated file's ``Runs`` tree holds ``sigmaGen`` (Pythia 8's estimate of the cross section
of the generated process, leading order, pb), ``filterEfficiency`` (generator filter, e.g. the
muon filter of ``qcd_mu``) and ``genEventSumw``. An event's weight at integrated luminosity
``L`` is ``Generator_weight x sigmaGen x filterEfficiency x branching x L / genEventSumw``.
``branching`` is the factor a preset's forced decays leave out of ``sigmaGen``
(:data:`FORCED_DECAY_FACTORS`). No K-factor is applied anywhere: every yield is LO Pythia 8.

Torch-free (part of the notebook API).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import hist
import numpy as np
import uproot

from jetml.errors import InputFileError

TAU_TO_MU = 0.1739
"""B(τ → μ nu nu) (PDG)."""
TAU_TO_HADRONS = 0.6479
"""B(τ → hadrons nu) (PDG: 1 - B(e) - B(μ))."""
FORCED_DECAY_FACTORS: dict[str, float] = {"dy_mutauh": 2.0 * TAU_TO_MU * TAU_TO_HADRONS}
"""Branching fraction a preset's forced decays leave out of its ``sigmaGen``: ``dy_mutauh``
forces τ⁻ → μ and τ⁺ → hadrons; the charge conjugate (same rate) doubles it."""
RUNS_BRANCHES = ("genEventSumw", "sigmaGen", "filterEfficiency")


@dataclass(frozen=True)
class Normalisation:
    """What one sample contributes per unit weight at a luminosity (``weight`` per event)."""

    sigma_pb: float
    """``sigmaGen`` (LO Pythia 8, pb), averaged over the file's runs by genEventSumw."""
    filter_efficiency: float
    branching: float
    sum_weights: float
    luminosity_pb: float

    @property
    def cross_section_pb(self) -> float:
        """sigma x filter efficiency x branching: the cross section the sample represents."""
        return self.sigma_pb * self.filter_efficiency * self.branching

    @property
    def weight(self) -> float:
        """Weight of an event with ``Generator_weight`` 1 at :attr:`luminosity_pb`."""
        return self.cross_section_pb * self.luminosity_pb / self.sum_weights


def normalisation(
    path: str | os.PathLike[str], luminosity_pb: float, *, preset: str | None = None
) -> Normalisation:
    """The normalisation of the generated file ``path`` at ``luminosity_pb`` (pb⁻¹); the
    preset's forced-decay factor (:data:`FORCED_DECAY_FACTORS`) when ``preset`` is given.
    InputFileError naming the file when it has no usable ``Runs`` tree."""
    if luminosity_pb <= 0:
        raise ValueError(f"luminosity must be positive, got {luminosity_pb}")
    try:
        with uproot.open(path) as file:
            runs = file["Runs"].arrays(RUNS_BRANCHES, library="np")
    except (OSError, KeyError, ValueError) as error:
        raise InputFileError(f"{path}: no Runs tree with {', '.join(RUNS_BRANCHES)}") from error
    sumw = runs["genEventSumw"].astype(np.float64)
    total = float(sumw.sum())
    if not total > 0:
        raise InputFileError(f"{path}: Runs.genEventSumw sums to {total} (no generated events)")
    return Normalisation(
        sigma_pb=float(np.sum(runs["sigmaGen"] * sumw) / total),
        filter_efficiency=float(np.sum(runs["filterEfficiency"] * sumw) / total),
        branching=FORCED_DECAY_FACTORS.get(preset or "", 1.0),
        sum_weights=total,
        luminosity_pb=float(luminosity_pb),
    )


def poisson_pseudo_data(expected: hist.Hist, seed: int) -> hist.Hist:
    """Pseudo-data: each bin of the expected yield histogram (weighted) replaced by a Poisson
    draw with that mean (seeded), as an unweighted count histogram with the same axes."""
    rng = np.random.default_rng(seed)
    mean = np.clip(expected.values(flow=True), 0.0, None)
    pseudo = hist.Hist(*expected.axes)
    pseudo.view(flow=True)[...] = rng.poisson(mean)
    return pseudo
