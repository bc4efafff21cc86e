"""Shared ONNX Runtime sessions: integrity-checked models, batching, per-model counters."""

from jetml.errors import ConfigError, ModelInputError, ModelIntegrityError
from jetml.inference import counters
from jetml.inference.card import ModelCard, card_path_for, load_card, write_card
from jetml.inference.model import (
    DEFAULT_BATCH_SIZE,
    OnnxModel,
    TensorSpec,
    clear_session_cache,
    sessions_in_process,
)

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "ConfigError",
    "ModelCard",
    "ModelInputError",
    "ModelIntegrityError",
    "OnnxModel",
    "TensorSpec",
    "card_path_for",
    "clear_session_cache",
    "counters",
    "load_card",
    "sessions_in_process",
    "write_card",
]
