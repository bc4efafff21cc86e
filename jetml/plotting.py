"""Notebook figures in mplhep's CMS style, labelled "Simulation (jetml)": ROC curves with the
rejection at chosen signal efficiencies and its uncertainty, score distributions per truth
class, score vs mass, stacked histograms with a ratio panel, scatter against a reference and
grouped bar charts (timings).

Every function takes ``hist.Hist`` objects or plain arrays, draws into ``ax`` (a new figure when
None) and returns the axes. Torch-free (part of the notebook API).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import hist
import matplotlib.pyplot as plt
import mplhep
import numpy as np
from matplotlib.axes import Axes
from numpy.typing import ArrayLike

from jetml.metrics import RocCurve, rejection_at, roc_curve

LABEL = "Simulation (jetml)"
"""Experiment label of every figure: jetml's samples and models, not CMS results."""
EFFICIENCIES = (0.3, 0.5)

Histogrammable = hist.Hist | ArrayLike


def use_style() -> None:
    """Switch matplotlib to mplhep's CMS style."""
    plt.style.use(mplhep.style.CMS)


def label(ax: Axes, rlabel: str = "") -> Axes:
    """Put the "Simulation (jetml)" label (and ``rlabel`` on the right) on ``ax``."""
    mplhep.label.exp_label(exp="", llabel=LABEL, rlabel=rlabel, ax=ax)
    return ax


def _axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    use_style()
    return plt.subplots(figsize=(8, 6))[1]


def as_hist(
    data: Histogrammable, bins: int = 50, value_range: tuple[float, float] | None = None
) -> hist.Hist:
    """``data`` as a 1D ``hist.Hist``: unchanged when it already is one, otherwise the finite
    values of the array in ``bins`` regular bins over ``value_range`` (default: their range)."""
    if isinstance(data, hist.Hist):
        return data
    values = np.asarray(data, dtype=np.float64).reshape(-1)
    values = values[np.isfinite(values)]
    if value_range is None:
        value_range = (float(values.min()), float(values.max())) if len(values) else (0.0, 1.0)
        if value_range[0] == value_range[1]:
            value_range = (value_range[0] - 0.5, value_range[1] + 0.5)
    return hist.Hist(hist.axis.Regular(bins, *value_range)).fill(values)


def plot_roc(
    curves: Mapping[str, RocCurve | tuple[Histogrammable, Histogrammable]],
    *,
    efficiencies: Sequence[float] = EFFICIENCIES,
    method: str = "binomial",
    seed: int = 0,
    selection: str = "",
    ax: Axes | None = None,
) -> Axes:
    """Background rejection 1/εB vs signal efficiency εS (log scale) for each named curve, with
    its 68 % binomial band, and the rejection at ``efficiencies`` marked with error bars from
    ``method`` (see :mod:`jetml.metrics`; where no background jet passes, a triangle marks the
    68 % CL lower limit). Curves may be given as (signal, background) scores
    or histograms. The legend gives each curve's jet counts; ``selection`` goes in the title."""
    ax = _axes(ax)
    for name, given in curves.items():
        curve = given if isinstance(given, RocCurve) else roc_curve(*given)
        eff, rejection = curve.signal_efficiency, curve.rejection
        finite = np.isfinite(rejection)
        (line,) = ax.plot(
            eff[finite],
            rejection[finite],
            label=f"{name} ($N_S$={curve.n_signal}, $N_B$={curve.n_background})",
        )
        low, high = curve.rejection_band()
        ax.fill_between(
            eff[finite],
            low[finite],
            np.minimum(high[finite], 1e9),
            color=line.get_color(),
            alpha=0.2,
            linewidth=0,
        )
        points = [rejection_at(curve, e, method=method, seed=seed) for e in efficiencies]
        measured = [p for p in points if p.measured]
        ax.errorbar(
            [p.achieved_signal_efficiency for p in measured],
            [p.value for p in measured],
            yerr=[[p.error_low for p in measured], [p.error_high for p in measured]],
            fmt="o",
            color=line.get_color(),
        )
        limits = [p for p in points if not p.measured]  # no background passed: lower limit
        if limits:
            ax.plot(
                [p.achieved_signal_efficiency for p in limits],
                [p.low for p in limits],
                "^",
                color=line.get_color(),
            )
    ax.set_yscale("log")
    ax.set_xlim(0.0, 1.0)
    ax.set_xlabel(r"signal efficiency $\varepsilon_S$")
    ax.set_ylabel(r"background rejection $1/\varepsilon_B$")
    ax.legend(fontsize="x-small", title=selection or None, title_fontsize="x-small")
    return label(ax)


