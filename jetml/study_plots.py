"""Figures of the mass-decorrelation study (notebook 02), in the style of :mod:`jetml.plotting`:
QCD (or signal) m_SD after cuts at fixed QCD efficiencies, the rejection-vs-1/JSD plane and the
mean score against m_SD. Torch-free (part of the notebook API)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import hist
import matplotlib.pyplot as plt
import mplhep
import numpy as np
from matplotlib.axes import Axes

from jetml.decorrelation import Profile
from jetml.metrics import Estimate
from jetml.plotting import label, use_style


def _axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    use_style()
    return plt.subplots(figsize=(8, 6))[1]


def plot_mass_after_cuts(
    hists: Mapping[str, hist.Hist],
    *,
    density: bool = True,
    title: str = "",
    ax: Axes | None = None,
) -> Axes:
    """m_SD histograms (``{"inclusive": ..., "eff10%": ...}`` from
    :func:`jetml.decorrelation.mass_after_cuts`), one step line each, normalised to unit area
    when ``density`` (no error bars: the jet counts in the legend say how far to trust a shape).
    """
    ax = _axes(ax)
    for name, histogram in hists.items():
        n = int(histogram.sum())
        if n == 0:
            ax.plot([], [], label=f"{name} (0 jets)")
            continue
        mplhep.histplot(histogram, density=density, yerr=False, ax=ax, label=f"{name} ({n} jets)")
    ax.set_xlabel(r"$m_{SD}$ [GeV]")
    ax.set_ylabel("fraction of jets / bin" if density else "jets / bin")
    ax.legend(fontsize="x-small", title=title or None, title_fontsize="x-small")
    return label(ax)


def _errors(estimates: Sequence[Estimate]) -> np.ndarray:
    low = [min(e.error_low, e.value) for e in estimates]
    high = [e.error_high if np.isfinite(e.error_high) else e.value for e in estimates]
    return np.array([low, high])


def plot_decorrelation_plane(
    points: Mapping[str, tuple[Estimate, Estimate]],
    *,
    groups: Mapping[str, Sequence[str]] | None = None,
    selection: str = "",
    ax: Axes | None = None,
) -> Axes:
    """1/εB (x) against 1/JSD (y), both log scale with their 68 % intervals:
    ``{name: (rejection, inverse_jsd)}``; ``groups`` ({legend: [names]}) joins the points of
    one method (e.g. the λ scan) by a line, each point annotated with its name."""
    ax = _axes(ax)
    groups = groups or {name: [name] for name in points}
    for legend, names in groups.items():
        present = [n for n in names if n in points]
        if not present:
            continue
        rejections = [points[n][0] for n in present]
        inverses = [points[n][1] for n in present]
        ax.errorbar(
            [r.value for r in rejections],
            [i.value for i in inverses],
            xerr=_errors(rejections),
            yerr=_errors(inverses),
            fmt="o-" if len(present) > 1 else "s",
            label=legend,
            capsize=2,
        )
        for name, r, i in zip(present, rejections, inverses, strict=True):
            ax.annotate(name, (r.value, i.value), fontsize="xx-small", xytext=(3, 3),
                        textcoords="offset points")  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(r"background rejection $1/\varepsilon_B$ at $\varepsilon_S$ = 50 %")
    ax.set_ylabel("mass decorrelation 1/JSD")
    ax.legend(fontsize="x-small", title=selection or None, title_fontsize="x-small")
    return label(ax)


def plot_profiles(
    profiles: Mapping[str, Profile],
    *,
    ylabel: str = "mean score",
    selection: str = "",
    ax: Axes | None = None,
) -> Axes:
    """Mean score per m_SD bin with its standard error, one line per name."""
    ax = _axes(ax)
    for name, profile in profiles.items():
        filled = profile.counts > 0
        ax.errorbar(
            profile.centers[filled],
            profile.mean[filled],
            yerr=np.nan_to_num(profile.error[filled]),
            xerr=0.5 * np.diff(profile.edges)[filled],
            fmt="o",
            markersize=3,
            label=f"{name} ({int(profile.counts.sum())} jets)",
        )
    ax.set_xlabel(r"$m_{SD}$ [GeV]")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize="x-small", title=selection or None, title_fontsize="x-small")
    return label(ax)
