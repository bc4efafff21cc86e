"""How much do the shipped taggers (trained without pileup) degrade on samples with pileup?

Runs the shipped DeepAK8 (TvsQCD: top jets of ttbar_had against the jets of qcd) and DeepJet
(BvsAll: b against light jets of ttbar_semilep) on the same presets and seeds generated at
mu = 0 and at the default mu = 30, and reports score distributions (one figure), the ROC AUC
(with its Hanley-McNeil uncertainty) and the background rejection at 50% signal efficiency,
with the jet counts. Samples (``jetml.samples.get``, cached in ``$JETML_CACHE``): ttbar_had
seed 301 and qcd seed 302, 600 events each; ttbar_semilep seed 101, 1000 events.
Run: ``python benchmarks/pileup_tagger_scores.py --out docs/figures/samples``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import awkward as ak
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt

import jetml.samples
from jetml.nanoaod import load_events
from jetml.samples.presets import DEFAULT_PILEUP
from jetml.taggers.registry import resolve_taggers

STUDIES = (
    # tagger, score, signal label, background label, [(preset, events, seed), ...]
    ("deepak8", "TvsQCD", "top", "QCD", (("ttbar_had", 600, 301), ("qcd", 600, 302))),
    ("deepjet", "BvsAll", "b", "light", (("ttbar_semilep", 1000, 101),)),
)


def auc_with_error(signal: np.ndarray, background: np.ndarray) -> tuple[float, float]:
    """ROC AUC (Mann-Whitney, ties count one half) and its Hanley-McNeil standard error."""
    values = np.concatenate([signal, background])
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(1, len(values) + 1)
    # Average ranks over ties.
    _, inverse = np.unique(values, return_inverse=True)
    ranks = (np.bincount(inverse, ranks) / np.bincount(inverse))[inverse]
    n_s, n_b = len(signal), len(background)
    auc = (ranks[:n_s].sum() - n_s * (n_s + 1) / 2) / (n_s * n_b)
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    variance = (auc * (1 - auc) + (n_s - 1) * (q1 - auc**2) + (n_b - 1) * (q2 - auc**2)) / (
        n_s * n_b
    )
    return float(auc), float(np.sqrt(max(variance, 0.0)))


def rejection_at(signal: np.ndarray, background: np.ndarray, efficiency: float) -> float:
    """1 / background efficiency at the cut keeping ``efficiency`` of the signal."""
    cut = np.quantile(signal, 1 - efficiency)
    passed = np.mean(background > cut)
    return float(1 / passed) if passed > 0 else float("inf")


def scores_by_label(tagger, path: Path, score: str) -> dict[str, np.ndarray]:
    """The tagger's ``score`` of every selected jet of the file, grouped by truth label."""
    events = load_events(path)
    jets = events[tagger.collection]
    mask = tagger.select(jets)
    values = np.asarray(tagger.evaluate(events, mask)[score])
    labels = ak.to_numpy(ak.flatten(tagger.truth_labels(jets[mask])))
    return {label: values[labels == label] for label in np.unique(labels)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/figures/samples"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    results: dict = {}
    figure, axes = plt.subplots(1, len(STUDIES), figsize=(5 * len(STUDIES), 4))
    for axis, (name, score, signal, background, samples) in zip(axes, STUDIES, strict=True):
        (tagger,) = resolve_taggers(name)
        for mu, style in ((0.0, "-"), (DEFAULT_PILEUP, "--")):
            grouped: dict[str, list[np.ndarray]] = {}
            for preset, events, seed in samples:
                path = jetml.samples.get(preset, events, seed, pileup=mu)
                for label, values in scores_by_label(tagger, path, score).items():
                    grouped.setdefault(label, []).append(values)
            sig = np.concatenate(grouped.get(signal, [np.zeros(0)]))
            bkg = np.concatenate(grouped.get(background, [np.zeros(0)]))
            auc, auc_err = auc_with_error(sig, bkg)
            results[f"{name}_{score}_mu{mu:g}"] = {
                "auc": auc,
                "auc_err": auc_err,
                "rejection_at_50pct": rejection_at(sig, bkg, 0.5),
                "n_signal": len(sig),
                "n_background": len(bkg),
            }
            bins = np.linspace(0, 1, 26)
            for label, values, colour in ((signal, sig, "tab:red"), (background, bkg, "tab:blue")):
                axis.hist(
                    values,
                    bins=bins,
                    histtype="step",
                    density=True,
                    color=colour,
                    linestyle=style,
                    label=f"{label}, mu = {mu:g} ({len(values)})",
                )
        axis.set_yscale("log")
        axis.set_xlabel(f"shipped {name} {score}")
        axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(args.out / "pileup_tagger_scores.png", dpi=80)
    (args.out / "pileup_tagger_scores.json").write_text(json.dumps(results, indent=1) + "\n")
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
