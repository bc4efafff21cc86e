"""Shared fixtures: the real CMS files beside the project (``../shared``) and the toy taggers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import processor_taggers
import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CMS_NANO = PROJECT_ROOT.parent / "shared" / "data" / "cms-nano"
CMS_MODELS = PROJECT_ROOT.parent / "shared" / "models" / "cms"


@pytest.fixture(scope="session")
def cms_nano() -> Path:
    """Folder of the real CMS NanoAOD/PFNano files."""
    if not CMS_NANO.is_dir():
        pytest.skip(f"real CMS NanoAOD files not found at {CMS_NANO}")
    return CMS_NANO


@pytest.fixture(scope="session")
def cms_models() -> Path:
    """Folder of the real CMS ONNX models."""
    if not CMS_MODELS.is_dir():
        pytest.skip(f"real CMS models not found at {CMS_MODELS}")
    return CMS_MODELS


@pytest.fixture(scope="module")
def toy_models(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Folder of the small ONNX test taggers (built once per module), exported to the taggers."""
    folder = tmp_path_factory.mktemp("toy_models")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(processor_taggers.MODELS_ENV, str(folder))
        processor_taggers.models_dir()
        yield folder
