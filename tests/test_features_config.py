"""Data configs: weaver YAML and preprocess.json loading, validation and round trip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jetml.errors import ConfigError
from jetml.features import VarInfo, load_data_config

WEAVER_YAML = """
selection: (jet_pt > 200)
new_variables:
  pfcand_mask: ak.ones_like(pfcand_etarel)
  pfcand_pt_log: np.log(pfcand_pt)
preprocess:
  method: manual
inputs:
  pf_points:
    length: 50
    pad_mode: wrap
    vars:
      - [pfcand_etarel, null]
      - [pfcand_phirel, null]
  pf_features:
    length: 50
    pad_mode: wrap
    vars:
      - [pfcand_pt_log, 1.0, 0.5]
      - [pfcand_etarel, null]
      - [pfcand_d0, 0.0, 2.0, -3, 3, -1]
  pf_mask:
    length: 50
    pad_mode: constant
    vars:
      - pfcand_mask
labels:
  type: simple
  value: [label_top, label_qcd]
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_weaver_yaml_semantics(tmp_path: Path) -> None:
    cfg = load_data_config(_write(tmp_path, "cfg.yaml", WEAVER_YAML))
    assert cfg.input_names == ["pf_points", "pf_features", "pf_mask"]
    assert cfg.output_names == ["label_top", "label_qcd"]
    feats = cfg.inputs["pf_features"]
    assert feats.var_names == ["pfcand_pt_log", "pfcand_etarel", "pfcand_d0"]
    assert (feats.min_length, feats.max_length, feats.pad_mode) == (50, 50, "wrap")
    # weaver defaults: min -5, max 5, pad 0; null center = no standardisation
    assert feats.vars["pfcand_pt_log"] == VarInfo(1.0, 0.5, -5.0, 5.0, 0.0, 0.0)
    assert feats.vars["pfcand_etarel"] == VarInfo(0.0, 1.0, -1e32, 1e32, 0.0, 0.0)
    assert feats.vars["pfcand_d0"] == VarInfo(0.0, 2.0, -3.0, 3.0, -1.0, 0.0)
    assert cfg.new_variables["pfcand_pt_log"] == "np.log(pfcand_pt)"
    assert cfg.selection == "(jet_pt > 200)"


def test_cms_preprocess_json(cms_models: Path) -> None:
    cfg = load_data_config(cms_models / "particlenet_ak8_v01" / "preprocess.json")
    assert cfg.input_names == [
        "pf_points",
        "pf_features",
        "pf_mask",
        "sv_points",
        "sv_features",
        "sv_mask",
    ]
    assert len(cfg.output_names) == 20
    pf = cfg.inputs["pf_features"]
    assert len(pf.var_names) == 25
    assert (pf.min_length, pf.max_length) == (16, 100)
    assert pf.resolve_length(None) == 100
    assert pf.resolve_length(3) == 16
    assert pf.resolve_length(40) == 40
    assert pf.resolve_length(500) == 100
    assert pf.vars["pfcand_pt_log_nopuppi"] == VarInfo(1.0, 0.5, -5.0, 5.0, 0.0, 0.0)
    sv = cfg.inputs["sv_features"]
    assert (sv.min_length, sv.max_length) == (1, 10)


@pytest.mark.parametrize("source", ["yaml", "cms"])
def test_round_trip_through_preprocess_json(tmp_path: Path, cms_models: Path, source: str) -> None:
    if source == "yaml":
        original = load_data_config(_write(tmp_path, "cfg.yaml", WEAVER_YAML))
    else:
        original = load_data_config(cms_models / "particlenet_ak8_v01" / "preprocess.json")
    saved = original.save_preprocess_json(tmp_path / "preprocess.json")
    reloaded = load_data_config(saved)
    assert reloaded.input_names == original.input_names
    assert reloaded.inputs == original.inputs
    assert reloaded.output_names == original.output_names
    assert reloaded.new_variables == original.new_variables
    # and a second save is byte-identical
    again = reloaded.save_preprocess_json(tmp_path / "again.json")
    assert again.read_text() == saved.read_text()


def test_cms_json_saved_as_cms_reads_it(tmp_path: Path, cms_models: Path) -> None:
    original = json.loads((cms_models / "particlenet_ak8_v01" / "preprocess.json").read_text())
    cfg = load_data_config(cms_models / "particlenet_ak8_v01" / "preprocess.json")
    saved = json.loads(cfg.save_preprocess_json(tmp_path / "p.json").read_text())
    for name in original["input_names"]:
        assert saved[name]["var_names"] == original[name]["var_names"]
        assert saved[name]["min_length"] == original[name]["min_length"]
        for var, info in original[name]["var_infos"].items():
            assert saved[name]["var_infos"][var] == pytest.approx(info)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("inputs: {}\n", "no 'inputs'"),
        ("inputs:\n  a:\n    vars: [x]\n", "no 'length'"),
        ("inputs:\n  a:\n    length: 3\n    pad_mode: mirror\n    vars: [x]\n", "pad_mode"),
        ("inputs:\n  a:\n    length: 0\n    vars: [x]\n", "min_length"),
        ("preprocess: {method: auto}\ninputs:\n  a:\n    length: 3\n    vars: [x]\n", "auto"),
        ("inputs:\n  a:\n    length: 3\n    vars: [x, x]\n", "twice"),
        ("inputs: [\n", "not valid YAML"),
    ],
)
def test_bad_yaml_configs(tmp_path: Path, text: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match) as info:
        load_data_config(_write(tmp_path, "bad.yaml", text))
    assert "bad.yaml" in str(info.value)


def test_bad_json_configs(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no group entry"):
        load_data_config(_write(tmp_path, "a.json", '{"input_names": ["x"], "output_names": []}'))
    group = '{"var_names": ["v"], "var_length": 2, "var_infos": {}}'
    with pytest.raises(ConfigError, match="'v' has no var_infos"):
        load_data_config(_write(tmp_path, "b.json", f'{{"input_names": ["x"], "x": {group}}}'))
    with pytest.raises(ConfigError, match="not found"):
        load_data_config(tmp_path / "missing.json")
    with pytest.raises(ConfigError, match="unknown data config format"):
        load_data_config(_write(tmp_path, "c.txt", "{}"))


def test_unsafe_new_variable_rejected_at_load(tmp_path: Path) -> None:
    text = WEAVER_YAML.replace("np.log(pfcand_pt)", "__import__('os').system('true')")
    with pytest.raises(ConfigError, match="unsafe") as info:
        load_data_config(_write(tmp_path, "evil.yaml", text))
    assert "new_variables.pfcand_pt_log" in str(info.value)
