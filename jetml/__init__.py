"""jetml: deep-learning jet and tau taggers deployed in columnar coffea analysis.

Data flow: ``jetml.samples`` (open PFNano-format events) → ``jetml.features`` (padded tensors
from jagged candidates) → ``jetml.inference`` (shared ONNX Runtime sessions) →
``jetml.processor`` (coffea processor) → notebooks.
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

__all__ = [
    "ConfigError",
    "InputFileError",
    "JetmlError",
    "ModelInputError",
    "ModelIntegrityError",
    "__version__",
]
