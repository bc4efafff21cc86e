"""DeepAK8-DisCo: dCor² against a direct computation, and the penalty removing a score-mass
correlation built into a synthetic sample (the DeepAK8-MD test's sample)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")

import torch

from jetml.nn.data import ArrayDataset
from jetml.nn.deepak8 import DeepAK8
from jetml.nn.disco import DiscoConfig, DiscoLoss, distance_correlation, fit_disco
from jetml.nn.metrics import roc_auc
from jetml.nn.training import TrainConfig, fit, predict

torch.set_num_threads(1)
SIGNAL, QCD = 0, 1
CLASSES = ("H_bb", "QCD_others")


def reference_dcor2(x: np.ndarray, y: np.ndarray) -> float:
    """Székely's squared distance correlation, written out with loops (V-statistics)."""
    n = len(x)

    def centred(v: np.ndarray) -> np.ndarray:
        d = np.array([[abs(v[i] - v[j]) for j in range(n)] for i in range(n)])
        return d - d.mean(axis=0)[None, :] - d.mean(axis=1)[:, None] + d.mean()

    a, b = centred(x), centred(y)
    dcov2 = sum(a[i, j] * b[i, j] for i in range(n) for j in range(n)) / n**2
    dvarx = sum(a[i, j] ** 2 for i in range(n) for j in range(n)) / n**2
    dvary = sum(b[i, j] ** 2 for i in range(n) for j in range(n)) / n**2
    return dcov2 / np.sqrt(dvarx * dvary)


def test_distance_correlation_matches_the_definition() -> None:
    rng = np.random.default_rng(4)
    x = rng.normal(size=25)
    for y in (rng.normal(size=25), x**2 + 0.1 * rng.normal(size=25), np.sin(3 * x)):
        value = float(distance_correlation(torch.as_tensor(x), torch.as_tensor(y)))
        assert value == pytest.approx(reference_dcor2(x, y), rel=1e-10)
    # linear relation: 1; non-linear but deterministic (y = x², symmetric x): clearly > 0,
    # although the Pearson correlation is ~0
    assert float(distance_correlation(torch.as_tensor(x), torch.as_tensor(3 * x - 2))) == (
        pytest.approx(1.0)
    )
    symmetric = np.linspace(-1, 1, 41)
    assert abs(np.corrcoef(symmetric, symmetric**2)[0, 1]) < 1e-12
    square = distance_correlation(torch.as_tensor(symmetric), torch.as_tensor(symmetric**2))
    assert float(square) > 0.2


def test_weights_act_as_repeated_rows() -> None:
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=12), rng.normal(size=12)
    counts = rng.integers(1, 4, size=12)
    weighted = distance_correlation(
        torch.as_tensor(x), torch.as_tensor(y), torch.as_tensor(counts.astype(float))
    )
    assert float(weighted) == pytest.approx(
        reference_dcor2(np.repeat(x, counts), np.repeat(y, counts)), rel=1e-10
    )


def test_penalty_is_differentiable_and_only_uses_background() -> None:
    loss = DiscoLoss(DiscoConfig(discriminants=("HbbvsQCD",)), CLASSES)
    mass = torch.linspace(0.0, 1.0, 10)
    target = torch.tensor([SIGNAL] * 5 + [QCD] * 5)
    logits = torch.stack([mass * 4.0, torch.zeros(10)], dim=1).requires_grad_(True)
    penalty = loss.penalty(torch.softmax(logits, dim=1), target, mass)
    assert 0.9 < float(penalty) < 1.0  # score monotonic (not linear) in mass
    penalty.backward()
    assert logits.grad is not None
    # signal rows are not used: scrambling them leaves the penalty unchanged
    scrambled = logits.detach().clone()
    scrambled[:5, 0] = torch.tensor([3.0, -1.0, 2.0, 0.0, 5.0])
    again = loss.penalty(torch.softmax(scrambled, dim=1), target, mass)
    assert float(again) == pytest.approx(float(penalty))
    with pytest.raises(KeyError, match="no discriminant"):
        DiscoLoss(DiscoConfig(discriminants=("TvsQCD",)), CLASSES)


def correlated_sample(n_jets: int, seed: int) -> ArrayDataset:
    """Signal peaks in mass, QCD is flat; a second, mass-independent feature separates them."""
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 2, n_jets)
    mass = np.where(label == SIGNAL, rng.normal(0.7, 0.1, n_jets), rng.uniform(0.0, 1.0, n_jets))
    other = rng.normal(0.0, 1.0, n_jets) + 1.5 * (label == SIGNAL)
    features = np.stack(
        [
            mass[:, None] + 0.05 * rng.normal(size=(n_jets, 8)),
            other[:, None] + 0.3 * rng.normal(size=(n_jets, 8)),
        ],
        axis=1,
    ).astype(np.float32)
    return ArrayDataset({"pf_features": features}, label, {"mass": mass})


def classifier() -> DeepAK8:
    torch.manual_seed(0)
    return DeepAK8(
        n_pf_features=2, n_sv_features=0, n_classes=2, width=0.125, pf_length=8,
        class_names=CLASSES,
    )  # fmt: skip


def qcd_dcor_and_auc(model: DeepAK8, test: ArrayDataset) -> tuple[float, float]:
    score = predict(model, test)[:, SIGNAL]
    qcd = test.target == QCD
    dcor = distance_correlation(
        torch.as_tensor(score[qcd][:400]), torch.as_tensor(test.extras["mass"][qcd][:400])
    )
    return float(dcor), roc_auc(score, test.target == SIGNAL)


def test_disco_decorrelates_score_from_mass() -> None:
    train, val, test = (correlated_sample(n, seed) for n, seed in ((1200, 1), (300, 2), (1000, 3)))
    config = TrainConfig(epochs=6, batch_size=64, learning_rate=3e-3, patience=10, progress=False)
    nominal = classifier()
    fit(nominal, train, val, config)
    nominal_dcor, nominal_auc = qcd_dcor_and_auc(nominal, test)

    decorrelated = classifier()
    disco = DiscoConfig(lam=10.0, discriminants=("HbbvsQCD",))
    result = fit_disco(decorrelated, train, val, config, disco)
    disco_dcor, disco_auc = qcd_dcor_and_auc(decorrelated, test)

    assert {"val_class_loss", "val_disco_penalty"} <= set(result.history[0])
    assert nominal_dcor > 0.2, "the sample must be correlated by construction"
    assert disco_dcor < 0.3 * nominal_dcor, (nominal_dcor, disco_dcor)
    assert disco_auc > 0.75  # the mass-independent feature alone gives AUC ~0.85
    assert nominal_auc > disco_auc


def test_fit_disco_requires_mass() -> None:
    data = correlated_sample(20, seed=0)
    no_mass = ArrayDataset(data.inputs, data.target)
    with pytest.raises(KeyError, match="mass"):
        fit_disco(classifier(), no_mass, no_mass, TrainConfig(progress=False), DiscoConfig())
