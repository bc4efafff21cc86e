"""jetml: deep-learning jet and tau taggers deployed in columnar coffea analysis.

Data flow: ``jetml.samples`` (open PFNano-format events) → ``jetml.features`` (padded tensors
from jagged candidates) → ``jetml.inference`` (shared ONNX Runtime sessions) →
``jetml.processor`` (coffea processor) → notebooks.

The notebook API (:mod:`jetml.api`) is available at the top level and imported on first use,
so ``import jetml`` stays light: ``jetml.sample``, ``jetml.open_events``, ``jetml.tag``,
``jetml.run``, ... ; figures and metrics are in :mod:`jetml.plotting` and :mod:`jetml.metrics`.
"""

from importlib.metadata import PackageNotFoundError, version

from jetml.errors import (
    ConfigError,
    InputFileError,
    JetmlError,
    ModelInputError,
    ModelIntegrityError,
)

try:
    __version__ = version("jetml")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

_API = (
    "cms_taggers",
    "describe",
    "describe_selection",
    "histograms",
    "load_taggers",
    "open_events",
    "reference_scores",
    "run",
    "sample",
    "scores_by_truth",
    "tag",
    "timing_markdown",
    "timing_rows",
)


def __getattr__(name: str) -> object:
    """The notebook API functions of :mod:`jetml.api`, imported on first access."""
    if name in _API:
        from jetml import api

        return getattr(api, name)
    raise AttributeError(f"module 'jetml' has no attribute {name!r}")


__all__ = [
    *_API,
    "ConfigError",
    "InputFileError",
    "JetmlError",
    "ModelInputError",
    "ModelIntegrityError",
    "__version__",
]
