"""Class lists and discriminants of every jetml network, in numpy only.

One home for what the samples write as truth (``FatJet_label``, ``Jet_deepJetLabel``), what the
networks output, and the scores formed from their class probabilities. Samples, training
(:mod:`jetml.nn`) and deployment (:mod:`jetml.taggers`) all import from here; importing this
module imports numpy and nothing else (no torch, fastjet or numba).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEEPAK8_CLASSES: tuple[str, ...] = (
    "Top_bcq",
    "Top_bqq",
    "Top_bc",
    "Top_bq",
    "W_cq",
    "W_qq",
    "Z_bb",
    "Z_cc",
    "Z_qq",
    "H_bb",
    "H_cc",
    "H_qqqq",
    "QCD_bb",
    "QCD_cc",
    "QCD_b",
    "QCD_c",
    "QCD_others",
)
"""The 17 DeepAK8 output classes, in the order of CMS's ``pfDeepBoostedJetTags`` (probTbcq...);
also the values of ``FatJet_label`` in jetml's samples."""
QCD_CLASSES: tuple[str, ...] = ("QCD_bb", "QCD_cc", "QCD_b", "QCD_c", "QCD_others")
"""The five QCD classes of DeepAK8 / ParticleNet (the background of every ``XvsQCD``)."""

DEEPJET_CLASSES: tuple[str, ...] = ("b", "bb", "lepb", "c", "uds", "g")
"""DeepJet output classes, in CMS order (probb, probbb, problepb, probc, probuds, probg); also the
values of ``Jet_deepJetLabel`` in jetml's samples (-1: no parton match)."""

DEEPDOUBLEX_CLASSES: tuple[str, ...] = ("QCD", "Hbb", "Hcc")
"""Output classes of jetml's DeepDoubleX."""

DEEPTAU_CLASSES: tuple[str, ...] = ("e", "mu", "jet", "tau")
"""Output classes of jetml's DeepTau (softmax order)."""

BREG_OUTPUTS: tuple[str, ...] = ("correction", "q25", "q75")
"""b-regression outputs: pT correction factor and its 25% / 75% quantiles."""


@dataclass(frozen=True)
class Discriminant:
    """``sum(p[numerator]) / sum(p[denominator])``; no denominator means the plain sum."""

    numerator: tuple[str, ...]
    denominator: tuple[str, ...] = ()

    def __call__(self, probs: dict[str, np.ndarray]) -> np.ndarray:
        num = np.sum([probs[label] for label in self.numerator], axis=0)
        if not self.denominator:
            return num
        den = np.sum([probs[label] for label in self.denominator], axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            # CMSSW's BTagProbabilityToDiscriminator returns 0 (not NaN) for a zero denominator.
            return np.where(den > 0, num / np.where(den > 0, den, 1), 0.0)


def columns(classes: tuple[str, ...], probabilities: np.ndarray) -> dict[str, np.ndarray]:
    """Class name -> column of an ``(n, len(classes))`` probability array."""
    return {label: probabilities[:, i] for i, label in enumerate(classes)}


def discriminant_scores(
    discriminants: dict[str, Discriminant], classes: tuple[str, ...], probabilities: np.ndarray
) -> dict[str, np.ndarray]:
    """Every discriminant of an ``(n, len(classes))`` probability array, by name."""
    probs = columns(classes, probabilities)
    return {name: discriminant(probs) for name, discriminant in discriminants.items()}


def vs_qcd(*signal: str) -> Discriminant:
    """``p(signal) / (p(signal) + p(QCD))`` over the DeepAK8 / ParticleNet classes."""
    return Discriminant(signal, (*signal, *QCD_CLASSES))


DEEPAK8_DISCRIMINANTS: dict[str, Discriminant] = {
    "TvsQCD": vs_qcd("Top_bcq", "Top_bqq"),
    "WvsQCD": vs_qcd("W_cq", "W_qq"),
    "ZvsQCD": vs_qcd("Z_bb", "Z_cc", "Z_qq"),
    "ZbbvsQCD": vs_qcd("Z_bb"),
    "HbbvsQCD": vs_qcd("H_bb"),
    "HccvsQCD": vs_qcd("H_cc"),
    "H4qvsQCD": vs_qcd("H_qqqq"),
    "QCD": Discriminant(QCD_CLASSES),
}
"""CMS's DeepAK8 / ParticleNet scores: ``XvsQCD = p(X) / (p(X) + p(QCD))``, QCD = sum of five."""

_B = ("b", "bb", "lepb")
DEEPJET_DISCRIMINANTS: dict[str, Discriminant] = {
    "BvsAll": Discriminant(_B),
    "CvsL": Discriminant(("c",), ("c", "uds", "g")),
    "CvsB": Discriminant(("c",), ("c", *_B)),
}
"""CMS's DeepJet scores: ``btagDeepFlavB``, ``btagDeepFlavCvL``, ``btagDeepFlavCvB``."""

DEEPDOUBLEX_DISCRIMINANTS: dict[str, Discriminant] = {
    "BvL": Discriminant(("Hbb",), ("Hbb", "QCD")),
    "CvL": Discriminant(("Hcc",), ("Hcc", "QCD")),
    "CvB": Discriminant(("Hcc",), ("Hcc", "Hbb")),
}
"""DeepDoubleX pairwise ratios (docs/taggers.md)."""

DEEPTAU_DISCRIMINANTS: dict[str, Discriminant] = {
    f"VS{background}": Discriminant(("tau",), ("tau", background))
    for background in ("e", "mu", "jet")
}
"""DeepTau's ``D_alpha = y_τ / (y_τ + y_alpha)``, named as NanoAOD's ``rawDeepTau2017v2p1VS*``."""


def _deepdoublex_class_of_deepak8() -> np.ndarray:
    classes = {"H_bb": "Hbb", "H_cc": "Hcc"} | {n: "QCD" for n in QCD_CLASSES}
    return np.array(
        [DEEPDOUBLEX_CLASSES.index(classes[n]) if n in classes else -1 for n in DEEPAK8_CLASSES],
        dtype=np.int64,
    )


DEEPDOUBLEX_CLASS_OF_DEEPAK8: np.ndarray = _deepdoublex_class_of_deepak8()
"""DeepDoubleX class index of each ``FatJet_label`` value (QCD_* -> QCD, H_bb -> Hbb,
H_cc -> Hcc; -1 for the classes DeepDoubleX does not use)."""