def plot_score_distributions(
    data: hist.Hist | Mapping[str, ArrayLike],
    *,
    bins: int = 50,
    value_range: tuple[float, float] = (0.0, 1.0),
    density: bool = True,
    axis: str = "label",
    xlabel: str = "score",
    selection: str = "",
    ax: Axes | None = None,
) -> Axes:
    """The score distribution of each truth class: a 2D histogram with a category ``axis``
    (as the processor fills them; empty classes are left out) or ``{class: scores}``."""
    ax = _axes(ax)
    if isinstance(data, hist.Hist):
        classes = {
            name: data[{axis: hist.loc(name)}]
            for name in data.axes[axis]
            if data[{axis: hist.loc(name)}].sum() > 0
        }
    else:
        classes = {name: as_hist(values, bins, value_range) for name, values in data.items()}
    for name, histogram in classes.items():
        mplhep.histplot(
            histogram,
            ax=ax,
            density=density,
            label=f"{name} ({int(histogram.sum())} jets)",
            yerr=False,
            flow="none",
        )
    ax.set_xlabel(xlabel)
    ax.set_ylabel("probability density" if density else "jets / bin")
    ax.set_yscale("log")
    ax.legend(fontsize="x-small", title=selection or None, title_fontsize="x-small")
    return label(ax)


def plot_score_vs_mass(
    data: hist.Hist | tuple[ArrayLike, ArrayLike],
    *,
    score_bins: int = 25,
    mass_bins: int = 30,
    mass_range: tuple[float, float] = (0.0, 300.0),
    xlabel: str = "score",
    ylabel: str = "mass [GeV]",
    selection: str = "",
    ax: Axes | None = None,
) -> Axes:
    """2D histogram of score (x) vs mass (y): a 2D ``hist.Hist`` or (scores, masses)."""
    ax = _axes(ax)
    if isinstance(data, hist.Hist):
        histogram = data
    else:
        score, mass = (np.asarray(a, dtype=np.float64).reshape(-1) for a in data)
        keep = np.isfinite(score) & np.isfinite(mass)
        histogram = hist.Hist(
            hist.axis.Regular(score_bins, 0.0, 1.0), hist.axis.Regular(mass_bins, *mass_range)
        ).fill(score[keep], mass[keep])
    mplhep.hist2dplot(histogram, ax=ax, cmin=0.5, flow="none")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if selection:
        ax.set_title(selection, fontsize="small", loc="right", pad=30)
    return label(ax)


