"""Training-vs-deployment check plots: one 2D histogram of ONNX vs torch output per output.

The CMS integration of DeepFlavour was validated with such plots: every jet should sit on the
diagonal. Figures are built with matplotlib's object API (no pyplot, no display needed).
"""

from __future__ import annotations

import re
from pathlib import Path

import hist
import mplhep
import numpy as np
from matplotlib.figure import Figure

from jetml.nn.export import ParityReport


def _safe(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", label)


def parity_plots(
    report: ParityReport,
    labels: tuple[str, ...],
    folder: str | Path,
    model_name: str,
    bins: int = 50,
) -> list[Path]:
    """Write ``<model>_<label>.png`` (torch on x, onnxruntime on y) per output; return the paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for column, label in enumerate(labels):
        x = report.torch_outputs[:, column].astype(np.float64)
        y = report.onnx_outputs[:, column].astype(np.float64)
        low, high = float(min(x.min(), y.min())), float(max(x.max(), y.max()))
        margin = 0.02 * (high - low) if high > low else 0.5
        low, high = low - margin, high + margin
        axis = hist.axis.Regular(bins, low, high, name="torch", label=f"torch {label}")
        histogram = hist.Hist(
            axis,
            hist.axis.Regular(bins, low, high, name="onnx", label=f"onnxruntime {label}"),
        )
        histogram.fill(torch=x, onnx=y)
        figure = Figure(figsize=(5.5, 4.5))
        ax = figure.add_subplot()
        artists = mplhep.hist2dplot(histogram, ax=ax, cmin=1, cbar=False)
        figure.colorbar(artists.pcolormesh, ax=ax, label="jets")
        ax.plot([low, high], [low, high], color="red", linewidth=0.6, linestyle="--")
        difference = report.per_output_max_abs_diff[column]
        ax.set_title(f"{model_name}: {label}  max|Δ| = {difference:.2g}", fontsize=9)
        path = folder / f"{_safe(model_name)}_{_safe(label)}.png"
        figure.savefig(path, dpi=90, bbox_inches="tight")
        paths.append(path)
    return paths
