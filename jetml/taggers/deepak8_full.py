"""The full-size (width 1, ~0.5 M parameters) DeepAK8 network, shipped UNTRAINED for timing.

``jetml/models/deepak8_full`` is the published DeepAK8 size exported with ``--epochs 0``
(card ``trained: false``): its scores carry no physics, its cost per jet is that of the real
network, which is what the timing table compares with the lite ``deepak8``. Inputs and scores as
:mod:`jetml.taggers.deepak8`.
"""

from __future__ import annotations

from jetml.taggers.deepak8 import DeepAK8Tagger


def deepak8_full() -> DeepAK8Tagger:
    """The untrained full-size DeepAK8 (``jetml run --taggers deepak8_full``), for timing."""
    return DeepAK8Tagger("deepak8_full")
