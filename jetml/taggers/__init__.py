"""Taggers: networks that jetml evaluates on jets of NanoAOD/PFNano events (see :mod:`.base`)."""

from jetml.taggers.base import Tagger, branch_available

__all__ = ["Tagger", "branch_available"]
