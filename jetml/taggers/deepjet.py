"""jetml's DeepJet (AK4 flavour: b, bb, lepb, c, uds, g) on ``Jet`` (``jetml/models/deepjet``).

Inputs: :func:`jetml.nn.ak4_data.deepjet_variables`, the recipe the training arrays were built
with (charged candidates by 3D impact-parameter significance, neutral ones by pT, SVs in CMSSW's
order, 15 jet-level features), standardised with the shipped ``preprocess.json`` by
:func:`jetml.features.build_inputs`. Scores are CMS's discriminants of the six class
probabilities: ``BvsAll = b + bb + lepb`` (NanoAOD ``btagDeepFlavB``),
``CvsL = c / (c + uds + g)`` and ``CvsB = c / (c + b + bb + lepb)``.

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

_JET_FIELDS = (
    "pt", "eta", "phi", "mass", "chHEF", "neHEF", "chEmEF", "neEmEF", "muEF", "nConstituents",
)  # fmt: skip
_B = ("b", "bb", "lepb")
DISCRIMINANTS: dict[str, Discriminant] = {
    "BvsAll": Discriminant(_B),
    "CvsL": Discriminant(("c",), ("c", "uds", "g")),
    "CvsB": Discriminant(("c",), ("c", *_B)),
}


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
        from jetml.nn import ak4_data

        # pickles by name: workers import the recipe when unpickling the tagger,
        # not inside the timed feature building of their first chunk
        self.features = ak4_data.deepjet_variables
        self.branches = (
            *(f"Jet_{field}" for field in _JET_FIELDS),
            *required_branches((*ak4_data._CANDIDATE, *ak4_data._SV), "Jet"),
        )

    def model_inputs(self, events: ak.Array, mask: ak.Array) -> dict[str, np.ndarray]:
        return build_inputs(self.shipped.config, self.features(events, mask))


def deepjet() -> DeepJetTagger:
    """The shipped DeepJet tagger (``jetml run --taggers deepjet``)."""
    return DeepJetTagger()
