"""Output names and input lengths of jetml's networks, without torch.

The deployment side (taggers, feature recipes) needs these names but must run without the
``train`` extra, so they live here rather than beside the torch architectures that use them.
"""

from __future__ import annotations

DEEPAK8_CLASSES: tuple[str, ...] = (
    "Top_bcq",
    "Top_bqq",
    "Top_bc",
    "Top_bq",
    "W_cq",
    "W_qq",
    "Z_bb",
    "Z_cc",
    "Z_qq",
    "H_bb",
    "H_cc",
    "H_qqqq",
    "QCD_bb",
    "QCD_cc",
    "QCD_b",
    "QCD_c",
    "QCD_others",
)
"""The 17 DeepAK8 output classes, in the order of CMS's ``pfDeepBoostedJetTags`` (probTbcq...)."""

PF_LENGTH = 100
"""Particles per DeepAK8 jet (pT-descending)."""
SV_LENGTH = 7
"""Secondary vertices per DeepAK8 jet (dxy-significance-descending)."""

DEEPJET_CLASSES: tuple[str, ...] = ("b", "bb", "lepb", "c", "uds", "g")
"""DeepJet output classes, in CMS order (probb, probbb, problepb, probc, probuds, probg)."""

DEEPDOUBLEX_CLASSES: tuple[str, ...] = ("QCD", "Hbb", "Hcc")
"""Output classes of jetml's DeepDoubleX."""

REGRESSION_OUTPUTS: tuple[str, ...] = ("correction", "q25", "q75")
"""b-jet regression outputs: pT correction factor and its 25% / 75% quantiles."""
