"""``jetml.metrics`` (ROC, 1/εB with binomial and bootstrap uncertainties, AUC) and
``jetml.plotting`` (figures drawn from hist.Hist or arrays, labelled "Simulation (jetml)")."""

from __future__ import annotations

import hist
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
from scipy.stats import norm

from jetml import metrics, plotting
from jetml.nn.metrics import background_rejection, roc_auc


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def gaussian_scores(rng: np.random.Generator, n_sig: int, n_bkg: int, shift: float = 1.0):
    return rng.normal(shift, 1.0, n_sig), rng.normal(0.0, 1.0, n_bkg)


def test_rejection_and_auc_match_the_card_metrics_and_brute_force() -> None:
    rng = np.random.default_rng(3)
    sig, bkg = gaussian_scores(rng, 3000, 9000)
    sig[:50] = np.round(sig[:50], 1)  # ties
    bkg[:500] = np.round(bkg[:500], 1)
    curve = metrics.roc_curve(sig, bkg)
    scores = np.concatenate([sig, bkg])
    truth = np.arange(len(scores)) < len(sig)
    assert metrics.auc(curve).value == pytest.approx(roc_auc(scores, truth), abs=1e-12)
    for efficiency in (0.3, 0.5, 0.9):
        result = metrics.rejection_at(curve, efficiency)
        assert result.value == pytest.approx(background_rejection(scores, truth, efficiency))
        # brute force: tightest threshold keeping >= efficiency of the signal
        assert np.mean(sig >= result.threshold) >= efficiency
        assert np.mean(sig > result.threshold) < efficiency
        assert result.value == pytest.approx(len(bkg) / np.sum(bkg >= result.threshold))
        assert result.n_signal == 3000 and result.n_background == 9000


def test_auc_and_rejection_agree_with_the_true_distribution() -> None:
    rng = np.random.default_rng(4)
    curve = metrics.roc_curve(*gaussian_scores(rng, 20_000, 20_000))
    area = metrics.auc(curve, seed=1)
    assert abs(area.value - norm.cdf(1 / np.sqrt(2))) < 3 * (area.high - area.low) / 2
    true_rejection = 1 / norm.sf(1 + norm.isf(0.5))
    rejection = metrics.rejection_at(curve, 0.5, method="bootstrap", seed=2)
    assert abs(rejection.value - true_rejection) < 3 * (rejection.high - rejection.low) / 2


def test_binomial_interval_covers_the_true_rejection_as_stated() -> None:
    """Toys with known εB at a fixed threshold: the 68 % Clopper-Pearson interval covers the
    true 1/εB in at least 68 % of them (CP is conservative) and not in nearly all."""
    rng = np.random.default_rng(5)
    threshold, covered, toys = norm.isf(0.5) + 1.0, 0, 400
    true_rejection = 1 / norm.sf(threshold)
    for _ in range(toys):
        sig = np.concatenate([[threshold], rng.normal(3.0, 0.1, 1)])  # 50 %: cut at threshold
        bkg = rng.normal(0.0, 1.0, 300)
        result = metrics.rejection_at(metrics.roc_curve(sig, bkg), 1.0)
        covered += result.low <= true_rejection <= result.high
        assert result.threshold == threshold
    assert 0.68 <= covered / toys <= 0.85


def test_bootstrap_width_matches_toy_to_toy_spread() -> None:
    rng = np.random.default_rng(6)
    values = []
    for _ in range(150):
        curve = metrics.roc_curve(*gaussian_scores(rng, 400, 2000))
        values.append(metrics.rejection_at(curve, 0.5).value)
    spread = np.std(values)
    one = metrics.roc_curve(*gaussian_scores(rng, 400, 2000))
    boot = metrics.rejection_at(one, 0.5, method="bootstrap", replicas=400, seed=1)
    binomial = metrics.rejection_at(one, 0.5)
    assert (boot.high - boot.low) / 2 == pytest.approx(spread, rel=0.35)
    # the binomial interval neglects the threshold's fluctuation: narrower than the truth
    assert (binomial.high - binomial.low) < (boot.high - boot.low)
    assert "bootstrap (400 Poisson replicas, seed 1)" == boot.method
    assert binomial.method.startswith("binomial")
    again = metrics.rejection_at(one, 0.5, method="bootstrap", replicas=400, seed=1)
    assert (again.low, again.high) == (boot.low, boot.high)  # seeded


