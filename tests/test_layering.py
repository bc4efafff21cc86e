"""Deployment never imports training: no module under jetml/features, inference, taggers,
processor (nor the package root and the notebook API) reaches ``jetml.nn`` or torch, directly,
through other jetml modules, or lazily inside a function. ``jetml.labels`` stays numpy-only."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "jetml"
DEPLOYMENT = ("features", "inference", "taggers", "processor")
NOTEBOOK_API = (
    "__init__.py",
    "api.py",
    "plotting.py",
    "metrics.py",
    "labels.py",
    "results.py",
    "timing.py",
    "mutau.py",
    "normalisation.py",
    "resolution.py",
    "decorrelation.py",
    "evaluation.py",
    "substructure.py",
)
TRAINING = ("jetml.nn", "torch")


def module_name(path: Path) -> str:
    """Dotted name of a file under :data:`PACKAGE`."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(path: Path) -> set[str]:
    """Every module an ``import`` statement anywhere in ``path`` names (functions included),
    with relative imports resolved and ``from a import b`` giving both ``a`` and ``a.b``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = (
        module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    )
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names |= {f"{base}.{alias.name}" for alias in node.names}
    return names


def file_of(name: str) -> Path | None:
    """The source file of the jetml module ``name``, or None (not jetml, or not a module)."""
    if name != "jetml" and not name.startswith("jetml."):
        return None
    relative = Path(*name.split("."))
    for candidate in (PACKAGE.parent / relative / "__init__.py", PACKAGE.parent / f"{relative}.py"):
        if candidate.is_file():
            return candidate
    return None


def reachable(start: Path) -> dict[str, str]:
    """Every module imported from ``start`` or from the jetml modules it reaches, mapped to the
    jetml module that imports it first."""
    seen: dict[str, str] = {}
    pending = [start]
    visited: set[Path] = set()
    while pending:
        path = pending.pop()
        if path in visited:
            continue
        visited.add(path)
        for name in sorted(imported_names(path)):
            seen.setdefault(name, module_name(path))
            parts = name.split(".")
            for depth in range(1, len(parts) + 1):  # importing a.b.c runs a and a.b too
                if (found := file_of(".".join(parts[:depth]))) is not None:
                    pending.append(found)
    return seen


def offending(start: Path, forbidden: tuple[str, ...]) -> list[str]:
    """``module <- importer`` for each forbidden module reachable from ``start``."""
    return sorted(
        f"{name} <- {importer}"
        for name, importer in reachable(start).items()
        if any(name == f or name.startswith(f"{f}.") for f in forbidden)
    )


def deployment_modules() -> list[Path]:
    """The modules that must run without the ``train`` extra."""
    files = [p for folder in DEPLOYMENT for p in sorted((PACKAGE / folder).rglob("*.py"))]
    files += [PACKAGE / name for name in NOTEBOOK_API if (PACKAGE / name).is_file()]
    files += sorted(PACKAGE.glob("api*.py"))
    return sorted(set(files))


@pytest.mark.parametrize("path", deployment_modules(), ids=lambda p: module_name(p))
def test_deployment_module_never_reaches_training(path: Path) -> None:
    assert offending(path, TRAINING) == []


def test_labels_import_numpy_only() -> None:
    assert offending(PACKAGE / "labels.py", ("torch", "fastjet", "numba", "jetml.samples")) == []
    assert imported_names(PACKAGE / "labels.py") - {"__future__", "__future__.annotations"} <= {
        "dataclasses",
        "dataclasses.dataclass",
        "numpy",
    }


def test_walker_sees_lazy_relative_and_transitive_imports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the walker itself, on a package written for the purpose: a lazy import inside a function,
    # a relative one, and one reached through another jetml module
    package = tmp_path / "jetml"
    for folder in ("", "taggers", "processor", "nn"):
        (package / folder).mkdir(exist_ok=True)
        (package / folder / "__init__.py").write_text("")
    (package / "nn" / "training.py").write_text("import torch\n")
    lazy = package / "taggers" / "lazy.py"
    lazy.write_text("def f():\n    import torch\n    return torch\n")
    relative = package / "processor" / "relative.py"
    relative.write_text("from ..nn import training\n")
    through = package / "taggers" / "through.py"
    through.write_text("from jetml.processor.relative import x\n")
    monkeypatch.setitem(globals(), "PACKAGE", package)
    assert offending(lazy, TRAINING) == ["torch <- jetml.taggers.lazy"]
    assert "jetml.nn <- jetml.processor.relative" in offending(relative, TRAINING)
    assert "torch <- jetml.nn.training" in offending(through, TRAINING)
    assert offending(package / "taggers" / "__init__.py", TRAINING) == []
    monkeypatch.undo()
    assert len(deployment_modules()) > 30
