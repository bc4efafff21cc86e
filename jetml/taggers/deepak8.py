"""jetml's DeepAK8 (17 classes, lite width) on ``FatJet`` (shipped ``jetml/models/deepak8``).

Inputs come entirely from the shipped ``preprocess.json``: its variables are CMS
``pfcand_*``/``sv_*`` variables (:mod:`jetml.features.cms_pfnano`, CMSSW conventions) and
``new_variables`` expressions over them and the per-jet ``jet_pt_log`` / ``jet_e_log`` (logs of
the AK8 jet's pT and energy): the recipe :mod:`jetml.features.deepak8`, shared with the training
(docs/taggers.md). :func:`jetml.features.build_inputs` evaluates the
expressions and standardises. Scores: the discriminants CMS forms from the class probabilities,
``XvsQCD = p(X) / (p(X) + p(QCD))`` with QCD the sum of the five QCD classes.

:class:`DeepAK8Tagger` also runs the mass-decorrelated ``deepak8_md`` and the untrained
full-size ``deepak8_full`` (kept for timing), which share the input recipe.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import awkward as ak
import numpy as np

from jetml.errors import ConfigError
from jetml.features import build_inputs
from jetml.features.deepak8 import config_catalogue_variables, deepak8_variables, required_branches
from jetml.labels import DEEPAK8_DISCRIMINANTS, QCD_CLASSES, Discriminant
from jetml.taggers.shipped import ShippedTagger
from jetml.taggers.truth import ResonanceTruth

DISCRIMINANTS = DEEPAK8_DISCRIMINANTS
REFERENCE_SCORES = {
    "deepak8": {s: f"deepTag_{s}" for s in ("TvsQCD", "WvsQCD", "ZvsQCD", "QCD")},
    "deepak8_md": {
        s: f"deepTagMD_{s}" for s in ("TvsQCD", "WvsQCD", "ZvsQCD", "ZbbvsQCD", "H4qvsQCD")
    },
}
"""NanoAOD ``FatJet`` fields where CMS stored its DeepAK8 (MD) scores of the same name."""


class DeepAK8Tagger(ResonanceTruth, ShippedTagger):
    """A shipped DeepAK8-family model on ``FatJet`` (pT >= 300 GeV, |eta| < 2.4, as in training)."""

    discriminants: ClassVar[dict[str, Discriminant]] = DISCRIMINANTS

    collection = "FatJet"
    uses_pf_candidates = True

    def __init__(self, name: str = "deepak8", folder: str | Path | None = None) -> None:
        super().__init__(name, folder)
        self.score_names = tuple(DISCRIMINANTS)
        self.reference_scores = dict(REFERENCE_SCORES.get(name, {}))
        self.catalogue_variables = config_catalogue_variables(self.shipped.config, name)
        self.branches = required_branches(self.catalogue_variables, self.collection)
        if missing := set(QCD_CLASSES) - set(self.shipped.output_labels):
            raise ConfigError(f"{name}: model outputs lack {sorted(missing)}")

    def model_inputs(self, events: ak.Array, mask: ak.Array) -> dict[str, np.ndarray]:
        variables = deepak8_variables(events, self.catalogue_variables, mask, self.collection)
        return build_inputs(self.shipped.config, variables)


def deepak8() -> DeepAK8Tagger:
    """The shipped lite DeepAK8 (``jetml run --taggers deepak8``)."""
    return DeepAK8Tagger("deepak8")
