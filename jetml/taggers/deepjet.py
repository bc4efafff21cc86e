"""jetml's DeepJet (AK4 flavour: b, bb, lepb, c, uds, g) on ``Jet`` (``jetml/models/deepjet``).

Inputs: :func:`jetml.features.deepjet.deepjet_variables`, the recipe the training arrays were built
with (charged candidates by 3D impact-parameter significance, neutral ones by pT, SVs in CMSSW's
order, 15 jet-level features), standardised with the shipped ``preprocess.json`` by
:func:`jetml.features.build_inputs`. Scores are CMS's discriminants of the six class
probabilities: ``BvsAll = b + bb + lepb`` (NanoAOD ``btagDeepFlavB``),
``CvsL = c / (c + uds + g)`` and ``CvsB = c / (c + b + bb + lepb)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import awkward as ak
import numpy as np

from jetml.features import build_inputs
from jetml.features.deepjet import deepjet_variables, required_branches
from jetml.labels import DEEPJET_DISCRIMINANTS, Discriminant
from jetml.taggers.shipped import ShippedTagger

DISCRIMINANTS = DEEPJET_DISCRIMINANTS


class DeepJetTagger(ShippedTagger):
    """DeepJet on ``Jet`` (pT >= 20 GeV, |eta| < 2.4, as in training)."""

    discriminants: ClassVar[dict[str, Discriminant]] = DISCRIMINANTS

    collection = "Jet"
    score_names = tuple(DISCRIMINANTS)
    uses_pf_candidates = True
    reference_scores: ClassVar[dict[str, str]] = {
        "BvsAll": "btagDeepFlavB",
        "CvsL": "btagDeepFlavCvL",
        "CvsB": "btagDeepFlavCvB",
    }

    def __init__(self, folder: str | Path | None = None) -> None:
        super().__init__("deepjet", folder)
        self.branches = required_branches()

    def model_inputs(self, events: ak.Array, mask: ak.Array) -> dict[str, np.ndarray]:
        return build_inputs(self.shipped.config, deepjet_variables(events, mask))


def deepjet() -> DeepJetTagger:
    """The shipped DeepJet tagger (``jetml run --taggers deepjet``)."""
    return DeepJetTagger()
