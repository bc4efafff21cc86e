"""Study results as JSON: what a notebook measured, with the jetml version, samples, seeds,
parameters, machine and wall time that produced it.

Notebooks write ``notebooks/results/<name>.json`` with :func:`write_results` (never by hand);
CI reads them back with :func:`check_results`, which refuses a file whose numbers are not all
finite. Torch-free (part of the notebook API).
"""

from __future__ import annotations

import datetime
import json
import math
import os
import platform
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jetml import __version__

REQUIRED_KEYS = ("notebook", "jetml_version", "samples", "seeds", "parameters", "results")


def cpu_model() -> str:
    """The CPU model name (``/proc/cpuinfo`` on Linux, else what ``platform`` knows)."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    return platform.processor() or platform.machine()


def machine_info() -> dict[str, Any]:
    """CPU model, logical cores (all, and usable by this process), load, Python and platform."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": cpu_model(),
        "logical_cores": os.cpu_count(),
        "usable_cores": usable,
        "load_average_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def non_finite(value: Any, where: str = "results") -> list[str]:
    """Paths of the numbers in ``value`` (nested dicts/lists) that are not finite, and of
    entries that are None or not JSON scalars/containers (numpy scalars count as numbers)."""
    if getattr(value, "ndim", None) == 0 and hasattr(value, "item"):
        value = value.item()
    if isinstance(value, bool) or isinstance(value, str):
        return []
    if isinstance(value, int | float):
        return [] if math.isfinite(value) else [f"{where} = {value}"]
    if isinstance(value, Mapping):
        return [bad for k, v in value.items() for bad in non_finite(v, f"{where}.{k}")]
    if isinstance(value, list | tuple):
        return [bad for i, v in enumerate(value) for bad in non_finite(v, f"{where}[{i}]")]
    return [f"{where} = {value!r} (not a number, string or container)"]


def write_results(
    name: str,
    results: Mapping[str, Any],
    *,
    samples: Mapping[str, Any],
    seeds: Mapping[str, int],
    parameters: Mapping[str, Any],
    results_dir: str | os.PathLike[str] = "results",
    wall_seconds: float | None = None,
) -> Path:
    """Write ``<results_dir>/<name>.json`` (atomically) and return its path.

    Raises ValueError, writing nothing, when a number in ``results`` is not finite (NaN, inf)
    or an entry is None: a headline number must be a measurement (report a limit as its own
    number instead).
    """
    if bad := non_finite(dict(results)):
        raise ValueError(f"{name}: results not finite: {'; '.join(bad)}")
    record = {
        "notebook": name,
        "jetml_version": __version__,
        "created_utc": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "wall_seconds": wall_seconds,
        "machine": machine_info(),
        "parameters": dict(parameters),
        "samples": dict(samples),
        "seeds": dict(seeds),
        "results": dict(results),
    }
    folder = Path(results_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(record, indent=2, default=_json_default) + "\n")
    partial.replace(path)
    return path


def _json_default(value: Any) -> Any:
    """numpy scalars and paths in results → plain JSON."""
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"cannot write {type(value).__name__} {value!r} to a results file")


def check_results(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a results file; ValueError naming the file and the cause when it lacks a required
    key, has no numbers, or holds a number that is not finite."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no results file")
    try:
        record = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not JSON ({error})") from error
    if missing := [key for key in REQUIRED_KEYS if key not in record]:
        raise ValueError(f"{path}: lacks {', '.join(missing)}")
    if not _has_number(record["results"]):
        raise ValueError(f"{path}: results hold no number")
    if bad := non_finite(record["results"]):
        raise ValueError(f"{path}: not finite: {'; '.join(bad)}")
    return record


def _has_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    if isinstance(value, Mapping):
        return any(_has_number(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_number(v) for v in value)
    return False
