"""Architecture names -> network classes, so a model card can rebuild its torch network."""

from __future__ import annotations

from typing import Any

from jetml.errors import ConfigError
from jetml.nn.base import TaggerNet
from jetml.nn.breg import BRegression
from jetml.nn.deepak8 import DeepAK8
from jetml.nn.deepdoublex import DeepDoubleX
from jetml.nn.deepjet import DeepJet
from jetml.nn.deeptau import DeepTau

ARCHITECTURES: dict[str, type[TaggerNet]] = {
    cls.architecture: cls for cls in (DeepAK8, DeepJet, DeepDoubleX, DeepTau, BRegression)
}


def build(architecture: str, config: dict[str, Any]) -> TaggerNet:
    """A fresh network of ``architecture`` with constructor arguments ``config``."""
    if architecture not in ARCHITECTURES:
        raise ConfigError(
            f"unknown architecture '{architecture}' (known: {', '.join(sorted(ARCHITECTURES))})"
        )
    try:
        return ARCHITECTURES[architecture](**config)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"architecture '{architecture}': bad configuration ({error})") from error
