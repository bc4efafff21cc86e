"""``jetml run``: input resolution, tagger and executor errors (outputs: test_processor.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jetml.cli import main
from jetml.errors import ConfigError, ExecutorError, InputFileError
from jetml.processor.chunks import resolve_inputs
from jetml.processor.executors import open_executor
from jetml.taggers.registry import resolve_taggers

TAGGERS_SPEC = "processor_taggers:all_taggers"


pytestmark = pytest.mark.usefixtures("toy_models")


def test_inputs_from_globs_and_fileset_json(cms_nano: Path, tmp_path: Path) -> None:
    fileset = resolve_inputs([str(cms_nano / "nano_*.root")])
    # every matching file, named by its stem, in sorted order (the folder gained RNTuple twins)
    assert list(fileset) == [p.stem for p in sorted(cms_nano.glob("nano_*.root"))]
    assert {"nano_dy", "nano_dy_empty", "nano_tt_v15"} <= set(fileset)
    twice = resolve_inputs([str(cms_nano / "pfnano.root")] * 2)
    assert list(twice) == ["pfnano", "pfnano_2"]
    (tmp_path / "data").symlink_to(cms_nano)
    spec = {
        "tt": ["data/nano_tt_v15.root"],
        "pf": {"files": {str(cms_nano / "pfnano.root"): "Events"}},
    }
    (tmp_path / "fileset.json").write_text(json.dumps(spec))
    fileset = resolve_inputs([str(tmp_path / "fileset.json")])
    assert fileset == {
        "tt": [str(tmp_path / "data" / "nano_tt_v15.root")],
        "pf": [str(cms_nano / "pfnano.root")],
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "must map dataset names"),
        ('{"a": []}', "dataset 'a' must list at least one file"),
        ('{"a": {"files": {"x.root": "Other"}}}', "names trees \\['Other'\\]"),
    ],
)
def test_bad_fileset_json(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "fileset.json"
    path.write_text(content)
    with pytest.raises(InputFileError, match=message):
        resolve_inputs([str(path)])


def test_missing_inputs(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="no file matches"):
        resolve_inputs([str(tmp_path / "*.root")])
    with pytest.raises(InputFileError, match="no such file"):
        resolve_inputs([str(tmp_path / "absent.root")])
    with pytest.raises(InputFileError, match="no such fileset file"):
        resolve_inputs([str(tmp_path / "absent.json")])


def test_tagger_resolution() -> None:
    assert [t.name for t in resolve_taggers(TAGGERS_SPEC)] == ["pf_toy", "jet_toy", "breg_toy"]
    assert [t.name for t in resolve_taggers("processor_taggers:JetToyTagger")] == ["jet_toy"]
    with pytest.raises(ConfigError, match="unknown tagger 'nope'"):
        resolve_taggers("nope")
    with pytest.raises(ConfigError, match="cannot import no_such_module"):
        resolve_taggers("no_such_module:factory")
    with pytest.raises(ConfigError, match="has no 'absent'"):
        resolve_taggers("processor_taggers:absent")
    with pytest.raises(ConfigError, match="refused without calling it"):
        resolve_taggers("processor_taggers:models_dir")


def test_executor_errors(cms_nano: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    with (
        pytest.raises(ExecutorError, match="needs the dask executor"),
        open_executor("futures", scheduler="tcp://127.0.0.1:8786"),
    ):
        pass
    with pytest.raises(ExecutorError, match="at least 1"), open_executor("futures", workers=0):
        pass
    with pytest.raises(ExecutorError, match="unknown executor"), open_executor("threads"):
        pass
    argv = ["run", str(cms_nano / "pfnano.root"), "--taggers", TAGGERS_SPEC]
    assert main([*argv, "--chunksize", "0", "--out", str(tmp_path)]) == 2
    assert "--chunksize must be at least 1" in capsys.readouterr().err
