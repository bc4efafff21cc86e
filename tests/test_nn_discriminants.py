"""DeepDoubleX and DeepTau discriminants and DeepTau working points (numpy only)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")

from jetml.labels import DEEPDOUBLEX_CLASSES, DEEPDOUBLEX_DISCRIMINANTS, discriminant_scores
from jetml.nn.deeptau import WORKING_POINT_EFFICIENCIES, working_points
from jetml.nn.deeptau_metrics import discriminants as tau_discriminants


def test_deepdoublex_pairwise_ratios() -> None:
    probabilities = np.array([[0.5, 0.3, 0.2], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])  # QCD, Hbb, Hcc
    d = discriminant_scores(DEEPDOUBLEX_DISCRIMINANTS, DEEPDOUBLEX_CLASSES, probabilities)
    np.testing.assert_allclose(d["BvL"], [0.3 / 0.8, 0.0, 0.0])
    np.testing.assert_allclose(d["CvL"], [0.2 / 0.7, 1.0, 0.0])
    np.testing.assert_allclose(d["CvB"], [0.2 / 0.5, 1.0, 0.0])  # 0/0 -> 0, never NaN


def test_deeptau_discriminants_and_working_points() -> None:
    probabilities = np.array([[0.1, 0.2, 0.3, 0.4], [0.0, 0.0, 1.0, 0.0]])  # e, mu, jet, tau
    d = tau_discriminants(probabilities)
    np.testing.assert_allclose(d["e"], [0.4 / 0.5, 0.0])
    np.testing.assert_allclose(d["mu"], [0.4 / 0.6, 0.0])
    np.testing.assert_allclose(d["jet"], [0.4 / 0.7, 0.0])

    genuine = np.random.default_rng(0).uniform(size=100000)
    thresholds = working_points(genuine, WORKING_POINT_EFFICIENCIES["jet"])
    assert list(thresholds) == list(WORKING_POINT_EFFICIENCIES["jet"])
    for name, target in WORKING_POINT_EFFICIENCIES["jet"].items():
        assert np.mean(genuine >= thresholds[name]) == pytest.approx(target, abs=1e-3)
    # tighter working points have higher thresholds
    assert all(np.diff(list(thresholds.values())) > 0)
    with pytest.raises(ValueError, match="not in"):
        working_points(genuine, {"bad": 1.5})
