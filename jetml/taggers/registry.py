"""Which taggers ``jetml run --taggers`` can name.

:data:`REGISTERED` maps a short name to ``"module:factory"``; modules that ship taggers add their
entries here. Any tagger can also be named by import path, ``package.module:factory``, where
``factory`` is a :class:`Tagger` instance, a :class:`Tagger` subclass (built without arguments),
or a function whose return annotation is a Tagger (subclass) or a list/sequence of them: that is
how an analysis plugs in its own tagger without changing jetml. Nothing else is called, so
``--taggers os:abort`` or ``sys:exit`` is refused instead of run.
"""

from __future__ import annotations

import collections.abc
import importlib
import inspect
import re
import typing
from collections.abc import Sequence
from typing import Any

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

_IMPORT_PATH = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*")
_SEQUENCE_ORIGINS = (list, tuple, collections.abc.Sequence)


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
    """Import ``module:attribute`` and turn it into taggers (see the module docstring)."""
    if not _IMPORT_PATH.fullmatch(target):
        raise ConfigError(f"--taggers {target!r}: not a tagger name nor a MODULE:FACTORY path")
    module_name, _, attribute = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ConfigError(f"--taggers {target}: cannot import {module_name} ({error})") from error
    except Exception as error:
        raise ConfigError(
            f"--taggers {target}: importing {module_name} failed ({_one_line(error)})"
        ) from error
    try:
        factory = getattr(module, attribute)
    except AttributeError as error:
        raise ConfigError(f"--taggers {target}: {module_name} has no {attribute!r}") from error
    if isinstance(factory, Tagger):
        return [factory]
    if not (inspect.isclass(factory) and issubclass(factory, Tagger)) and not _is_factory(factory):
        raise ConfigError(
            f"--taggers {target}: not a Tagger, a Tagger subclass, or a function annotated to "
            f"return Tagger(s) (it is {type(factory).__name__}); refused without calling it"
        )
    try:
        made = factory()
    except ConfigError:
        raise
    except (Exception, SystemExit) as error:
        raise ConfigError(
            f"--taggers {target}: {attribute}() failed ({_one_line(error)})"
        ) from error
    found = [made] if isinstance(made, Tagger) else made
    if not isinstance(found, Sequence) or not all(isinstance(t, Tagger) for t in found):
        raise ConfigError(f"--taggers {target}: did not give a Tagger or a list of Taggers")
    return list(found)


def _is_factory(candidate: Any) -> bool:
    """True for a plain function whose return annotation is Tagger(s)."""
    if not inspect.isfunction(candidate):
        return False
    try:
        returned = typing.get_type_hints(candidate).get("return")
    except Exception:  # annotations naming what the module cannot resolve
        return False
    if typing.get_origin(returned) in _SEQUENCE_ORIGINS:
        items = [a for a in typing.get_args(returned) if a is not Ellipsis]
        return bool(items) and all(_is_tagger_type(a) for a in items)
    return _is_tagger_type(returned)


def _is_tagger_type(annotation: Any) -> bool:
    return inspect.isclass(annotation) and issubclass(annotation, Tagger)


def _one_line(error: BaseException) -> str:
    """``Type: first line`` of an exception."""
    text = (str(error).strip().splitlines() or [""])[0]
    return f"{type(error).__name__}: {text}".rstrip(": ")
