"""DeepAK8-MD: the adversary removes a score-mass correlation built into a synthetic sample."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")

import torch

from jetml.nn.data import ArrayDataset
from jetml.nn.deepak8 import DeepAK8
from jetml.nn.deepak8_md import AdversarialConfig, DeepAK8MD, fit_adversarial, mass_bins
from jetml.nn.metrics import roc_auc
from jetml.nn.training import TrainConfig, fit, predict

torch.set_num_threads(1)
SIGNAL, QCD = 0, 1


def correlated_sample(n_jets: int, seed: int) -> ArrayDataset:
    """Signal jets peak in mass (0.7 +- 0.1), QCD is flat in [0, 1]; a second, mass-independent
    feature separates them too. Every particle of a jet carries the jet's mass and that feature
    (with noise), so a plain classifier uses the mass and its QCD score follows it."""
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 2, n_jets)
    mass = np.where(label == SIGNAL, rng.normal(0.7, 0.1, n_jets), rng.uniform(0.0, 1.0, n_jets))
    other = rng.normal(0.0, 1.0, n_jets) + 1.5 * (label == SIGNAL)
    n_particles = 8
    features = np.stack(
        [
            mass[:, None] + 0.05 * rng.normal(size=(n_jets, n_particles)),
            other[:, None] + 0.3 * rng.normal(size=(n_jets, n_particles)),
        ],
        axis=1,
    ).astype(np.float32)
    return ArrayDataset({"pf_features": features}, label, {"mass": mass})


def classifier() -> DeepAK8:
    torch.manual_seed(0)
    return DeepAK8(
        n_pf_features=2, n_sv_features=0, n_classes=2, width=0.125, pf_length=8,
        class_names=("H_bb", "QCD_others"),
    )  # fmt: skip


def qcd_score_mass_correlation(model: DeepAK8, test: ArrayDataset) -> tuple[float, float]:
    """(Pearson correlation of the signal score with mass on QCD jets, signal-vs-QCD AUC)."""
    score = predict(model, test)[:, SIGNAL]
    qcd = test.target == QCD
    correlation = float(np.corrcoef(score[qcd], test.extras["mass"][qcd])[0, 1])
    return correlation, roc_auc(score, test.target == SIGNAL)


def test_adversary_decorrelates_score_from_mass() -> None:
    train, val, test = (correlated_sample(n, seed) for n, seed in ((1200, 1), (300, 2), (1000, 3)))
    config = TrainConfig(epochs=6, batch_size=64, learning_rate=3e-3, patience=10, progress=False)

    nominal = classifier()
    fit(nominal, train, val, config)
    nominal_corr, nominal_auc = qcd_score_mass_correlation(nominal, test)

    decorrelated = classifier()
    adversarial = AdversarialConfig(
        lam=1.0,
        mass_edges=(0.0, 0.2, 0.4, 0.6, 0.8, 1.0),
        background_classes=(QCD,),
        adversary_learning_rate=3e-3,
    )
    result = fit_adversarial(
        DeepAK8MD(decorrelated, n_bins=5, hidden=(32, 32)), train, val, config, adversarial
    )
    md_corr, md_auc = qcd_score_mass_correlation(decorrelated, test)

    assert len(result.history) >= 1
    assert nominal_corr > 0.3, "the sample must be correlated by construction"
    assert abs(md_corr) < 0.5 * nominal_corr, (nominal_corr, md_corr)
    # still a classifier: the mass-independent feature alone gives AUC ~0.85
    assert md_auc > 0.75
    assert nominal_auc > md_auc


def test_mass_bins_put_overflow_in_end_bins() -> None:
    edges = (30.0, 50.0, 100.0, 250.0)
    bins = mass_bins(np.array([0.0, 30.0, 49.9, 50.0, 120.0, 400.0]), edges)
    np.testing.assert_array_equal(bins, [0, 0, 0, 1, 2, 2])
    with pytest.raises(ValueError, match="increasing"):
        mass_bins(np.array([1.0]), (10.0, 5.0, 20.0))


def test_fit_adversarial_requires_mass() -> None:
    data = correlated_sample(20, seed=0)
    no_mass = ArrayDataset(data.inputs, data.target)
    model = DeepAK8MD(classifier(), n_bins=3)
    with pytest.raises(KeyError, match="mass"):
        fit_adversarial(model, no_mass, no_mass, TrainConfig(progress=False), AdversarialConfig())
