"""Statistics of the study modules on synthetic numbers with known answers: resolutions and
their fits, coverage, the Bukin function, pseudo-data, the QCD estimate and relative changes."""

from __future__ import annotations

import hist
import numpy as np
import pytest

from jetml import mutau, resolution
from jetml.normalisation import poisson_pseudo_data


def test_quantile_resolution_and_core_fit_of_a_gaussian() -> None:
    rng = np.random.default_rng(1)
    response = rng.normal(1.0, 0.1, 20_000)
    assert resolution.quantile_resolution(response) == pytest.approx(0.1, rel=0.03)
    core = resolution.core_fit(response)
    assert core.low < 0.1 < core.high or core.value == pytest.approx(0.1, rel=0.03)
    est = resolution.resolution(response, replicas=50, seed=2)
    assert est.low < est.value < est.high and est.n_signal == 20_000


def test_improvement_of_a_narrower_response() -> None:
    rng = np.random.default_rng(3)
    truth = rng.normal(0.0, 1.0, 5000)
    before = 1.0 + 0.2 * truth
    after = 1.0 + 0.1 * truth + rng.normal(0.0, 0.01, 5000)
    gain = resolution.improvement(before, after, replicas=50, seed=4)
    assert gain.value == pytest.approx(0.5, abs=0.03)
    assert gain.low < gain.value < gain.high


def test_resolution_in_bins_drops_sparse_bins() -> None:
    rng = np.random.default_rng(5)
    pt = np.concatenate([rng.uniform(20, 50, 500), [300.0]])
    r = 1 + rng.normal(0, 0.1, len(pt))
    binned = resolution.resolution_in_bins(pt, r, r, [20, 50, 200, 400], replicas=20)
    np.testing.assert_array_equal(binned.edges, [[20.0, 50.0]])
    assert binned.before[0].value == binned.after[0].value


def test_quantile_coverage_of_true_quantiles_is_half() -> None:
    rng = np.random.default_rng(6)
    width = rng.uniform(0.05, 0.3, 40_000)
    truth = 1.0 + width * rng.normal(size=40_000)
    q = 0.6745 * width  # the 25/75 % quantiles of a Gaussian
    cov = resolution.quantile_coverage(truth, 1.0 - q, 1.0 + q, bins=4)
    np.testing.assert_allclose(cov.value, 0.5, atol=0.015)
    assert cov.total.sum() == 40_000
    too_narrow = resolution.quantile_coverage(truth, 1.0 - q / 2, 1.0 + q / 2, bins=2)
    assert np.all(too_narrow.high < 0.3)


def test_bukin_has_a_gaussian_core_and_fits_its_width() -> None:
    fwhm = 2.0 * np.sqrt(2.0 * np.log(2.0)) * 10.0
    core = np.linspace(125 - fwhm / 2 + 1e-6, 125 + fwhm / 2 - 1e-6, 20)
    np.testing.assert_allclose(
        resolution.bukin(core, 125.0, 10.0, 0.0, 0.0, 0.0), np.exp(-0.5 * ((core - 125) / 10) ** 2)
    )
    # continuous at the edges of the core, where the tails take over
    for edge in (125 - fwhm / 2, 125 + fwhm / 2):
        sides = resolution.bukin(np.array([edge - 1e-6, edge + 1e-6]), 125.0, 10.0, 0.2, 0.1, 0.1)
        assert sides[0] == pytest.approx(sides[1], rel=1e-4)
    assert resolution.bukin(np.array([110.0]), 125.0, 10.0, 0.3, 0.1, 0.1)[0] > 0
    rng = np.random.default_rng(7)
    masses = rng.normal(120.0, 12.0, 8000)
    fit = resolution.fit_bukin(masses, (40.0, 200.0), bins=40)
    assert fit.peak == pytest.approx(120.0, abs=1.5)
    assert fit.width == pytest.approx(12.0, rel=0.05)
    rel = fit.relative
    assert rel.low < rel.value < rel.high and rel.value == pytest.approx(0.1, rel=0.1)


def test_leading_b_jet_pair_mass_scales_with_the_correction() -> None:
    import awkward as ak

    jets = ak.Array(
        [
            {
                "pt": [60.0, 40.0, 10.0],
                "eta": [0.0, 0.5, 1.0],
                "phi": [0.0, 2.5, 1.0],
                "mass": [5.0, 5.0, 1.0],
            },
            {"pt": [30.0], "eta": [0.0], "phi": [0.0], "mass": [4.0]},
        ]
    )
    correction = ak.Array([[1.1, 1.1, 2.0], [1.0]])
    raw, corrected = resolution.leading_b_jet_pair(jets, correction)
    assert len(raw) == 1
    assert corrected[0] == pytest.approx(1.1 * raw[0], rel=1e-6)