def test_histograms_give_the_same_curve_as_arrays_on_bin_edges() -> None:
    rng = np.random.default_rng(7)
    sig = rng.integers(3, 10, 500) / 10  # scores on the lower edges of 0.1-wide bins
    bkg = rng.integers(0, 8, 2000) / 10
    axis = hist.axis.Regular(10, 0.0, 1.0, name="score")
    by_hist = metrics.roc_curve(hist.Hist(axis).fill(sig), hist.Hist(axis).fill(bkg))
    by_array = metrics.roc_curve(sig, bkg)
    for efficiency in (0.3, 0.5, 0.8):
        a = metrics.rejection_at(by_hist, efficiency)
        b = metrics.rejection_at(by_array, efficiency)
        assert (a.value, a.low, a.high) == pytest.approx((b.value, b.low, b.high))
        assert a.threshold == pytest.approx(b.threshold)
    assert metrics.auc(by_hist).value == pytest.approx(metrics.auc(by_array).value)


def test_select_labels_and_processor_style_histograms() -> None:
    h = hist.Hist(
        hist.axis.StrCategory(["top", "W", "QCD"], name="label"),
        hist.axis.Regular(20, 0, 1, name="score"),
    )
    h.fill(label="top", score=np.full(30, 0.95))
    h.fill(label="W", score=np.full(10, 0.55))
    h.fill(label="QCD", score=np.concatenate([np.full(90, 0.05), np.full(10, 0.97)]))
    signal = metrics.select_labels(h, ["top", "W"])
    assert signal.sum() == 40
    curve = metrics.roc_curve(signal, metrics.select_labels(h, ["QCD"]))
    result = metrics.rejection_at(curve, 0.75)
    assert result.value == pytest.approx(10.0) and result.background_passed == 10
    with pytest.raises(ValueError, match="not on axis"):
        metrics.select_labels(h, ["Z"])


def test_no_background_passing_gives_a_lower_limit() -> None:
    curve = metrics.roc_curve(np.linspace(0.9, 1.0, 50), np.linspace(0.0, 0.5, 100))
    result = metrics.rejection_at(curve, 0.5, method="bootstrap")
    assert not result.measured and result.value == np.inf and result.high == np.inf
    # 68 % two-sided Clopper-Pearson upper limit on εB for 0 of 100: 1 - 0.1587^(1/100)
    assert result.low == pytest.approx(1 / (1 - 0.158655 ** (1 / 100)), rel=1e-3)
    assert str(result).startswith("> 54")


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="needs signal and background"):
        metrics.roc_curve([], [0.1])
    with pytest.raises(ValueError, match="weighted"):
        weighted = hist.Hist(hist.axis.Regular(4, 0, 1), storage=hist.storage.Weight())
        metrics.roc_curve(weighted.fill([0.1], weight=2.0), weighted.copy().fill([0.2]))
    with pytest.raises(TypeError, match="not a mix"):
        metrics.roc_curve(hist.Hist(hist.axis.Regular(4, 0, 1)).fill([0.1]), [0.2])
    curve = metrics.roc_curve([0.5], [0.1])
    with pytest.raises(ValueError, match="method"):
        metrics.rejection_at(curve, 0.5, method="guess")
    with pytest.raises(ValueError, match="not in"):
        metrics.rejection_at(curve, 0.0)


def _texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


def test_plot_roc_marks_rejection_with_its_uncertainty() -> None:
    rng = np.random.default_rng(8)
    sig, bkg = gaussian_scores(rng, 500, 3000)
    ax = plotting.plot_roc({"toy": (sig, bkg)}, efficiencies=(0.5,), selection="toy jets")
    assert plotting.LABEL in _texts(ax)
    assert ax.get_yscale() == "log"
    expected = metrics.rejection_at(metrics.roc_curve(sig, bkg), 0.5)
    (bars,) = ax.containers
    x, y = bars.lines[0].get_data()
    assert y[0] == pytest.approx(expected.value)
    assert x[0] == pytest.approx(expected.achieved_signal_efficiency)
    low, high = bars.lines[2][0].get_segments()[0][:, 1]
    assert (low, high) == pytest.approx((expected.low, expected.high))
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["toy ($N_S$=500, $N_B$=3000)"]


def test_plot_score_distributions_from_hist_and_arrays_agree() -> None:
    rng = np.random.default_rng(9)
    top, qcd = rng.uniform(0.5, 1, 300), rng.uniform(0, 0.6, 700)
    h = hist.Hist(
        hist.axis.StrCategory(["top", "QCD", "W"], name="label"),
        hist.axis.Regular(50, 0, 1, name="score"),
    )
    h.fill(label="top", score=top).fill(label="QCD", score=qcd)
    from_hist = plotting.plot_score_distributions(h)
    from_arrays = plotting.plot_score_distributions({"top": top, "QCD": qcd})
    for ax in (from_hist, from_arrays):
        legend = [t.get_text() for t in ax.get_legend().get_texts()]
        assert legend == ["top (300 jets)", "QCD (700 jets)"]  # empty W left out
        assert plotting.LABEL in _texts(ax)
    heights = [line.get_ydata() for line in from_hist.lines]
    assert [line.get_ydata() for line in from_arrays.lines] == pytest.approx(heights)


