"""Copies of real NanoAOD files with one thing changed, for hostile-input tests.

:func:`copy_events` rewrites a file's ``Events`` tree with uproot as NanoAOD does (``nX``
counters, ``X_field`` jagged branches), leaving out branches or changing values.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from pathlib import Path

import awkward as ak
import numpy as np
import uproot


def copy_events(
    source: Path,
    target: Path,
    *,
    drop: Collection[str] = (),
    edit: Mapping[str, Callable[[np.ndarray], np.ndarray]] | None = None,
    only: Collection[str] | None = None,
) -> Path:
    """Write ``source``'s Events to ``target`` without ``drop`` and with ``edit[branch]`` applied
    to the flat values of each edited branch; return ``target``.

    ``only``: keep just the event IDs and these collections/branches (faster copies).
    """
    edit = dict(edit or {})
    tree = uproot.open(source)["Events"]
    names = [name for name in tree.keys() if name not in drop]
    if only is not None:
        wanted = {"run", "luminosityBlock", "event", *only}
        names = [
            name
            for name in names
            if name in wanted or name.partition("_")[0] in wanted or name[1:] in wanted
        ]
    arrays = tree.arrays(names, how=dict)
    counted = {
        name[1:]
        for name in names
        if name.startswith("n") and any(other.startswith(f"{name[1:]}_") for other in names)
    }
    counted_alone = {name for name in names if "_" not in name and f"n{name}" in names}
    columns: dict[str, object] = {}
    collections: dict[str, dict[str, ak.Array]] = {}
    for name, array in arrays.items():
        if name in edit:
            flat = np.array(ak.to_numpy(ak.flatten(array, axis=None)))
            values = edit[name](flat)
            array = ak.unflatten(values, ak.num(array)) if array.ndim > 1 else values
        prefix = name.partition("_")[0]
        if prefix in counted and name != f"n{prefix}":
            collections.setdefault(prefix, {})[name[len(prefix) + 1 :]] = array
        elif name in counted_alone:  # a jagged branch with its own counter: uproot writes nX
            columns[name] = array
        elif not (name.startswith("n") and (name[1:] in counted or name[1:] in counted_alone)):
            columns[name] = ak.to_numpy(array)
    columns |= {prefix: ak.zip(fields) for prefix, fields in collections.items()}
    types = {
        key: value.type.content
        if isinstance(value, ak.Array)
        else np.dtype((value.dtype, value.shape[1:]))
        for key, value in columns.items()
    }
    with uproot.recreate(target) as out:
        out.mktree("Events", types).extend(columns)
    return target
