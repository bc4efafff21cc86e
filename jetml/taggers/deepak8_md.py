"""jetml's mass-decorrelated DeepAK8-MD (lite) on ``FatJet`` (shipped ``jetml/models/deepak8_md``).

Trained with a soft-drop-mass adversary; only the classifier is shipped. It takes the DeepAK8
inputs and gives the same discriminants (:mod:`jetml.taggers.deepak8`), compared with CMS's
``FatJet_deepTagMD_*`` where the file has them.
"""

from __future__ import annotations

from jetml.taggers.deepak8 import DeepAK8Tagger


def deepak8_md() -> DeepAK8Tagger:
    """The shipped DeepAK8-MD tagger (``jetml run --taggers deepak8_md``)."""
    return DeepAK8Tagger("deepak8_md")
