"""Each architecture learns on a tiny synthetic batch and its ONNX export matches torch."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")

import torch

from jetml.nn.base import TaggerNet
from jetml.nn.breg import BRegression, resolution
from jetml.nn.data import ArrayDataset
from jetml.nn.deepak8 import DeepAK8
from jetml.nn.deepdoublex import DeepDoubleX
from jetml.nn.deepjet import DeepJet
from jetml.nn.deeptau import DeepTau
from jetml.nn.export import PARITY_TOLERANCE, check_parity, export_onnx
from jetml.nn.training import TrainConfig, evaluate_loss, fit, to_tensors

torch.set_num_threads(1)

TINY_NETWORKS = {
    "deepak8": lambda: DeepAK8(
        n_pf_features=5, n_sv_features=3, n_classes=3, width=0.125, pf_length=12, sv_length=3,
        class_names=("Top_bqq", "H_bb", "QCD_others"),
    ),
    "deepjet": lambda: DeepJet(
        n_global=4, n_cpf_features=5, n_npf_features=3, n_sv_features=4,
        cpf_length=6, npf_length=5, sv_length=2, width=0.25,
    ),
    "deepdoublex": lambda: DeepDoubleX(
        n_global=3, n_npf_features=4, n_cpf_features=5, n_sv_features=3,
        npf_length=6, cpf_length=5, sv_length=2, width=0.25,
    ),
    "deeptau": lambda: DeepTau(
        n_tau_features=6, n_egamma_features=4, n_muon_features=3, n_hadron_features=3, width=0.0625
    ),
    "breg": lambda: BRegression(n_features=8, hidden=(32, 16), width=1.0),
}  # fmt: skip


def synthetic(model: TaggerNet, n_rows: int, seed: int) -> ArrayDataset:
    """Random inputs whose first input group is shifted by the class (or carries the target)."""
    rng = np.random.default_rng(seed)
    inputs = {
        name: rng.normal(size=(n_rows, *shape)).astype(np.float32)
        for name, shape in model.input_shapes().items()
    }
    first = model.input_names[0]
    if isinstance(model, BRegression):
        signal = inputs[first][:, :2, 0].mean(axis=1)
        target = (1.0 + 0.2 * signal + 0.02 * rng.normal(size=n_rows)).astype(np.float32)
        return ArrayDataset(inputs, target)
    n_classes = len(model.output_labels)
    target = rng.integers(0, n_classes, size=n_rows)
    offset = np.linspace(-3.0, 3.0, n_classes)[target].astype(np.float32)
    inputs[first] += offset.reshape((-1,) + (1,) * (inputs[first].ndim - 1))
    return ArrayDataset(inputs, target)


@pytest.mark.parametrize("name", sorted(TINY_NETWORKS))
def test_trains_and_exports_with_parity(name: str, tmp_path) -> None:
    torch.manual_seed(0)
    model = TINY_NETWORKS[name]()
    data = synthetic(model, 192, seed=1)
    train, val = data.split((0.75, 0.25), seed=2)
    config = TrainConfig(epochs=6, batch_size=16, learning_rate=3e-3, patience=10, progress=False)

    def full_loss() -> float:
        model.eval()
        x, y = to_tensors(train, model.input_names), torch.as_tensor(train.target)
        return evaluate_loss(model.training_loss, x, y, batch_size=64)

    before = full_loss()
    result = fit(model, train, val, config)
    after = full_loss()
    assert len(result.history) == 6
    assert after < 0.8 * before, f"{name}: loss {before:.4f} -> {after:.4f}"

    onnx_path = export_onnx(model, tmp_path / f"{name}.onnx")
    report = check_parity(model, onnx_path, val.inputs, batch_size=7)
    assert report.torch_outputs.shape == (len(val), len(model.output_labels))
    assert report.passed, f"{name}: max |diff| {report.max_abs_diff}"
    assert report.max_abs_diff <= PARITY_TOLERANCE
    if name != "breg":
        np.testing.assert_allclose(report.onnx_outputs.sum(axis=1), 1.0, atol=1e-5)


def test_full_size_shapes_match_cms_models() -> None:
    """The default configurations take the CMS input sizes and give the CMS output counts."""
    expected = {
        DeepAK8: ({"pf_features": (42, 100), "sv_features": (15, 7)}, 17),
        DeepJet: ({"global": (15, 1), "cpf": (16, 25), "npf": (6, 25), "sv": (12, 4)}, 6),
        DeepDoubleX: ({"global": (5, 1), "npf": (8, 60), "cpf": (21, 40), "sv": (7, 5)}, 3),
        BRegression: ({"features": (43, 1)}, 3),
    }
    for cls, (shapes, n_out) in expected.items():
        model = cls()
        assert model.input_shapes() == shapes
        assert len(model.output_labels) == n_out
    tau = DeepTau(width=0.0625).input_shapes()
    assert tau["inner_egamma"] == (86, 11, 11) and tau["outer_hadrons"] == (38, 21, 21)


def test_deepak8_full_size_parameters_and_lite_width() -> None:
    full = sum(p.numel() for p in DeepAK8().parameters())
    lite = sum(p.numel() for p in DeepAK8(width=0.25).parameters())
    assert 4e5 < full < 6e5  # the ~0.5 M parameters of the CMS network
    assert lite < full / 8


def test_deepak8_input_ablation_without_sv_branch() -> None:
    model = DeepAK8(n_pf_features=11, n_sv_features=0, width=0.125)
    assert model.input_names == ("pf_features",)
    model.eval()
    out = model(*model.example_inputs(4))
    assert out.shape == (4, 17)


def test_deepjet_lstm_exports_as_onnx_lstm(tmp_path) -> None:
    import onnx

    model = TINY_NETWORKS["deepjet"]()
    path = export_onnx(model, tmp_path / "deepjet.onnx")
    ops = {node.op_type for node in onnx.load(str(path)).graph.node}
    assert "LSTM" in ops
    # batch sizes other than the export's run too (dynamic batch axis)
    inputs = {
        n: t.numpy() for n, t in zip(model.input_names, model.example_inputs(33), strict=True)
    }
    assert check_parity(model, path, inputs).passed


def test_early_stopping_restores_best_weights_and_is_reproducible() -> None:
    def run() -> tuple:
        torch.manual_seed(0)
        model = BRegression(n_features=8, hidden=(32, 16), width=1.0)
        train = synthetic(model, 160, seed=3)
        val = synthetic(model, 64, seed=4)
        # validation targets unrelated to the inputs: fitting train soon hurts validation
        val = ArrayDataset(val.inputs, np.random.default_rng(5).permutation(val.target))
        config = TrainConfig(
            epochs=40, batch_size=16, learning_rate=1e-2, patience=2, progress=False
        )
        result = fit(model, train, val, config)
        x, y = to_tensors(val, model.input_names), torch.as_tensor(val.target)
        return result, evaluate_loss(model.training_loss, x, y, batch_size=64)

    result, restored_loss = run()
    val_losses = [h["val_loss"] for h in result.history]
    assert result.stopped_early and len(val_losses) < 40
    assert result.best_val_loss == min(val_losses)
    assert val_losses[result.best_epoch] == result.best_val_loss
    assert restored_loss == pytest.approx(result.best_val_loss, rel=1e-6)
    again, _ = run()
    assert again.history == result.history  # same seeds, same numbers


def test_breg_quantiles_never_cross() -> None:
    torch.manual_seed(0)
    model = BRegression(n_features=8, hidden=(32, 16), width=1.0).eval()
    with torch.no_grad():
        model.head.bias.copy_(torch.tensor([0.0, 5.0, -5.0]))  # a free head would give q25 > q75
        inputs = torch.randn(500, 8, 1) * 10.0  # far outside any standardised training range
        out = model(inputs).numpy()
    assert np.all(out[:, 2] > out[:, 1])
    assert np.all(resolution(out) > 0)
