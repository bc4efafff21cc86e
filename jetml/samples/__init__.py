"""Open simulated samples: Pythia 8 events through a CMS-like detector model, written as PFNano.

``get(preset, events, seed)`` returns a cached file; ``produce`` writes one anywhere;
``PRESETS`` lists the physics processes. See docs/samples.md.
"""

from jetml.samples.cache import cache_dir, get
from jetml.samples.detector import DetectorModel
from jetml.samples.labels import DeepJetLabel, FatJetLabel
from jetml.samples.presets import PRESETS, Preset
from jetml.samples.production import GenerationRequest, produce

__all__ = [
    "PRESETS",
    "DeepJetLabel",
    "DetectorModel",
    "FatJetLabel",
    "GenerationRequest",
    "Preset",
    "cache_dir",
    "get",
    "produce",
]
