"""jetml's DeepDoubleX (AK8 double-b / double-c: QCD, Hbb, Hcc) on ``FatJet``
(shipped ``jetml/models/deepdoublex``).

Inputs: :func:`jetml.nn.ddx_data.ddx_variables`, the recipe the training arrays were built with
(the charged / neutral candidate and SV recipe shared with DeepJet, on the AK8 jet, plus log pT,
eta, soft-drop mass, tau2/tau1 and tau3/tau2), standardised with the shipped
``preprocess.json`` by :func:`jetml.features.build_inputs`. Scores are the discriminants
documented in docs/taggers.md: ``BvL = Hbb / (Hbb + QCD)``, ``CvL = Hcc / (Hcc + QCD)``,
``CvB = Hcc / (Hcc + Hbb)``, compared with CMS's ``FatJet_btagDD*V2`` where the file has them.

The recipe lives in the training package's torch-free data modules, so the tagger runs without
the ``train`` extra; it is imported when the tagger is built (or unpickled in a worker).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import awkward as ak
import numpy as np

from jetml.features import build_inputs
from jetml.features.cms_pfnano import required_branches
from jetml.taggers.particlenet import Discriminant
from jetml.taggers.shipped import ShippedTagger
from jetml.taggers.truth import ResonanceTruth

_JET_FIELDS = ("pt", "eta", "phi", "mass", "msoftdrop", "tau1", "tau2", "tau3")
DISCRIMINANTS: dict[str, Discriminant] = {
    "BvL": Discriminant(("Hbb",), ("Hbb", "QCD")),
    "CvL": Discriminant(("Hcc",), ("Hcc", "QCD")),
    "CvB": Discriminant(("Hcc",), ("Hcc", "Hbb")),
}


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
        from jetml.nn import ak4_data, ddx_data

        # pickles by name: workers import the recipe when unpickling the tagger,
        # not inside the timed feature building of their first chunk
        self.features = ddx_data.ddx_variables
        self.branches = (
            *(f"FatJet_{field}" for field in _JET_FIELDS),
            *required_branches((*ak4_data._CANDIDATE, *ak4_data._SV), "FatJet"),
        )

    def model_inputs(self, events: ak.Array, mask: ak.Array) -> dict[str, np.ndarray]:
        return build_inputs(self.shipped.config, self.features(events, mask))


def deepdoublex() -> DeepDoubleXTagger:
    """The shipped DeepDoubleX tagger (``jetml run --taggers deepdoublex``)."""
    return DeepDoubleXTagger()
