"""Resonance truth of AK8 jets for the processor's score histograms.

jetml's generated samples carry ``FatJet_label`` (the 17 DeepAK8 classes of
:data:`jetml.labels.DEEPAK8_CLASSES`); score-per-truth histograms of AK8 taggers are far more
telling by resonance (top, W, Z, H→bb, ...) than by hadron flavour. Real CMS NanoAOD has no such
branch, so the taggers fall back to ``hadronFlavour`` there.
"""

from __future__ import annotations

import awkward as ak
import numpy as np

from jetml.errors import InputFileError
from jetml.labels import DEEPAK8_CLASSES
from jetml.taggers.base import FLAVOUR_LABELS, UNLABELLED, Tagger

_HIGGS_GROUPS = {"H_bb": "Hbb", "H_cc": "Hcc", "H_qqqq": "H4q"}
_PREFIX_GROUPS = {"Top": "top", "W": "W", "Z": "Z", "QCD": "QCD"}
RESONANCE_LABELS: tuple[str, ...] = ("top", "W", "Z", "Hbb", "Hcc", "H4q", "QCD")
# Group of each of the 17 DeepAK8 classes, indexed by the FatJet_label value.
_GROUP_OF_CLASS = np.array(
    [_HIGGS_GROUPS.get(name) or _PREFIX_GROUPS[name.split("_")[0]] for name in DEEPAK8_CLASSES]
)


def resonance_labels(jets: ak.Array) -> ak.Array | None:
    """Jagged resonance-group names of ``jets`` from ``label`` (``FatJet_label``), or None."""
    if "label" not in jets.fields:
        return None
    codes = ak.values_astype(jets.label, np.int64)
    flat = ak.to_numpy(ak.flatten(codes, axis=None))
    if flat.size and (flat.min() < 0 or flat.max() >= len(_GROUP_OF_CLASS)):
        raise InputFileError(
            f"FatJet_label: values {flat.min()}..{flat.max()} outside the DeepAK8 classes "
            f"0..{len(_GROUP_OF_CLASS) - 1}"
        )
    return ak.unflatten(_GROUP_OF_CLASS[flat], ak.num(codes, axis=1))


class ResonanceTruth(Tagger):
    """Mixin for AK8 taggers: truth by resonance from ``FatJet_label``, else by hadron flavour."""

    truth_fields = ("label",)

    def truth_labels(self, jets: ak.Array) -> ak.Array | None:
        resonance = resonance_labels(jets)
        return resonance if resonance is not None else super().truth_labels(jets)

    @property
    def labels(self) -> tuple[str, ...]:
        return (*RESONANCE_LABELS, *FLAVOUR_LABELS, UNLABELLED)
