"""Taggers of the shipped models: inputs exactly as the training code built them, scores equal
to the ONNX model run directly, registered for ``--taggers all``, picklable."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import awkward as ak
import numpy as np
import onnxruntime as ort
import pytest

from jetml.errors import ConfigError, ModelIntegrityError
from jetml.inference.card import load_card
from jetml.nanoaod import load_events
from jetml.taggers.breg import BRegressionTagger
from jetml.taggers.deepak8 import DISCRIMINANTS, DeepAK8Tagger
from jetml.taggers.deepdoublex import DeepDoubleXTagger
from jetml.taggers.deepjet import DeepJetTagger
from jetml.taggers.registry import REGISTERED, resolve_taggers
from jetml.taggers.shipped import MODELS_DIR, load_shipped, shipped_model_names

pytest.importorskip("torch")  # the training-side readers (jetml.nn) are the reference

SHIPPED = shipped_model_names()
ON_PFNANO = [name for name in SHIPPED if name != "deeptau"]
"""Models checked on the real pfnano.root; it has no Tau candidates, so DeepTau is checked on
generated taus in test_deeptau.py."""


def _raw_outputs(name: str, inputs: dict[str, np.ndarray]) -> np.ndarray:
    """The shipped ONNX file run with a plain InferenceSession (no jetml in between)."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(
        str(MODELS_DIR / name / f"{name}.onnx"), options, providers=["CPUExecutionProvider"]
    )
    (output,) = session.run(None, inputs)
    return output


def _training_inputs(name: str, path: Path, config) -> dict[str, np.ndarray]:
    """Inputs as the training code builds them from the same file (all jets, no labels)."""
    if name.startswith("deepak8"):
        from jetml.nn import deepak8_data

        table = deepak8_data.read_fatjets([path], "full", require_labels=False)
        return deepak8_data.to_dataset(table, config).inputs
    if name == "deepdoublex":
        from jetml.nn import deepdoublex_data

        table = deepdoublex_data.read_deepdoublex_jets([path], require_labels=False)
        return deepdoublex_data.to_dataset(table, config).inputs
    if name == "deepjet":
        from jetml.nn import deepjet_data

        table = deepjet_data.read_deepjet_jets([path], require_labels=False)
        return deepjet_data.to_dataset(table, config).inputs
    from jetml.nn import breg_data

    table = breg_data.read_breg_jets([path], with_target=False)
    return breg_data.to_dataset(table, config).inputs


@pytest.fixture(scope="module")
def pfnano_events(cms_nano: Path):
    return load_events(cms_nano / "pfnano.root")


def test_every_shipped_model_is_registered() -> None:
    assert SHIPPED, "no shipped models found"
    assert sorted(REGISTERED) == SHIPPED
    taggers = resolve_taggers("all")
    assert sorted(t.name for t in taggers) == SHIPPED
    assert all(t.shipped.model.sha256 == load_shipped(t.name).model.sha256 for t in taggers)


@pytest.mark.parametrize("name", ON_PFNANO)
def test_tagger_inputs_and_scores_match_training_code_and_raw_onnx(
    name: str, cms_nano: Path, pfnano_events
) -> None:
    (tagger,) = resolve_taggers(name)
    events = pfnano_events
    assert tagger.missing_inputs(events) == []
    mask = tagger.select(events[tagger.collection])
    n_jets = int(ak.sum(mask))
    assert n_jets > 10  # 21 AK8 jets above 300 GeV, 42 AK4 jets above 20 GeV in pfnano.root

    inputs = tagger.model_inputs(events, mask)
    reference = _training_inputs(name, cms_nano / "pfnano.root", tagger.shipped.config)
    assert list(inputs) == list(reference) == tagger.shipped.config.input_names
    for input_name, array in inputs.items():
        assert array.dtype == np.float32 and len(array) == n_jets
        np.testing.assert_array_equal(array, reference[input_name], err_msg=input_name)

    raw = _raw_outputs(name, reference)
    scores = tagger.evaluate(events, mask)
    assert set(scores) == set(tagger.score_names)
    probs = {label: raw[:, i] for i, label in enumerate(tagger.shipped.output_labels)}
    for score, values in scores.items():
        assert values.shape == (n_jets,) and np.all(np.isfinite(values))
        if isinstance(tagger, BRegressionTagger):
            expected = probs[score]
        elif isinstance(tagger, DeepAK8Tagger):
            expected = DISCRIMINANTS[score](probs)
        elif isinstance(tagger, DeepDoubleXTagger):
            expected = {
                "BvL": probs["Hbb"] / (probs["Hbb"] + probs["QCD"]),
                "CvL": probs["Hcc"] / (probs["Hcc"] + probs["QCD"]),
                "CvB": probs["Hcc"] / (probs["Hcc"] + probs["Hbb"]),
            }[score]
        else:
            expected = {
                "BvsAll": probs["b"] + probs["bb"] + probs["lepb"],
                "CvsL": probs["c"] / (probs["c"] + probs["uds"] + probs["g"]),
                "CvsB": probs["c"] / (probs["c"] + probs["b"] + probs["bb"] + probs["lepb"]),
            }[score]
        np.testing.assert_allclose(values, expected, rtol=2e-6, atol=1e-7, err_msg=score)