def _h(values) -> hist.Hist:
    h = mutau.mass_histogram(bins=len(values), low=0.0, high=float(len(values)))
    h.view().value = np.asarray(values, dtype=float)
    h.view().variance = np.asarray(values, dtype=float)
    return h


def test_pseudo_data_is_seeded_poisson() -> None:
    expected = _h([100.0, 0.0, 2500.0])
    a, b = poisson_pseudo_data(expected, 1), poisson_pseudo_data(expected, 1)
    np.testing.assert_array_equal(a.values(), b.values())
    assert a.values()[1] == 0 and abs(a.values()[2] - 2500) < 5 * 50
    assert np.all(a.values() == np.round(a.values()))


def test_qcd_from_same_sign_with_os_ss_factor() -> None:
    factor = mutau.os_ss_factor(
        _h([60.0, 60.0]), _h([50.0, 50.0]), _h([10.0, 10.0]), _h([10.0, 10.0])
    )
    assert factor.value == pytest.approx(100.0 / 80.0)
    assert factor.low < factor.value < factor.high
    qcd = mutau.qcd_from_same_sign(_h([30.0, 5.0]), _h([10.0, 10.0]), factor, _h([0.0, 0.0]))
    np.testing.assert_allclose(qcd.histogram.values(), [20.0 * 1.25, 0.0])
    assert qcd.same_sign_excess == 20.0
    none = mutau.os_ss_factor(_h([1.0]), _h([1.0]), _h([5.0]), _h([5.0]))
    assert none.value == 1.0 and "assumed" in none.method


def test_relative_change_and_its_bootstrap() -> None:
    weights = np.full(1000, 2.0)
    reference = np.arange(1000) < 500
    new = np.arange(1000) < 600
    change = mutau.relative_change(weights, reference, new, replicas=100, seed=1)
    assert change.value == pytest.approx(0.2)
    assert change.low < 0.2 < change.high and change.high - change.low < 0.1
    with pytest.raises(ValueError, match="no event passes"):
        mutau.relative_change(weights, np.zeros(1000, bool), new)


def test_binned_efficiency_by_value_and_by_edges() -> None:
    dm = np.array([0, 0, 1, 1, 1, 10])
    passed = np.array([1, 0, 1, 1, 0, 1], bool)
    by_dm = mutau.binned_efficiency(dm, passed)
    assert by_dm.labels == ("0", "1", "10")
    np.testing.assert_allclose(by_dm.value, [0.5, 2 / 3, 1.0])
    by_pt = mutau.binned_efficiency([25.0, 35.0, 500.0], [True, False, True], [20, 30, 40])
    np.testing.assert_array_equal(by_pt.total, [1, 1])


def test_mass_resolution_improvement_of_a_narrower_peak() -> None:
    rng = np.random.default_rng(8)
    truth = rng.normal(size=3000)
    raw = 110.0 + 16.5 * truth
    corrected = 125.0 + 12.5 * truth  # sigma/mu 0.15 -> 0.10
    gain = resolution.mass_resolution_improvement(raw, corrected, (40.0, 200.0), replicas=10)
    assert gain.value == pytest.approx(1 / 3, abs=0.05)
    assert gain.low <= gain.value <= gain.high


def test_candidate_change_is_none_without_reference_candidates() -> None:
    new = np.array([True, False, True])
    assert mutau.candidate_change(np.zeros(3, bool), new) is None
    change = mutau.candidate_change(np.array([True, True, False]), new, replicas=50, seed=2)
    assert change is not None and change.value == 0.0
    assert (change.n_signal, change.n_background) == (2, 2)


def test_region_counts_of_pairs() -> None:
    pairs = mutau.MuTauPairs(
        event_index=np.arange(5),
        visible_mass=np.full(5, 60.0),
        opposite_sign=np.array([True, True, False, True, False]),
        muon_isolation=np.array([0.05, 0.30, 0.10, 0.20, 0.45]),
        tau_pt=np.full(5, 30.0),
        tau_decay_mode=np.zeros(5, dtype=np.int64),
        source=np.zeros(5, dtype=np.int64),
    )
    assert mutau.region_counts(pairs) == {
        "OS isolated": 1,
        "SS isolated": 1,
        "OS anti-isolated": 1,  # 0.20 is in neither region
        "SS anti-isolated": 1,
    }
