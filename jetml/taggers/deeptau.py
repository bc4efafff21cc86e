"""jetml's DeepTau-like τh identification on ``Tau`` (``jetml/models/deeptau``).

Inputs: :func:`jetml.features.deeptau.deeptau_inputs`, the recipe the training arrays were built
with -- high-level tau features standardised by the shipped ``preprocess.json``, inner / outer
η-φ grids of e/gamma, muon and hadron candidates standardised by the shipped ``grids.json``.
Scores are DeepTau's discriminants ``VSe``, ``VSmu``, ``VSjet`` = ``y_τ / (y_τ + y_alpha)``
(NanoAOD's ``rawDeepTau2017v2p1VS*`` convention; where a file has those CMS scores the processor
draws jetml-vs-CMS histograms). Truth labels come from ``Tau_genPartFlav``.
Nothing here imports torch.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import awkward as ak
import numpy as np

from jetml.features.deeptau import GridConfig, deeptau_inputs, required_branches
from jetml.labels import DEEPTAU_DISCRIMINANTS, Discriminant
from jetml.taggers.shipped import ShippedTagger

DISCRIMINANTS = DEEPTAU_DISCRIMINANTS
TAU_LABELS: tuple[str, ...] = ("jet", "e", "mu", "e", "mu", "tau")
"""Truth label of each ``Tau_genPartFlav`` code 0..5 (0 jet, 1/3 e, 2/4 μ, 5 τh)."""


class DeepTauTagger(ShippedTagger):
    """DeepTau on ``Tau`` (pT >= 20 GeV, |eta| < 2.3, as in training)."""

    discriminants: ClassVar[dict[str, Discriminant]] = DISCRIMINANTS

    collection = "Tau"
    score_names = tuple(DISCRIMINANTS)
    uses_pf_candidates = True
    reference_scores: ClassVar[dict[str, str]] = {
        name: f"rawDeepTau2017v2p1{name}" for name in DISCRIMINANTS
    }

    def __init__(self, folder: str | Path | None = None) -> None:
        super().__init__("deeptau", folder)
        self.grid_config = GridConfig.load(self.shipped.card.file("grid_config"))
        self.branches = required_branches()

    def model_inputs(self, events: ak.Array, mask: ak.Array) -> dict[str, np.ndarray]:
        return deeptau_inputs(events, mask, self.shipped.config, self.grid_config)

    def truth_labels(self, jets: ak.Array) -> ak.Array | None:
        """``e``, ``mu``, ``jet`` or ``tau`` from ``genPartFlav``; None without it (data)."""
        if "genPartFlav" not in jets.fields:
            return None
        flav = ak.values_astype(jets.genPartFlav, np.int64)
        flat = ak.to_numpy(ak.flatten(flav, axis=None))
        return ak.unflatten(np.array(TAU_LABELS)[np.clip(flat, 0, 5)], ak.num(flav, axis=1))

    @property
    def labels(self) -> tuple[str, ...]:
        return ("e", "mu", "jet", "tau", "unlabelled")


def deeptau() -> DeepTauTagger:
    """The shipped DeepTau tagger (``jetml run --taggers deeptau``)."""
    return DeepTauTagger()
