"""Shared fixtures: the real CMS files beside the project (``../shared``)."""

from __future__ import annotations

from pathlib import Path

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
