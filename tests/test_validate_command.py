"""``jetml validate``: parity table, one plot per output, exit 1 on a difference, clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("torch")

import torch

from jetml.cli import main
from jetml.inference.integrity import file_sha256
from jetml.nn.data import ArrayDataset
from jetml.nn.deepdoublex import DeepDoubleX
from jetml.nn.package import write_model
from jetml.nn.preprocessing import GroupSpec, fit_data_config

torch.set_num_threads(1)


@pytest.fixture
def model_and_data(tmp_path):
    """A small DeepDoubleX folder and an .npz of 40 jets of its inputs."""
    torch.manual_seed(3)
    model = DeepDoubleX(
        n_global=2, n_npf_features=2, n_cpf_features=3, n_sv_features=2,
        npf_length=4, cpf_length=3, sv_length=2, width=0.125,
    )  # fmt: skip
    model.eval()
    rng = np.random.default_rng(0)
    inputs = {
        n: rng.normal(size=(40, *s)).astype(np.float32) for n, s in model.input_shapes().items()
    }
    specs = [
        GroupSpec(name, tuple(f"{name}_{i}" for i in range(shape[0])), shape[1])
        for name, shape in model.input_shapes().items()
    ]
    variables = {v: rng.normal(size=10) for spec in specs for v in spec.var_names}
    cfg = fit_data_config(specs, variables, list(model.output_labels))
    folder = tmp_path / "ddx"
    write_model(folder, "deepdoublex", "0.1", model, cfg, inputs, trained=False)
    data_path = tmp_path / "jets.npz"
    ArrayDataset(inputs, np.zeros(40, dtype=np.int64)).save(data_path)
    return folder, data_path, model


def test_validate_passes_and_writes_one_plot_per_output(model_and_data, tmp_path, capsys) -> None:
    folder, data_path, _ = model_and_data
    plots = tmp_path / "plots"
    code = main(["validate", str(folder), "--data", str(data_path), "--plots", str(plots)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "parity OK" in out
    pngs = sorted(p.name for p in plots.glob("*.png"))
    assert pngs == ["deepdoublex_Hbb.png", "deepdoublex_Hcc.png", "deepdoublex_QCD.png"]
    assert all((plots / p).stat().st_size > 1000 for p in pngs)


def test_validate_fails_when_torch_and_onnx_disagree(model_and_data, tmp_path, capsys) -> None:
    folder, data_path, model = model_and_data
    # torch weights drifting from the exported ONNX (card re-signed so integrity passes)
    with torch.no_grad():
        model.head.bias[0] += 0.5  # shifts one class: the softmax changes
    torch.save(model.state_dict(), folder / "deepdoublex.pt")
    card_path = folder / "deepdoublex.card.json"
    card = json.loads(card_path.read_text())
    card["torch_weights_sha256"] = file_sha256(folder / "deepdoublex.pt")
    card_path.write_text(json.dumps(card))
    code = main(["validate", str(folder), "--data", str(data_path), "--plots", str(tmp_path)])
    assert code == 1
    assert "parity FAILED" in capsys.readouterr().out


def test_validate_bad_inputs_are_one_line_errors(model_and_data, tmp_path, capsys) -> None:
    folder, _, _ = model_and_data
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, **{"global": np.zeros((3, 9, 1), np.float32)})
    assert main(["validate", str(folder), "--data", str(wrong)]) == 2
    assert "lacks model input" in capsys.readouterr().err
    shapes = {n: np.zeros((3, 1, 1), np.float32) for n in ("global", "npf", "cpf", "sv")}
    np.savez(wrong, **shapes)
    assert main(["validate", str(folder), "--data", str(wrong)]) == 2
    assert "expects" in capsys.readouterr().err
    assert main(["validate", str(tmp_path / "nope"), "--data", str(wrong)]) == 2
    assert "not a model folder" in capsys.readouterr().err
