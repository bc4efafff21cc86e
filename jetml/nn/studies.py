"""Train the study models of :data:`jetml.evaluation.STUDY_MODELS` in this process, exactly as
``make study-models`` does (``jetml train`` with the same arguments), e.g. tiny versions for a
notebook's QUICK mode."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from jetml.cli import main
from jetml.evaluation import study_train_command


def train_study_models(
    names: Sequence[str],
    data: Sequence[str | os.PathLike[str]],
    folder: str | os.PathLike[str],
    *,
    epochs: int | None = None,
    max_jets: int | None = None,
) -> dict[str, Path]:
    """Train each study model ``name`` into ``folder/name`` (skipped when its card already
    exists there); ``{name: model folder}``. RuntimeError naming the model when a training
    fails."""
    folders: dict[str, Path] = {}
    for name in names:
        out = Path(folder) / name
        if not (out / f"{name}.card.json").is_file():
            argv = study_train_command(name, data, out, epochs=epochs, max_jets=max_jets)
            if (code := main(argv)) != 0:
                raise RuntimeError(f"study model {name}: jetml train exited with {code}")
        folders[name] = out
    return folders
