"""Which taggers ``jetml run --taggers`` can name.

:data:`REGISTERED` maps a short name to ``"module:factory"``; modules that ship taggers add their
entries here. Any tagger can also be named by import path, ``package.module:factory``, where
``factory`` is a :class:`Tagger` instance, or a callable returning one or a sequence of them:
that is how an analysis plugs in its own tagger without changing jetml.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence

from jetml.errors import ConfigError
from jetml.taggers.base import Tagger

REGISTERED: dict[str, str] = {
    "deepak8": "jetml.taggers.deepak8:deepak8",
    "deepak8_md": "jetml.taggers.deepak8_md:deepak8_md",
    "deepak8_full": "jetml.taggers.deepak8_full:deepak8_full",
    "deepjet": "jetml.taggers.deepjet:deepjet",
    "deepdoublex": "jetml.taggers.deepdoublex:deepdoublex",
    "breg": "jetml.taggers.breg:breg",
    "deeptau": "jetml.taggers.deeptau:deeptau",
}
"""The taggers of the models shipped in ``jetml/models`` (``--taggers all`` runs them all)."""


def resolve_taggers(spec: str) -> list[Tagger]:
    """Taggers for ``spec``: ``all``, or comma-separated registered names / import paths."""
    items = [item.strip() for item in spec.split(",") if item.strip()]
    if not items:
        raise ConfigError("--taggers: no tagger named")
    if items == ["all"]:
        if not REGISTERED:
            raise ConfigError(
                "--taggers all: no tagger is registered in this installation; "
                "name one as MODULE:FACTORY"
            )
        items = list(REGISTERED)
    taggers: list[Tagger] = []
    for item in items:
        target = REGISTERED.get(item, item)
        if ":" not in target:
            known = ", ".join(sorted(REGISTERED)) or "none registered"
            raise ConfigError(
                f"--taggers: unknown tagger {item!r} (known: {known}; or MODULE:FACTORY)"
            )
        taggers += _load(target)
    return taggers


def _load(target: str) -> list[Tagger]:
    """Import ``module:attribute`` and turn it into taggers."""
    module_name, _, attribute = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ConfigError(f"--taggers {target}: cannot import {module_name} ({error})") from error
    try:
        factory = getattr(module, attribute)
    except AttributeError as error:
        raise ConfigError(f"--taggers {target}: {module_name} has no {attribute!r}") from error
    made = factory() if callable(factory) and not isinstance(factory, Tagger) else factory
    found = [made] if isinstance(made, Tagger) else made
    if not isinstance(found, Sequence) or not all(isinstance(t, Tagger) for t in found):
        raise ConfigError(f"--taggers {target}: did not give a Tagger or a list of Taggers")
    return list(found)
