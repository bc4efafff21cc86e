"""jetml's DeepDoubleX (AK8 double-b / double-c: QCD, Hbb, Hcc) on ``FatJet``
(shipped ``jetml/models/deepdoublex``).

Inputs: :func:`jetml.features.deepdoublex.deepdoublex_variables`, the recipe the training arrays
were built with (the charged / neutral candidate and SV recipe shared with DeepJet, on the AK8
jet, plus log pT, eta, soft-drop mass, tau2/tau1 and tau3/tau2), standardised with the shipped
``preprocess.json`` by :func:`jetml.features.build_inputs`. Scores are the discriminants
documented in docs/taggers.md: ``BvL = Hbb / (Hbb + QCD)``, ``CvL = Hcc / (Hcc + QCD)``,
``CvB = Hcc / (Hcc + Hbb)``, compared with CMS's ``FatJet_btagDD*V2`` where the file has them.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import awkward as ak
import numpy as np

from jetml.features import build_inputs
from jetml.features.deepdoublex import deepdoublex_variables, required_branches
from jetml.labels import DEEPDOUBLEX_DISCRIMINANTS, Discriminant
from jetml.taggers.shipped import ShippedTagger
from jetml.taggers.truth import ResonanceTruth

DISCRIMINANTS = DEEPDOUBLEX_DISCRIMINANTS


class DeepDoubleXTagger(ResonanceTruth, ShippedTagger):
    """DeepDoubleX on ``FatJet`` (pT >= 300 GeV, |eta| < 2.4, as in training)."""

    discriminants: ClassVar[dict[str, Discriminant]] = DISCRIMINANTS

    collection = "FatJet"
    score_names = tuple(DISCRIMINANTS)
    uses_pf_candidates = True
    reference_scores: ClassVar[dict[str, str]] = {
        "BvL": "btagDDBvLV2",
        "CvL": "btagDDCvLV2",
        "CvB": "btagDDCvBV2",
    }

    def __init__(self, folder: str | Path | None = None) -> None:
        super().__init__("deepdoublex", folder)
        self.branches = required_branches()

    def model_inputs(self, events: ak.Array, mask: ak.Array) -> dict[str, np.ndarray]:
        return build_inputs(self.shipped.config, deepdoublex_variables(events, mask))


def deepdoublex() -> DeepDoubleXTagger:
    """The shipped DeepDoubleX tagger (``jetml run --taggers deepdoublex``)."""
    return DeepDoubleXTagger()
