"""Exception types shared across jetml.

Every error a user can cause derives from :class:`JetmlError`; its message is one line that names
the file, branch or model at fault and the cause, so the CLI can print it without a traceback.
"""

from __future__ import annotations


class JetmlError(Exception):
    """Base class for user-facing jetml errors (printed as one line by the CLI)."""


class InputFileError(JetmlError):
    """A ROOT input file is missing, unreadable, truncated or lacks the expected tree."""


class ConfigError(JetmlError):
    """A data config (weaver YAML, preprocess.json, model card) is invalid or unsafe."""


class ModelInputError(JetmlError):
    """Arrays handed to a model do not match its signature (name, dtype or shape)."""


class ModelIntegrityError(JetmlError):
    """A model file is missing, is not ONNX, or does not match its recorded sha256."""


class OutputFileError(JetmlError):
    """An output file exists (without overwrite), or its location is not writable."""
