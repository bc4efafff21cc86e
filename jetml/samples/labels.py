"""Truth-label enums written into the samples.

``FatJetLabel`` is the 17-class DeepAK8 scheme (CMS-JME-18-002, Table 1), written as
``FatJet_label``; ``DeepJetLabel`` is the 6-class DeepJet scheme (CMS-BTV-16-002 / DeepJet),
written as ``Jet_deepJetLabel``. The integer values are the class indices of the class lists in
:mod:`jetml.labels` (the order the CMS trainings use), so they are directly training targets.
"""

from __future__ import annotations

import enum

from jetml.labels import DEEPAK8_CLASSES, DEEPJET_CLASSES

FatJetLabel = enum.IntEnum("FatJetLabel", {name: i for i, name in enumerate(DEEPAK8_CLASSES)})
"""DeepAK8 truth classes of an AK8 jet (resonance and decay quarks within dR < 0.8)."""

DeepJetLabel = enum.IntEnum(
    "DeepJetLabel", {"undefined": -1, **{name: i for i, name in enumerate(DEEPJET_CLASSES)}}
)
"""DeepJet truth classes of an AK4 jet; ``undefined`` marks jets without a parton match."""
