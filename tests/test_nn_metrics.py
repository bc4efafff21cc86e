"""Held-out metrics and discriminant definitions (numpy only, no torch)."""

from __future__ import annotations

import numpy as np
import pytest

from jetml.nn.metrics import (
    background_rejection,
    classification_metrics,
    effective_resolution,
    pair_discriminant,
    regression_metrics,
    roc_auc,
)


def test_roc_auc_known_values() -> None:
    is_signal = np.array([1, 1, 0, 0], dtype=bool)
    assert roc_auc(np.array([0.9, 0.8, 0.2, 0.1]), is_signal) == 1.0
    assert roc_auc(np.array([0.1, 0.2, 0.8, 0.9]), is_signal) == 0.0
    assert roc_auc(np.array([0.5, 0.5, 0.5, 0.5]), is_signal) == 0.5  # ties count one half
    # one of four signal-background pairs misordered
    assert roc_auc(np.array([0.9, 0.3, 0.4, 0.1]), is_signal) == 0.75


def test_roc_auc_matches_gaussian_expectation() -> None:
    rng = np.random.default_rng(0)
    signal, background = rng.normal(1.0, 1.0, 20000), rng.normal(0.0, 1.0, 20000)
    scores = np.concatenate([signal, background])
    labels = np.concatenate([np.ones(20000, bool), np.zeros(20000, bool)])
    # AUC of two unit Gaussians 1 sigma apart: Phi(1/sqrt(2)) = 0.7602
    assert roc_auc(scores, labels) == pytest.approx(0.7602, abs=0.006)
    with pytest.raises(ValueError, match="both"):
        roc_auc(scores[:5], np.ones(5, bool))


def test_background_rejection() -> None:
    signal = np.linspace(0.5, 1.0, 100)
    background = np.linspace(0.0, 0.6, 100)
    scores = np.concatenate([signal, background])
    labels = np.concatenate([np.ones(100, bool), np.zeros(100, bool)])
    # the 50% signal-efficiency cut is at 0.75: no background passes
    assert background_rejection(scores, labels, 0.5) is None
    # 100%: cut at 0.5, background above 0.5 is 1/6 of it -> rejection ~6
    assert background_rejection(scores, labels, 1.0) == pytest.approx(100 / 17)


def test_classification_metrics_use_only_the_pair_classes() -> None:
    names = ("Top", "W", "QCD")
    labels = np.array([0, 0, 1, 2, 2])
    probabilities = np.array(
        [[0.8, 0.1, 0.1], [0.6, 0.2, 0.2], [0.1, 0.8, 0.1], [0.2, 0.1, 0.7], [0.1, 0.2, 0.7]]
    )
    result = classification_metrics(
        probabilities, labels, names, {"top_vs_qcd": (["Top"], ["QCD"]), "x": (["W"], ["Top"])}
    )
    top = result["top_vs_qcd"]
    assert top["auc"] == 1.0 and top["n_signal"] == 2 and top["n_background"] == 2
    assert set(top) >= {"rejection_at_eff50", "rejection_at_eff30"}
    np.testing.assert_allclose(
        pair_discriminant(probabilities, [0], [2]),
        probabilities[:, 0] / probabilities[:, [0, 2]].sum(1),
    )


def test_regression_metrics() -> None:
    rng = np.random.default_rng(1)
    target = rng.normal(1.1, 0.15, 5000)  # y = pT_gen / pT_reco
    perfect = np.stack([target, target - 0.1, target + 0.1], axis=1)
    result = regression_metrics(perfect, target)
    assert result["resolution_after"] == pytest.approx(0.0, abs=1e-12)
    assert result["resolution_improvement"] == pytest.approx(1.0)
    assert result["mean_predicted_resolution"] == pytest.approx(0.1)
    assert result["quantile_coverage"] == 1.0
    unit = np.stack([np.ones_like(target), np.ones_like(target), np.ones_like(target)], axis=1)
    assert regression_metrics(unit, target)["resolution_improvement"] == pytest.approx(0.0)
    assert effective_resolution(rng.normal(1.0, 0.1, 100000)) == pytest.approx(0.1, rel=0.02)


def test_goal_report_marks_met_unmet_and_unmeasurable() -> None:
    pytest.importorskip("torch")
    from jetml.nn.pipeline import goal_report

    metrics = {
        "pairs": {"hbb_vs_qcd": {"rejection_at_eff50": 64.0}},
        "top_vs_qcd_pt500_650": {"auc": 0.95, "rejection_at_eff30": None},
    }
    report = goal_report(metrics)
    assert report["hbb_vs_qcd_rejection_at_eff50"] == {"goal_min": 50.0, "value": 64.0, "met": True}
    assert report["top_vs_qcd_pt500_650_auc"]["met"] is False
    assert report["top_vs_qcd_pt500_650_rejection_at_eff30"]["met"] is None
    assert "breg_resolution_improvement" not in report
