"""Truth-label enums written into the samples.

``FatJetLabel`` is the 17-class DeepAK8 scheme (CMS-JME-18-002, Table 1), written as
``FatJet_label``; ``DeepJetLabel`` is the 6-class DeepJet scheme (CMS-BTV-16-002 / DeepJet),
written as ``Jet_deepJetLabel``. The integer values are the class indices in the order the CMS
trainings use, so they can be used directly as training targets.
"""

from __future__ import annotations

import enum


class FatJetLabel(enum.IntEnum):
    """DeepAK8 truth classes of an AK8 jet (resonance and decay quarks within dR < 0.8)."""

    Top_bcq = 0
    Top_bqq = 1
    Top_bc = 2
    Top_bq = 3
    W_cq = 4
    W_qq = 5
    Z_bb = 6
    Z_cc = 7
    Z_qq = 8
    H_bb = 9
    H_cc = 10
    H_qqqq = 11
    QCD_bb = 12
    QCD_cc = 13
    QCD_b = 14
    QCD_c = 15
    QCD_others = 16


class DeepJetLabel(enum.IntEnum):
    """DeepJet truth classes of an AK4 jet; ``undefined`` marks jets without a parton match."""

    undefined = -1
    b = 0
    bb = 1
    lepb = 2
    c = 3
    uds = 4
    g = 5
