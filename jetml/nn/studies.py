"""Train the study models of :data:`jetml.evaluation.STUDY_MODELS` in this process, exactly as
``make study-models`` does (``jetml train`` with the same arguments), e.g. tiny versions for a
notebook's QUICK mode."""

from __future__ import annotations

import contextlib
import io
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
    quiet: bool = False,
) -> dict[str, Path]:
    """Train each study model ``name`` into ``folder/name`` (skipped when its card already
    exists there); ``{name: model folder}``. ``quiet`` drops ``jetml train``'s printed report
    (the card keeps it). RuntimeError naming the model when a training fails."""
    folders: dict[str, Path] = {}
    for name in names:
        out = Path(folder) / name
        if not (out / f"{name}.card.json").is_file():
            argv = study_train_command(name, data, out, epochs=epochs, max_jets=max_jets)
            sink = io.StringIO() if quiet else None
            with contextlib.redirect_stdout(sink) if sink else contextlib.nullcontext():
                code = main(argv)
            if code != 0:
                raise RuntimeError(f"study model {name}: jetml train exited with {code}")
        folders[name] = out
    return folders