def test_plot_score_vs_mass_counts_every_jet() -> None:
    rng = np.random.default_rng(10)
    score, mass = rng.uniform(0, 1, 400), rng.uniform(0, 300, 400)
    mass[:5] = np.nan  # dropped
    ax = plotting.plot_score_vs_mass((score, mass))
    mesh = ax.collections[0]
    assert np.nansum(mesh.get_array()) == 395
    assert plotting.LABEL in _texts(ax)


def test_plot_stack_ratio_ratio_is_reference_over_stack() -> None:
    rng = np.random.default_rng(11)
    a, b = rng.uniform(0, 1, 600), rng.uniform(0, 1, 400)
    reference = np.concatenate([a, b, rng.uniform(0, 1, 100)])
    main, ratio_ax = plotting.plot_stack_ratio(
        {"a": a, "b": b}, reference, bins=10, value_range=(0, 1), reference_label="ref"
    )
    _, y = ratio_ax.containers[0].lines[0].get_data()
    expected = np.histogram(reference, 10, (0, 1))[0] / (
        np.histogram(a, 10, (0, 1))[0] + np.histogram(b, 10, (0, 1))[0]
    )
    assert y == pytest.approx(expected)
    assert plotting.LABEL in _texts(main)
    with pytest.raises(ValueError, match="differ in bins"):
        h = hist.Hist(hist.axis.Regular(5, 0, 1)).fill(a)
        plotting.plot_stack_ratio({"a": h}, hist.Hist(hist.axis.Regular(10, 0, 1)).fill(a))


def test_plot_scatter_and_bars() -> None:
    ax = plotting.plot_scatter([0.1, 0.5, np.nan], [0.12, 0.5, 0.3], xlabel="x", ylabel="y")
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["2 jets, max |Δ| = 0.02"]
    ax = plotting.plot_bars(
        {"deepak8": {"torch": 2.0, "ORT": 1.0}, "deepjet": {"ORT": 0.5}}, xlabel="ms/jet"
    )
    widths = [p.get_width() for p in ax.patches]
    assert widths[:2] == pytest.approx([2.0, np.nan], nan_ok=True)  # torch: deepjet missing
    assert widths[2:] == [1.0, 0.5]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["deepak8", "deepjet"]


def test_results_records_are_finite_even_without_passing_background() -> None:
    curve = metrics.roc_curve(np.linspace(0.9, 1.0, 50), np.linspace(0.0, 0.5, 100))
    limit = metrics.rejection_at(curve, 0.5).to_dict()
    assert "value" not in limit and limit["lower_limit"] > 50 and limit["background_passed"] == 0
    measured = metrics.rejection_at(metrics.roc_curve([0.4, 0.9], [0.1, 0.5]), 1.0).to_dict()
    assert measured["value"] == 2.0 and measured["n_background"] == 2
    assert metrics.auc(curve).to_dict()["value"] == 1.0


def test_performance_collects_auc_and_rejections() -> None:
    rng = np.random.default_rng(12)
    curve = metrics.roc_curve(*gaussian_scores(rng, 300, 900))
    found = metrics.performance(curve, (0.3, 0.5), method="binomial", seed=2)
    assert list(found) == ["auc", "rejection_eff30", "rejection_eff50"]
    assert found["rejection_eff50"].value == metrics.rejection_at(curve, 0.5).value
    assert found["auc"].value == metrics.auc(curve).value


def test_unbounded_bootstrap_upper_edge_is_written_as_such() -> None:
    # one background jet above the 50 % threshold: many replicas lose it
    sig = np.linspace(0.5, 1.0, 40)
    bkg = np.concatenate([np.linspace(0.0, 0.4, 200), [0.9]])
    result = metrics.rejection_at(metrics.roc_curve(sig, bkg), 0.5, method="bootstrap", seed=3)
    assert result.measured and result.value == pytest.approx(201.0)
    assert result.high == np.inf
    record = result.to_dict()
    assert record["high"] == "unbounded" and record["value"] == pytest.approx(201.0)


def test_plot_roc_marks_lower_limits() -> None:
    sig, bkg = np.linspace(0.6, 1.0, 50), np.linspace(0.0, 0.7, 100)
    ax = plotting.plot_roc({"toy": (sig, bkg)}, efficiencies=(0.3, 0.9))
    limit = metrics.rejection_at(metrics.roc_curve(sig, bkg), 0.3)
    assert not limit.measured
    markers = [line for line in ax.lines if line.get_marker() == "^"]
    assert len(markers) == 1
    assert markers[0].get_ydata()[0] == pytest.approx(limit.low)
    (bars,) = ax.containers  # the measured point at 90 % keeps its error bar
    assert bars.lines[0].get_ydata()[0] == pytest.approx(
        metrics.rejection_at(metrics.roc_curve(sig, bkg), 0.9).value
    )
