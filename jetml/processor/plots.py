"""CMS-style figures (mplhep) of the processor's histograms, summed over datasets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import hist
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import mplhep

from jetml.processor.report import sum_datasets
from jetml.taggers.base import Tagger

LABEL_TEXT = "jetml"


def write_plots(
    hists: Mapping[str, Mapping[str, hist.Hist]], taggers: Sequence[Tagger], out_dir: Path
) -> list[Path]:
    """One PNG per histogram kind and tagger score; returns the files written.

    jetml-vs-CMS figures are written only when some file held the CMS score (real CMS PFNano).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    summed = sum_datasets(hists)
    written: list[Path] = []
    plt.style.use(mplhep.style.CMS)
    for tagger in taggers:
        for score in tagger.score_names:
            key = f"{tagger.name}_{score}"
            if key not in summed:
                continue
            written.append(_plot_labels(summed[key], tagger, score, out_dir / f"{key}.png"))
            for suffix in ("vs_mass", "vs_cms"):
                name = f"{key}_{suffix}"
                if name in summed and (suffix == "vs_mass" or summed[name].sum(flow=True) > 0):
                    xlabel = f"jetml {tagger.name} {score}"
                    written.append(_plot_2d(summed[name], xlabel, out_dir / f"{name}.png"))
        response = f"{tagger.name}_response"
        if response in summed:
            written.append(_plot_response(summed[response], tagger, out_dir / f"{response}.png"))
    return written


def _finish(fig: plt.Figure, ax: plt.Axes, path: Path) -> Path:
    mplhep.cms.label(LABEL_TEXT, data=False, ax=ax, rlabel="")
    fig.savefig(path, dpi=80, bbox_inches="tight")
    plt.close(fig)
    return path


def _plot_labels(histogram: hist.Hist, tagger: Tagger, score: str, path: Path) -> Path:
    """Score distribution per truth label, each normalised to unit area."""
    fig, ax = plt.subplots()
    drawn = False
    for label in histogram.axes["label"]:
        part = histogram[{"label": label}]
        if part.sum() > 0:
            mplhep.histplot(part, ax=ax, density=True, label=f"{label} ({int(part.sum())})")
            drawn = True
    if drawn:
        ax.legend(title=tagger.collection)
    else:
        ax.text(0.5, 0.5, "no jets evaluated", ha="center", transform=ax.transAxes)
    ax.set_xlabel(f"{tagger.name} {score}")
    ax.set_ylabel("jets (normalised)")
    return _finish(fig, ax, path)


def _plot_2d(histogram: hist.Hist, xlabel: str, path: Path) -> Path:
    """Jets per bin of (score, other); empty bins left blank."""
    fig, ax = plt.subplots()
    if histogram.values().max(initial=0) >= 1:
        mplhep.hist2dplot(histogram, ax=ax, cmin=1)
    else:  # no jets inside the axes: hist2dplot cannot draw an all-blank histogram
        ax.text(0.5, 0.5, "no jets in range", ha="center", transform=ax.transAxes)
        ax.set_ylabel(histogram.axes[1].label)
    ax.set_xlabel(xlabel)
    return _finish(fig, ax, path)


def _plot_response(histogram: hist.Hist, tagger: Tagger, path: Path) -> Path:
    """pT response before and after the regression correction."""
    fig, ax = plt.subplots()
    for kind in histogram.axes["pt"]:
        part = histogram[{"pt": kind}]
        mplhep.histplot(part, ax=ax, label=f"{kind} ({int(part.sum())} matched jets)")
    ax.legend(title=tagger.name)
    ax.set_ylabel("jets")
    return _finish(fig, ax, path)
