"""Output files: checked before the work that fills them, written whole or not at all."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from jetml.errors import OutputFileError


def check_output_path(path: Path, *, overwrite: bool) -> None:
    """Raise OutputFileError when ``path`` exists without ``overwrite`` or cannot be written."""
    if path.exists() and not overwrite:
        raise OutputFileError(f"{path}: output exists (use --overwrite to replace it)")
    if path.exists() and path.is_dir():
        raise OutputFileError(f"{path}: output path is a directory")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise OutputFileError(f"{path}: folder {parent} does not exist")
    check_writable_folder(path, parent)


def check_writable_folder(target: Path, folder: Path) -> None:
    """Raise OutputFileError naming ``target`` when nothing can be written into ``folder``.

    A real write probe: ``os.access`` says yes to root even where writing fails."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise OutputFileError(
            f"{target}: folder {folder} is not writable ({error.strerror})"
        ) from error


def write_text_atomically(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it into place."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        partial.write_text(text)
        os.replace(partial, path)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise OutputFileError(f"{path}: cannot write ({error.strerror})") from error
