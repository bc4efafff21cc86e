"""``jetml train`` end to end on tiny generated PFNano samples, then ``jetml validate`` on it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")

from jetml.cli import main
from jetml.features.deepak8 import INPUT_VARIANTS
from jetml.nn.data import ArrayDataset


@pytest.fixture(scope="module")
def tiny_samples(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """40 hadronic ttbar and 60 QCD events (MPI off for speed), generated once."""
    from jetml.samples import get

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JETML_CACHE", str(tmp_path_factory.mktemp("cache")))
        return [
            get("ttbar_had", 40, 21, mpi=False, pileup=0.0),
            get("qcd", 60, 22, mpi=False, pileup=0.0),
        ]


def train_args(files: list[Path], out: Path, *extra: str) -> list[str]:
    return [
        "train", "deepak8", "--data", *map(str, files), "--out", str(out), "--epochs", "2",
        "--width", "0.0625", "--batch-size", "32", "--no-progress", *extra,
    ]  # fmt: skip


def test_train_writes_model_card_and_validates(tiny_samples, tmp_path, capsys, cms_nano) -> None:
    out = tmp_path / "deepak8"
    assert main(train_args(tiny_samples, out, "--seed", "3")) == 0
    assert "top_vs_qcd: AUC" in capsys.readouterr().out
    card = json.loads((out / "deepak8.card.json").read_text())
    assert card["trained"] is True and card["architecture"] == "deepak8"
    assert card["architecture_config"]["n_pf_features"] == len(INPUT_VARIANTS["full"][0])
    assert [s["preset"] for s in card["samples"]] == ["ttbar_had", "qcd"]
    assert card["samples"][0]["seed"] == 21 and card["samples"][1]["events"] == 60
    assert card["seeds"] == {"split": 1, "torch_and_batches": 3}
    top = card["metrics"]["pairs"]["top_vs_qcd"]
    assert 0.0 <= top["auc"] <= 1.0 and top["n_signal"] > 0 and top["n_background"] > 0
    assert card["parity"]["max_abs_diff"] <= 1e-5
    assert len(card["training"]["history"]) >= 1
    preprocess = json.loads((out / "preprocess.json").read_text())
    assert preprocess["input_names"] == ["pf_features", "sv_features"]
    assert preprocess["new_variables"]["pfcand_deltaR"] == "np.hypot(pfcand_etarel, pfcand_phirel)"
    # standardised like weaver auto: flags untouched, kinematics centred and clipped
    assert preprocess["pf_features"]["var_infos"]["pfcand_isMu"]["norm_factor"] == 1.0
    assert preprocess["pf_features"]["var_infos"]["pfcand_etarel"]["upper_bound"] == 5.0
    heldout = ArrayDataset.load(out / "heldout.npz")
    assert heldout.inputs["pf_features"].shape[1:] == (28, 100)
    assert np.abs(heldout.inputs["pf_features"]).max() <= 5.0

    plots = tmp_path / "plots"
    code = main(["validate", str(out), "--data", str(out / "heldout.npz"), "--plots", str(plots)])
    assert code == 0
    assert len(list(plots.glob("*.png"))) == 17
    # the deployment path on real CMS PFNano: inputs built from the model's preprocess.json
    capsys.readouterr()
    assert main(["validate", str(out), "--data", str(cms_nano / "pfnano.root"),
                 "--plots", str(tmp_path / "real")]) == 0  # fmt: skip
    assert "parity OK on 21 jets" in capsys.readouterr().out


def test_train_kin_variant_has_no_sv_input_and_is_reproducible(tiny_samples, tmp_path) -> None:
    cards = []
    for run in ("a", "b"):
        out = tmp_path / run
        assert main(train_args(tiny_samples, out, "--inputs", "kin")) == 0
        cards.append(json.loads((out / "deepak8.card.json").read_text()))
    card = cards[0]
    assert card["architecture_config"]["n_sv_features"] == 0
    assert json.loads((tmp_path / "a" / "preprocess.json").read_text())["input_names"] == [
        "pf_features"
    ]
    # same files and seeds: same weights, byte-identical ONNX
    assert cards[0]["training"]["history"] == cards[1]["training"]["history"]
    assert cards[0]["sha256"] == cards[1]["sha256"]


def test_epochs_zero_exports_untrained_full_size(tiny_samples, tmp_path) -> None:
    out = tmp_path / "full_size"
    args = train_args(tiny_samples, out, "--epochs", "0", "--width", "1")
    assert main(args) == 0
    card = json.loads((out / "deepak8.card.json").read_text())
    assert card["trained"] is False and card["metrics"] == {}
    assert card["architecture_config"]["width"] == 1
    assert card["parity"]["max_abs_diff"] <= 1e-5
    assert 1e6 < (out / "deepak8.onnx").stat().st_size < 5e6  # ~0.45 M float32 weights


def test_train_bad_inputs(tiny_samples, tmp_path, capsys) -> None:
    assert main(train_args([tmp_path / "missing.root"], tmp_path / "m")) == 2
    assert "not found" in capsys.readouterr().err
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    assert main(train_args(tiny_samples, tmp_path / "full")) == 2
    assert "not empty" in capsys.readouterr().err
    # a selection keeping no jet
    assert main(train_args(tiny_samples, tmp_path / "none", "--pt-min", "5000")) == 2
    assert "0 selected AK8 jets" in capsys.readouterr().err


@pytest.fixture(scope="module")
def semileptonic_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """60 semileptonic ttbar events (AK4 jets of all flavours, MPI off), generated once."""
    from jetml.samples import get

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JETML_CACHE", str(tmp_path_factory.mktemp("cache_ak4")))
        return get("ttbar_semilep", 60, 23, mpi=False, pileup=0.0)


def test_train_deepjet_and_validate_on_real_pfnano(
    semileptonic_sample, tmp_path, capsys, cms_nano
) -> None:
    out = tmp_path / "deepjet"
    args = ["train", "deepjet", "--data", str(semileptonic_sample), "--out", str(out),
            "--epochs", "2", "--width", "0.125", "--batch-size", "32", "--no-progress"]  # fmt: skip
    assert main(args) == 0
    assert "b_vs_udsg: AUC" in capsys.readouterr().out
    card = json.loads((out / "deepjet.card.json").read_text())
    assert card["output_labels"] == ["b", "bb", "lepb", "c", "uds", "g"]
    preprocess = json.loads((out / "preprocess.json").read_text())
    assert preprocess["input_names"] == ["global", "cpf", "npf", "sv"]
    assert preprocess["cpf"]["var_length"] == 25 and len(preprocess["cpf"]["var_names"]) == 16
    assert set(card["metrics"]["pairs"]) <= {"b_vs_udsg", "c_vs_udsg", "b_vs_c"}
    real = cms_nano / "pfnano.root"
    assert main(["validate", str(out), "--data", str(real), "--plots", str(tmp_path)]) == 0
    assert "parity OK on 42 jets" in capsys.readouterr().out


def test_train_breg_on_semileptonic_ttbar(semileptonic_sample, tmp_path, capsys, cms_nano) -> None:
    sample = semileptonic_sample
    out = tmp_path / "breg"
    args = ["train", "breg", "--data", str(sample), "--out", str(out), "--epochs", "3",
            "--width", "0.03125", "--batch-size", "32", "--no-progress"]  # fmt: skip
    assert main(args) == 0
    assert "relative resolution" in capsys.readouterr().out
    card = json.loads((out / "breg.card.json").read_text())
    assert card["output_labels"] == ["correction", "q25", "q75"]
    assert card["samples"][0]["preset"] == "ttbar_semilep"
    metrics = card["metrics"]
    assert 0.0 < metrics["resolution_before"] < 1.0
    assert 0.0 <= metrics["quantile_coverage"] <= 1.0
    # the target scaling is part of the exported network: outputs are ratios near 1
    config = card["architecture_config"]
    assert 0.8 < config["target_center"] < 1.3 and 0.0 < config["target_scale"] < 0.5
    assert "--tagger" not in card["command"] and card["command"].startswith("jetml train breg")
    assert (
        main(["validate", str(out), "--data", str(out / "heldout.npz"), "--plots", str(tmp_path)])
        == 0
    )


def test_train_deepdoublex_three_classes(tmp_path_factory, tmp_path, capsys, cms_nano) -> None:
    from jetml.samples import get

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JETML_CACHE", str(tmp_path_factory.mktemp("cache_ddx")))
        files = [
            get("qcd", 40, 24, mpi=False, pileup=0.0),
            get("zh_bb", 40, 25, mpi=False, pileup=0.0),
            get("zh_cc", 40, 26, mpi=False, pileup=0.0),
        ]
    out = tmp_path / "ddx"
    args = ["train", "deepdoublex", "--data", *map(str, files), "--out", str(out), "--epochs", "2",
            "--width", "0.125", "--batch-size", "32", "--no-progress"]  # fmt: skip
    assert main(args) == 0
    assert "BvL: AUC" in capsys.readouterr().out
    card = json.loads((out / "deepdoublex.card.json").read_text())
    assert card["output_labels"] == ["QCD", "Hbb", "Hcc"]
    assert set(card["training"]["class_counts"]) == {"QCD", "Hbb", "Hcc"}
    assert set(card["metrics"]["pairs"]) == {"BvL", "CvL", "CvB"}
    preprocess = json.loads((out / "preprocess.json").read_text())
    shapes = {g: (len(preprocess[g]["var_names"]), preprocess[g]["var_length"]) for g in
              preprocess["input_names"]}  # fmt: skip
    assert shapes == {"global": (5, 1), "npf": (8, 60), "cpf": (21, 40), "sv": (7, 5)}
    real = cms_nano / "pfnano.root"
    assert main(["validate", str(out), "--data", str(real), "--plots", str(tmp_path)]) == 0


def test_train_command_names_exactly_the_registered_recipes() -> None:
    from jetml.commands.train import TAGGERS
    from jetml.nn.recipes import RECIPES

    assert TAGGERS == tuple(RECIPES)
    # every recipe's selection defaults are the tagger's documented ones
    assert {name: r.selection().pt_min for name, r in RECIPES.items()} == {
        "deepak8": 300.0, "deepak8_md": 300.0, "deepak8_disco": 300.0, "deepjet": 20.0,
        "deepdoublex": 300.0, "breg": 20.0, "deeptau": 20.0,
    }  # fmt: skip


def test_train_deepak8_disco_records_its_penalty(tiny_samples, tmp_path, capsys) -> None:
    from jetml.nn.studies import train_study_models

    folders = train_study_models(["disco_lam10"], tiny_samples, tmp_path, epochs=1)
    card = json.loads((folders["disco_lam10"] / "disco_lam10.card.json").read_text())
    assert card["trained"] is True and card["architecture"] == "deepak8"
    assert card["training"]["disco"]["lam"] == 10.0
    assert "adversarial" in card["training"] and card["training"]["adversarial"] is None
    assert "--lam 10" in card["command"] and "deepak8_disco" in card["command"]
    history = card["training"]["history"][0]
    assert history["val_loss"] == pytest.approx(
        history["val_class_loss"] + 10.0 * history["val_disco_penalty"]
    )
    assert 0.0 <= history["val_disco_penalty"] <= 4.0  # four dCor² terms, each in [0, 1]
    # an existing model is kept, not retrained
    before = (folders["disco_lam10"] / "disco_lam10.onnx").stat().st_mtime_ns
    train_study_models(["disco_lam10"], tiny_samples, tmp_path, epochs=1)
    assert (folders["disco_lam10"] / "disco_lam10.onnx").stat().st_mtime_ns == before
    with pytest.raises(RuntimeError, match="disco_lam1: jetml train exited with 2"):
        train_study_models(["disco_lam1"], [tmp_path / "missing.root"], tmp_path)