def plot_stack_ratio(
    stack: Mapping[str, Histogrammable],
    reference: Histogrammable,
    *,
    reference_label: str = "reference",
    bins: int = 50,
    value_range: tuple[float, float] | None = None,
    xlabel: str = "",
    selection: str = "",
    axes: tuple[Axes, Axes] | None = None,
) -> tuple[Axes, Axes]:
    """Stacked histograms of ``stack`` with ``reference`` on top (points with Poisson errors),
    and below the ratio reference / stack sum with the reference's relative errors.
    Returns (main axes, ratio axes)."""
    if axes is None:
        use_style()
        _, axes = plt.subplots(
            2, 1, figsize=(8, 8), sharex=True, gridspec_kw={"height_ratios": (3, 1), "hspace": 0}
        )
    main, ratio_ax = axes
    if value_range is None and not isinstance(reference, hist.Hist):
        values = np.asarray(reference, dtype=np.float64)
        value_range = (float(np.nanmin(values)), float(np.nanmax(values)))
    parts = {name: as_hist(data, bins, value_range) for name, data in stack.items()}
    ref = as_hist(reference, bins, value_range)
    edges = ref.axes[0].edges
    if any(not np.array_equal(h.axes[0].edges, edges) for h in parts.values()):
        raise ValueError(
            "plot_stack_ratio: the stacked histograms and the reference differ in bins"
        )
    mplhep.histplot(
        list(parts.values()), ax=main, stack=True, histtype="fill", label=list(parts), flow="none"
    )
    mplhep.histplot(
        ref,
        ax=main,
        histtype="errorbar",
        color="black",
        label=reference_label,
        yerr=np.sqrt(ref.values()),
        flow="none",
    )
    main.set_ylabel("jets / bin")
    main.legend(fontsize="x-small", title=selection or None, title_fontsize="x-small")
    label(main)
    total = sum(h.values() for h in parts.values())
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(total > 0, ref.values() / total, np.nan)
        error = np.where(total > 0, np.sqrt(ref.values()) / total, np.nan)
    centers = ref.axes[0].centers
    ratio_ax.errorbar(centers, ratio, yerr=error, fmt="o", color="black", markersize=4)
    ratio_ax.axhline(1.0, color="grey", linestyle="--")
    ratio_ax.set_ylim(0.0, 2.0)
    ratio_ax.set_ylabel(f"{reference_label} / stack", fontsize="small")
    ratio_ax.set_xlabel(xlabel)
    return main, ratio_ax


def plot_scatter(
    x: ArrayLike,
    y: ArrayLike,
    *,
    xlabel: str,
    ylabel: str,
    diagonal: bool = True,
    selection: str = "",
    ax: Axes | None = None,
) -> Axes:
    """Scatter of ``y`` vs ``x`` (e.g. jetml vs CMS-stored scores of the same jets) with the
    diagonal y = x; the legend gives the number of points and the largest |y - x|."""
    ax = _axes(ax)
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    keep = np.isfinite(x) & np.isfinite(y)
    worst = float(np.max(np.abs(y[keep] - x[keep]))) if keep.any() else float("nan")
    ax.scatter(x[keep], y[keep], s=18, label=f"{int(keep.sum())} jets, max |Δ| = {worst:.3g}")
    if diagonal:
        ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize="x-small", title=selection or None, title_fontsize="x-small")
    return label(ax)


def plot_bars(
    values: Mapping[str, Mapping[str, float]],
    *,
    xlabel: str,
    errors: Mapping[str, Mapping[str, float]] | None = None,
    log: bool = False,
    title: str = "",
    ax: Axes | None = None,
) -> Axes:
    """Grouped horizontal bars: ``values[group][series]`` (e.g. ms/jet per tagger and
    framework); a series missing from a group leaves a gap. Optional symmetric ``errors``.
    The legend sits right of the axes, clear of the bars."""
    if ax is None:
        use_style()
        bars = len(values) * max((len(group) for group in values.values()), default=1)
        ax = plt.subplots(figsize=(10, max(4.0, 0.25 * bars + 1.5)))[1]
    groups = list(values)
    series = list(dict.fromkeys(s for group in values.values() for s in group))
    height = 0.8 / max(len(series), 1)
    positions = np.arange(len(groups))
    for i, name in enumerate(series):
        widths = [values[g].get(name, np.nan) for g in groups]
        xerr = None if errors is None else [errors.get(g, {}).get(name, 0.0) for g in groups]
        ax.barh(
            positions + (i - (len(series) - 1) / 2) * height,
            widths,
            height=height,
            xerr=xerr,
            label=name,
        )
    ax.set_yticks(positions, groups)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    if log:
        ax.set_xscale("log")
    ax.legend(
        fontsize="x-small",
        title=title or None,
        title_fontsize="x-small",
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
    )
    return label(ax)
