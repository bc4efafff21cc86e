"""Data configs: which arrays a model takes and how each variable is preprocessed.

Two formats describe the same thing and load into one :class:`DataConfig`:

* weaver-core YAML data configs (``inputs`` with ``length``/``pad_mode``/``vars``,
  ``new_variables``, ``selection``, ``labels``, optional ``preprocess.params``);
* CMS/weaver ``preprocess.json`` (``input_names``, per group ``var_names``, ``var_length`` or
  ``min_length``/``max_length``, ``var_infos``; ``output_names``), the file CMSSW reads.

Any config saves back to ``preprocess.json`` (:meth:`DataConfig.save_preprocess_json`), so a
model trained from a YAML config can be deployed the way CMSSW deploys it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from jetml.errors import ConfigError
from jetml.features.expressions import check_expression

PadMode = Literal["constant", "wrap"]
PAD_MODES: tuple[str, ...] = ("constant", "wrap")

#: Bounds weaver/CMSSW write for variables that are not standardised (no clipping in practice).
NO_BOUND = 1e32
#: Most candidates/slots one input group may pad to (CMS models use up to 100; a typo such as
#: 10**7 would otherwise allocate tens of GiB per batch).
MAX_GROUP_LENGTH = 4096

# weaver's defaults for a ``vars`` entry [name, center, scale, min, max, pad_value]
_WEAVER_DEFAULT_SCALE = 1.0
_WEAVER_DEFAULT_MIN = -5.0
_WEAVER_DEFAULT_MAX = 5.0
_WEAVER_DEFAULT_PAD = 0.0


@dataclass(frozen=True)
class VarInfo:
    """Preprocessing of one variable: ``clip((x' - center) * scale, lower, upper)``.

    ``x'`` is ``x`` with non-finite values (NaN, ±inf) and ``|x| >= 1e32`` replaced by
    ``replace_inf_value`` (CMSSW's ``catch_infs``); padded slots hold ``pad_value`` unchanged.
    """

    center: float = 0.0
    scale: float = 1.0
    lower_bound: float = -NO_BOUND
    upper_bound: float = NO_BOUND
    pad_value: float = 0.0
    replace_inf_value: float = 0.0


@dataclass(frozen=True)
class InputGroupConfig:
    """One model input: ``len(var_names)`` variables x a padded candidate axis."""

    name: str
    var_names: list[str]
    min_length: int
    max_length: int
    pad_mode: PadMode = "constant"
    vars: dict[str, VarInfo] = field(default_factory=dict)

    def resolve_length(self, length: int | None = None) -> int:
        """Padded length used for this group: ``max_length``, or ``length`` clamped to the range."""
        if length is None:
            return self.max_length
        return min(max(int(length), self.min_length), self.max_length)


@dataclass
class DataConfig:
    """A model's data config, whichever file format it came from."""

    input_names: list[str]
    inputs: dict[str, InputGroupConfig]
    output_names: list[str]
    new_variables: dict[str, str] = field(default_factory=dict)
    selection: str | None = None
    labels: dict[str, Any] = field(default_factory=dict)
    source: str = field(default="<memory>", compare=False)

    @property
    def var_names(self) -> list[str]:
        """All variables the inputs read, in first-use order, without repeats."""
        seen: dict[str, None] = {}
        for name in self.input_names:
            for var in self.inputs[name].var_names:
                seen.setdefault(var, None)
        return list(seen)

    def to_preprocess_dict(self) -> dict[str, Any]:
        """The ``preprocess.json`` content CMSSW reads (plus jetml's optional extensions)."""
        out: dict[str, Any] = {
            "output_names": list(self.output_names),
            "input_names": list(self.input_names),
        }
        for name in self.input_names:
            grp = self.inputs[name]
            entry: dict[str, Any] = {"var_names": list(grp.var_names)}
            if grp.min_length == grp.max_length:
                entry["var_length"] = grp.max_length
            else:
                entry["min_length"] = grp.min_length
                entry["max_length"] = grp.max_length
            if grp.pad_mode != "constant":
                entry["pad_mode"] = grp.pad_mode
            entry["var_infos"] = {
                var: {
                    "median": info.center,
                    "norm_factor": info.scale,
                    "replace_inf_value": info.replace_inf_value,
                    "lower_bound": info.lower_bound,
                    "upper_bound": info.upper_bound,
                    "pad": info.pad_value,
                }
                for var, info in grp.vars.items()
            }
            out[name] = entry
        if self.new_variables:
            out["new_variables"] = dict(self.new_variables)
        if self.selection:
            out["selection"] = self.selection
        return out

    def save_preprocess_json(self, path: str | Path) -> Path:
        """Write this config as ``preprocess.json`` and return the path."""
        path = Path(path)
        path.write_text(json.dumps(self.to_preprocess_dict(), indent=2) + "\n")
        return path


def load_data_config(path: str | Path) -> DataConfig:
    """Load a weaver YAML (``.yaml``/``.yml``) or a ``preprocess.json`` (``.json``) data config."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: data config file not found")
    suffix = path.suffix.lower()
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not a text file (data configs are UTF-8)") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from exc
    if suffix in (".yaml", ".yml"):
        try:
            raw = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML ({_first_line(exc)})") from exc
        return parse_weaver_yaml(raw, source=str(path))
    if suffix == ".json":
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}: not valid JSON ({exc})") from exc
        except RecursionError as exc:
            raise ConfigError(f"{path}: JSON nested too deeply") from exc
        return parse_preprocess_json(raw, source=str(path))
    raise ConfigError(f"{path}: unknown data config format (expected .yaml, .yml or .json)")


def parse_preprocess_json(raw: Any, *, source: str = "<memory>") -> DataConfig:
    """Build a :class:`DataConfig` from the parsed content of a ``preprocess.json``."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{source}: preprocess.json must hold a JSON object")
    input_names = _str_list(raw.get("input_names"), source, "input_names")
    output_names = _str_list(raw.get("output_names", []), source, "output_names")
    inputs: dict[str, InputGroupConfig] = {}
    for name in input_names:
        group = raw.get(name)
        if not isinstance(group, Mapping):
            raise ConfigError(f"{source}: input '{name}' is listed but has no group entry")
        var_names = _str_list(group.get("var_names"), source, f"{name}.var_names")
        if "var_length" in group:
            min_length = max_length = _int(group["var_length"], source, f"{name}.var_length")
        elif "min_length" in group and "max_length" in group:
            min_length = _int(group["min_length"], source, f"{name}.min_length")
            max_length = _int(group["max_length"], source, f"{name}.max_length")
        else:
            raise ConfigError(
                f"{source}: input '{name}' needs 'var_length' or 'min_length'/'max_length'"
            )
        infos = group.get("var_infos")
        if not isinstance(infos, Mapping):
            raise ConfigError(f"{source}: input '{name}' has no 'var_infos' object")
        vars_: dict[str, VarInfo] = {}
        for var in var_names:
            info = infos.get(var)
            if not isinstance(info, Mapping):
                raise ConfigError(f"{source}: input '{name}': variable '{var}' has no var_infos")
            vars_[var] = VarInfo(
                center=_float(info.get("median", 0.0), source, f"{var}.median"),
                scale=_float(info.get("norm_factor", 1.0), source, f"{var}.norm_factor"),
                lower_bound=_float(info.get("lower_bound", -NO_BOUND), source, f"{var}.lower"),
                upper_bound=_float(info.get("upper_bound", NO_BOUND), source, f"{var}.upper"),
                pad_value=_float(info.get("pad", 0.0), source, f"{var}.pad"),
                replace_inf_value=_float(info.get("replace_inf_value", 0.0), source, var),
            )
        inputs[name] = _group(
            name,
            var_names,
            min_length,
            max_length,
            group.get("pad_mode", "constant"),
            vars_,
            source,
        )
    new_variables = _new_variables(raw.get("new_variables", {}), source)
    selection = raw.get("selection")
    return DataConfig(
        input_names=input_names,
        inputs=inputs,
        output_names=output_names,
        new_variables=new_variables,
        selection=selection,
        labels={"type": "simple", "value": list(output_names)},
        source=source,
    )


def parse_weaver_yaml(raw: Any, *, source: str = "<memory>") -> DataConfig:
    """Build a :class:`DataConfig` from the parsed content of a weaver-core YAML data config."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{source}: weaver data config must be a YAML mapping")
    raw_inputs = raw.get("inputs")
    if not isinstance(raw_inputs, Mapping) or not raw_inputs:
        raise ConfigError(f"{source}: weaver data config has no 'inputs' section")
    preprocess = raw.get("preprocess") or {}
    method = str(preprocess.get("method", "manual")).lower()
    params = preprocess.get("params") or {}
    inputs: dict[str, InputGroupConfig] = {}
    for name, group in raw_inputs.items():
        if not isinstance(group, Mapping):
            raise ConfigError(f"{source}: input '{name}' must be a mapping")
        length = group.get("length")
        if length is None:
            raise ConfigError(
                f"{source}: input '{name}' has no 'length' (jetml builds padded inputs only)"
            )
        length = _int(length, source, f"{name}.length")
        pad_mode = str(group.get("pad_mode", "constant")).lower()
        if str(name).endswith("_mask") and pad_mode != "constant":
            raise ConfigError(f"{source}: mask input '{name}' must use pad_mode 'constant'")
        entries = group.get("vars")
        if not isinstance(entries, list) or not entries:
            raise ConfigError(f"{source}: input '{name}' has no 'vars' list")
        var_names: list[str] = []
        vars_: dict[str, VarInfo] = {}
        for entry in entries:
            items = list(entry) if isinstance(entry, (list, tuple)) else [entry]
            var = items[0]
            if not isinstance(var, str):
                raise ConfigError(f"{source}: input '{name}': variable entry {entry!r} has no name")
            if var in params:
                vars_[var] = _var_from_weaver_params(params[var], source, var)
            else:
                vars_[var] = _var_from_weaver_entry(items, method, source, name)
            var_names.append(var)
        inputs[name] = _group(str(name), var_names, length, length, pad_mode, vars_, source)
    labels = raw.get("labels") or {}
    return DataConfig(
        input_names=[str(k) for k in raw_inputs],
        inputs=inputs,
        output_names=_weaver_output_names(labels, source),
        new_variables=_new_variables(raw.get("new_variables") or {}, source),
        selection=raw.get("selection"),
        labels=dict(labels),
        source=source,
    )


def _var_from_weaver_entry(items: list[Any], method: str, source: str, group: str) -> VarInfo:
    """VarInfo from ``[name, center, scale, min, max, pad_value]`` with weaver's defaults."""
    default_center: Any = "auto" if method.startswith("auto") else None
    center = items[1] if len(items) > 1 else default_center
    if center == "auto":
        raise ConfigError(
            f"{source}: input '{group}': variable '{items[0]}' asks for automatic "
            "standardisation but the config holds no preprocess.params for it"
        )
    pad_value = _float(items[5], source, f"{items[0]}.pad_value") if len(items) > 5 else 0.0
    if center is None:
        return VarInfo(pad_value=pad_value)
    return VarInfo(
        center=_float(center, source, f"{items[0]}.center"),
        scale=_float(items[2] if len(items) > 2 else _WEAVER_DEFAULT_SCALE, source, items[0]),
        lower_bound=_float(items[3] if len(items) > 3 else _WEAVER_DEFAULT_MIN, source, items[0]),
        upper_bound=_float(items[4] if len(items) > 4 else _WEAVER_DEFAULT_MAX, source, items[0]),
        pad_value=pad_value,
    )


def _var_from_weaver_params(params: Any, source: str, var: str) -> VarInfo:
    """VarInfo from a ``preprocess.params`` entry written by weaver's auto-standardisation."""
    if not isinstance(params, Mapping):
        raise ConfigError(f"{source}: preprocess.params.{var} must be a mapping")
    center = params.get("center")
    pad_value = _float(params.get("pad_value", _WEAVER_DEFAULT_PAD), source, f"{var}.pad_value")
    if center is None:
        return VarInfo(pad_value=pad_value)
    if center == "auto":
        raise ConfigError(f"{source}: preprocess.params.{var} still has center 'auto'")
    return VarInfo(
        center=_float(center, source, f"{var}.center"),
        scale=_float(params.get("scale", _WEAVER_DEFAULT_SCALE), source, f"{var}.scale"),
        lower_bound=_float(params.get("min", _WEAVER_DEFAULT_MIN), source, f"{var}.min"),
        upper_bound=_float(params.get("max", _WEAVER_DEFAULT_MAX), source, f"{var}.max"),
        pad_value=pad_value,
    )


def _weaver_output_names(labels: Mapping[str, Any], source: str) -> list[str]:
    """Output names: the label list for ``type: simple``, the label keys otherwise."""
    if not labels:
        return []
    value = labels.get("value")
    if labels.get("type", "simple") == "simple":
        return _str_list(value, source, "labels.value")
    if isinstance(value, Mapping):
        return [str(k) for k in value]
    raise ConfigError(f"{source}: labels.value must be a list or mapping")


def _group(
    name: str,
    var_names: list[str],
    min_length: int,
    max_length: int,
    pad_mode: Any,
    vars_: dict[str, VarInfo],
    source: str,
) -> InputGroupConfig:
    """Validate and build one input group."""
    if pad_mode not in PAD_MODES:
        raise ConfigError(
            f"{source}: input '{name}': pad_mode {pad_mode!r} is not one of {PAD_MODES}"
        )
    if not 0 < min_length <= max_length:
        raise ConfigError(
            f"{source}: input '{name}': need 0 < min_length <= max_length, "
            f"got {min_length}, {max_length}"
        )
    if max_length > MAX_GROUP_LENGTH:
        raise ConfigError(
            f"{source}: input '{name}': length {max_length} exceeds {MAX_GROUP_LENGTH} slots"
        )
    if len(set(var_names)) != len(var_names):
        raise ConfigError(f"{source}: input '{name}' lists a variable twice")
    for var, info in vars_.items():
        if not info.lower_bound <= info.upper_bound:
            raise ConfigError(f"{source}: input '{name}': variable '{var}' has lower > upper bound")
    return InputGroupConfig(name, var_names, min_length, max_length, pad_mode, vars_)


def _new_variables(raw: Any, source: str) -> dict[str, str]:
    """Validate the ``new_variables`` expressions (whitelisted syntax only)."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{source}: new_variables must be a mapping of name -> expression")
    out: dict[str, str] = {}
    for name, expr in raw.items():
        if not isinstance(expr, str):
            raise ConfigError(f"{source}: new_variables.{name} must be a string expression")
        check_expression(expr, where=f"{source}: new_variables.{name}")
        out[str(name)] = expr
    return out


def _str_list(value: Any, source: str, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{source}: '{what}' must be a list of strings")
    return list(value)


def _int(value: Any, source: str, what: str) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or (isinstance(value, float) and not math.isfinite(value))
        or int(value) != value
    ):
        raise ConfigError(f"{source}: '{what}' must be an integer, got {value!r}")
    return int(value)


def _float(value: Any, source: str, what: str) -> float:
    """A finite number: NaN or ±inf (JSON ``Infinity``) would silently change every score."""
    number = float(value) if isinstance(value, float) else math.inf
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**1023:
        number = float(value)
    if not math.isfinite(number):
        raise ConfigError(f"{source}: '{what}' must be a finite number, got {_short(value)}")
    return number


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:40]}..."


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
