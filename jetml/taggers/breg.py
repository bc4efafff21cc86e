"""jetml's b-jet energy regression on AK4 jets (shipped model ``jetml/models/breg``).

Inputs are the 21 jet-level features of the training recipe,
:func:`jetml.nn.bjet_data.bjet_features` (the same function builds the training arrays),
standardised with the shipped ``preprocess.json`` by :func:`jetml.features.build_inputs`.
Outputs: ``correction`` (multiplies the jet pT: the estimate of pT(gen, with neutrinos) / pT),
and the 25% / 75% quantiles ``q25`` / ``q75`` of that ratio (resolution = (q75 - q25) / 2).

The feature recipe lives in the training package's torch-free data modules, so the tagger runs
without the ``train`` extra; it is imported when the tagger is built (or unpickled in a worker).
"""

from __future__ import annotations

from pathlib import Path

import awkward as ak
import numpy as np

from jetml.features import build_inputs
from jetml.features.cms_pfnano import required_branches
from jetml.taggers.shipped import ShippedTagger

_JET_FIELDS = ("pt", "eta", "mass", "chHEF", "neHEF", "chEmEF", "neEmEF", "muEF", "nConstituents")


class BRegressionTagger(ShippedTagger):
    """b-jet energy regression on ``Jet`` (pT >= 20 GeV, |eta| < 2.4, as in training)."""

    collection = "Jet"
    score_names = ("correction", "q25", "q75")
    pt_correction = "correction"
    uses_pf_candidates = True

    def __init__(self, folder: str | Path | None = None) -> None:
        super().__init__("breg", folder)
        from jetml.nn import bjet_data

        # a module-level function pickles by name: a worker imports the recipe when
        # it unpickles the tagger, not inside the timed feature building of its first chunk
        self.features = bjet_data.bjet_features
        self.branches = (
            *(f"Jet_{field}" for field in _JET_FIELDS),
            *required_branches((*bjet_data._CANDIDATE_VARIABLES, *bjet_data._SV_VARIABLES), "Jet"),
        )

    def model_inputs(self, events: ak.Array, mask: ak.Array) -> dict[str, np.ndarray]:
        return build_inputs(self.shipped.config, self.features(events, mask))


def breg() -> BRegressionTagger:
    """The shipped b-regression tagger (``jetml run --taggers breg``)."""
    return BRegressionTagger()
