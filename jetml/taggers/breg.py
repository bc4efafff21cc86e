"""jetml's b-jet energy regression on AK4 jets (shipped model ``jetml/models/breg``).

Inputs are the 21 jet-level features of the training recipe,
:func:`jetml.features.breg.breg_variables` (the same function builds the training arrays),
standardised with the shipped ``preprocess.json`` by :func:`jetml.features.build_inputs`.
Outputs: ``correction`` (multiplies the jet pT: the estimate of pT(gen, with neutrinos) / pT),
and the 25% / 75% quantiles ``q25`` / ``q75`` of that ratio (resolution = (q75 - q25) / 2).
"""

from __future__ import annotations

from pathlib import Path

import awkward as ak
import numpy as np

from jetml.features import build_inputs
from jetml.features.breg import breg_variables, required_branches
from jetml.taggers.shipped import ShippedTagger


class BRegressionTagger(ShippedTagger):
    """b-jet energy regression on ``Jet`` (pT >= 20 GeV, |eta| < 2.4, as in training)."""

    collection = "Jet"
    score_names = ("correction", "q25", "q75")
    pt_correction = "correction"
    uses_pf_candidates = True

    def __init__(self, folder: str | Path | None = None) -> None:
        super().__init__("breg", folder)
        self.branches = required_branches()

    def model_inputs(self, events: ak.Array, mask: ak.Array) -> dict[str, np.ndarray]:
        return build_inputs(self.shipped.config, breg_variables(events, mask))


def breg() -> BRegressionTagger:
    """The shipped b-regression tagger (``jetml run --taggers breg``)."""
    return BRegressionTagger()