def test_scores_are_physical_on_real_pfnano(pfnano_events) -> None:
    events = pfnano_events
    breg = BRegressionTagger()
    scores = breg.evaluate(events, breg.select(events.Jet))
    assert 0.7 < np.median(scores["correction"]) < 1.4
    assert np.all(scores["q25"] <= scores["q75"] + 1e-3)
    for tagger in (DeepAK8Tagger("deepak8"), DeepJetTagger(), DeepDoubleXTagger()):
        for values in tagger.evaluate(events, tagger.select(events[tagger.collection])).values():
            assert np.all((values >= 0) & (values <= 1 + 1e-6))


def test_tagger_pickles_and_scores_identically(pfnano_events) -> None:
    tagger = DeepAK8Tagger("deepak8_md")
    clone = pickle.loads(pickle.dumps(tagger))
    mask = tagger.select(pfnano_events.FatJet)
    first, second = tagger.evaluate(pfnano_events, mask), clone.evaluate(pfnano_events, mask)
    for score in tagger.score_names:
        np.testing.assert_array_equal(first[score], second[score])


def test_no_jet_selected_gives_empty_scores(pfnano_events) -> None:
    tagger = DeepJetTagger()
    mask = pfnano_events.Jet.pt < 0
    scores = tagger.evaluate(pfnano_events, mask)
    assert all(values.shape == (0,) for values in scores.values())


def _copy_model(name: str, target: Path) -> Path:
    folder = target / name
    folder.mkdir()
    for file in (MODELS_DIR / name).iterdir():
        (folder / file.name).write_bytes(file.read_bytes())
    return folder


def test_tampered_model_is_refused(tmp_path: Path) -> None:
    folder = _copy_model("deepak8", tmp_path)
    onnx = folder / "deepak8.onnx"
    onnx.write_bytes(onnx.read_bytes() + b"\0")
    with pytest.raises(ModelIntegrityError, match=r"deepak8\.onnx"):
        DeepAK8Tagger("deepak8", folder)


def test_missing_card_is_a_config_error(tmp_path: Path) -> None:
    folder = _copy_model("breg", tmp_path)
    (folder / "breg.card.json").unlink()
    with pytest.raises(ConfigError, match=r"breg\.card\.json.*no model card"):
        BRegressionTagger(folder)


def test_card_without_selection_is_a_config_error(tmp_path: Path) -> None:
    folder = _copy_model("deepjet", tmp_path)
    card = json.loads((folder / "deepjet.card.json").read_text())
    del card["training"]["selection"]
    (folder / "deepjet.card.json").write_text(json.dumps(card))
    with pytest.raises(ConfigError, match=r"deepjet\.card\.json: card lacks .*training\.selection"):
        DeepJetTagger(folder)


def test_deepak8_config_reading_unknown_variables_is_refused(tmp_path: Path) -> None:
    folder = _copy_model("deepak8", tmp_path)
    config = json.loads((folder / "preprocess.json").read_text())
    config["new_variables"]["pfcand_ptrel_log"] = "pfcand_pt_log_nopuppi - jet_foo"
    (folder / "preprocess.json").write_text(json.dumps(config))
    card = load_card(folder / "deepak8.card.json")
    card.pin_files()  # as its author would: the card pins the edited config (else: sha mismatch)
    card.save(folder / "deepak8.card.json")
    with pytest.raises(ConfigError, match=r"deepak8: preprocess.json reads \['jet_foo'\]"):
        DeepAK8Tagger("deepak8", folder)


def test_deepak8_models_share_one_build_per_chunk(cms_nano: Path, monkeypatch) -> None:
    """Same recipe and data config (the three DeepAK8 models): one build inside a chunk's
    shared scope, the same inputs as separate builds, the same scores."""
    from jetml.features.columns import shared_columns

    events = load_events(cms_nano / "pfnano.root")
    taggers = [DeepAK8Tagger(name) for name in ("deepak8", "deepak8_md", "deepak8_full")]
    assert len({t.inputs_key for t in taggers}) == 1
    masks = [t.select(events.FatJet) for t in taggers]
    separate = [t.evaluate(events, m) for t, m in zip(taggers, masks, strict=True)]
    calls = []
    original = DeepAK8Tagger.model_inputs

    def counting(self, events, mask):
        calls.append(self.name)
        return original(self, events, mask)

    monkeypatch.setattr(DeepAK8Tagger, "model_inputs", counting)
    with shared_columns(events):
        shared = [t.evaluate(events, m) for t, m in zip(taggers, masks, strict=True)]
    assert calls == ["deepak8"]
    for one, other in zip(separate, shared, strict=True):
        for score in one:
            np.testing.assert_array_equal(one[score], other[score])
    assert DeepDoubleXTagger().inputs_key != taggers[0].inputs_key
