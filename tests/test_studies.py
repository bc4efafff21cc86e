"""Issue 16 study tools: traditional taggers, JSD and mass sculpting, the study samples and
models (Makefile lines = the declarations), the evaluation jet table and per-pT performance."""

from __future__ import annotations

import re
from pathlib import Path

import awkward as ak
import numpy as np
import pytest
import uproot

from jetml import decorrelation as dc
from jetml import evaluation as ev
from jetml.metrics import rejection_at, roc_curve
from jetml.substructure import (
    MASS_WINDOWS,
    double_b_variable,
    subjet_pair_significance,
    tau_ratio,
    traditional_scores,
    window_score,
)

MAKEFILE = Path(__file__).resolve().parent.parent / "Makefile"


# -- jetml.decorrelation -------------------------------------------------------------------


def test_jensen_shannon_values() -> None:
    assert dc.jensen_shannon([1, 2, 3], [2, 4, 6]) == pytest.approx(0.0)
    assert dc.jensen_shannon([5, 0], [0, 7]) == pytest.approx(1.0)  # disjoint: 1 bit
    p, q = np.array([0.25, 0.75]), np.array([0.5, 0.5])
    m = (p + q) / 2
    expected = 0.5 * np.sum(p * np.log2(p / m)) + 0.5 * np.sum(q * np.log2(q / m))
    assert dc.jensen_shannon(p, q) == pytest.approx(expected)
    both = dc.jensen_shannon([[1, 1], [5, 0]], [[1, 1], [0, 7]])
    np.testing.assert_allclose(both, [0.0, 1.0])


def test_threshold_at_efficiency_agrees_with_the_rejection() -> None:
    rng = np.random.default_rng(1)
    signal, background = rng.normal(1, 1, 997), rng.normal(0, 1, 3001)
    for efficiency in (0.3, 0.5, 0.9):
        threshold = dc.threshold_at_efficiency(signal, efficiency)
        assert np.mean(signal >= threshold) >= efficiency
        assert np.mean(signal > threshold) < efficiency
        found = rejection_at(roc_curve(signal, background), efficiency)
        assert found.threshold == threshold
    with pytest.raises(ValueError, match="not in"):
        dc.threshold_at_efficiency(signal, 0.0)


def test_mass_sculpting_sees_a_mass_cut_and_not_an_independent_cut() -> None:
    rng = np.random.default_rng(2)
    n = 20000
    mass = rng.exponential(60.0, n)
    signal = rng.normal(1.0, 1.0, 5000)
    independent = rng.normal(0.0, 1.0, n)
    sculpting = mass / 100.0 + rng.normal(0.0, 0.3, n)  # QCD score grows with mass
    flat = dc.mass_sculpting(signal, independent, mass, seed=3)
    sculpted = dc.mass_sculpting(signal, sculpting, mass, seed=3)
    assert flat.signal_efficiency == pytest.approx(0.5, abs=1e-3)
    assert flat.n_pass + flat.n_fail == n and flat.inverse.n_background == n
    # independent cut: JSD at the statistical floor (within a factor 2)
    assert 0.5 * flat.floor < flat.jsd < 2.0 * flat.floor
    assert sculpted.jsd > 20 * flat.jsd
    assert flat.inverse.low < flat.inverse.value < flat.inverse.high
    record = sculpted.to_dict()
    assert record["inverse_jsd"]["value"] == pytest.approx(1 / sculpted.jsd)
    with pytest.raises(ValueError, match="passing and failing"):
        dc.mass_sculpting(signal, np.full(n, -10.0), mass)


def test_jsd_floor_matches_simulation() -> None:
    rng = np.random.default_rng(6)
    edges = dc.JSD_EDGES
    values = [
        dc.jensen_shannon(
            np.histogram(rng.uniform(0, 300, 2000), edges)[0],
            np.histogram(rng.uniform(0, 300, 8000), edges)[0],
        )
        for _ in range(200)
    ]
    assert np.mean(values) == pytest.approx(dc.jsd_floor(2000, 8000), rel=0.1)


def test_mass_after_cuts_keeps_the_requested_background_fractions() -> None:
    rng = np.random.default_rng(4)
    scores, mass = rng.uniform(size=10000), rng.uniform(0, 300, 10000)
    found = dc.mass_after_cuts(scores, mass, (0.1, 0.02))
    assert list(found) == ["inclusive", "eff10%", "eff2%"]
    assert found["inclusive"].sum() == 10000
    assert found["eff10%"].sum() == 1000 and found["eff2%"].sum() == 200
    signal = dc.mass_after_cuts(scores, mass[:100], (0.1,), scores=scores[:100])
    assert signal["eff10%"].sum() == np.sum(scores[:100] >= np.sort(scores)[-1000])


def test_mean_score_vs_mass() -> None:
    profile = dc.mean_score_vs_mass([1.0, 3.0, 5.0, 2.0], [5.0, 8.0, 15.0, 400.0], [0, 10, 20, 30])
    np.testing.assert_allclose(profile.mean[:2], [2.0, 5.0])
    assert np.isnan(profile.mean[2]) and list(profile.counts) == [2, 1, 0]
    assert profile.error[0] == pytest.approx(np.std([1.0, 3.0], ddof=1) / np.sqrt(2))
    assert np.isnan(profile.error[1])
    np.testing.assert_allclose(profile.centers, [5, 15, 25])


# -- jetml.substructure -------------------------------------------------------------------


def test_tau_ratio_and_window_score() -> None:
    np.testing.assert_allclose(tau_ratio([0.2, 0.5, 0.1], [0.4, 0.0, np.nan]), [0.5, 1.0, 1.0])
    score = window_score([100.0, 100.0, 300.0], (90.0, 140.0), [0.2, 0.9, 0.99])
    np.testing.assert_allclose(score, [1.2, 1.9, 0.99])
    # every in-window jet ranks above every out-of-window jet
    window = (90.0, 140.0)
    assert window_score([100.0], window, [0.0])[0] > window_score([10.0], window, [1.0])[0]
    trad = traditional_scores([175.0], [0.5], [0.25], [0.1], [3.0], [5.0])
    assert set(trad) == set(MASS_WINDOWS)
    assert trad["top"][0] == pytest.approx(1.6) and trad["W"][0] == pytest.approx(0.5)
    assert trad["Hbb"][0] == pytest.approx(0.5 + 0.5 * 0.75)


def test_subjet_pair_significance_and_the_double_b_variable() -> None:
    events = ak.zip(
        {
            "SubJet": ak.zip({"eta": [[0.0, 1.0, 3.0]], "phi": [[0.0, 0.0, 0.0]]}),
            "SV": ak.zip(
                {
                    "eta": [[0.1, 0.05, 1.0, 2.0]],
                    "phi": [[0.0, 0.1, 3.1, 0.0]],
                    "dlenSig": [[4.0, 9.0, 50.0, 70.0]],
                }
            ),
            "FatJet": ak.zip({"subJetIdx1": [[0, 0, 2]], "subJetIdx2": [[1, -1, 0]]}),
        },
        depth_limit=1,
    )
    # subjet 0: SVs 0 and 1 inside (best 9); subjet 1: none (the SV at its eta is at phi 3.1);
    # subjet 2: none; jet 1 has no second subjet
    weaker, stronger = subjet_pair_significance(events)
    np.testing.assert_allclose(ak.to_list(weaker)[0], [0.0, 0.0, 0.0])
    np.testing.assert_allclose(ak.to_list(stronger)[0], [9.0, 9.0, 9.0])
    events["FatJet", "subJetIdx2"] = ak.Array([[0, 0, 0]])
    weaker, _ = subjet_pair_significance(events)
    np.testing.assert_allclose(ak.to_list(weaker)[0], [9.0, 9.0, 0.0])
    # double-b jets rank above single-b ones, whatever the significances
    values = double_b_variable([0.5, 0.0, 0.0, 3.0], [0.5, 80.0, 0.0, 3.0])
    assert values[0] > values[1] > values[2] == 0.0 and values[3] > values[0]
    assert np.all(values < 1.0)


# -- jetml.evaluation --------------------------------------------------------------------


def test_makefile_builds_exactly_the_declared_samples_and_models() -> None:
    text = MAKEFILE.read_text()
    generate = re.findall(r"\$\(BIN\)/jetml (generate .*--out \$\(STUDY\)/(?:train|eval)/.*)", text)
    expected = [
        " ".join(ev.generate_command(name, spec, f"$(STUDY)/{folder}"))
        for folder, specs in (("train", ev.TRAINING_SAMPLES), ("eval", ev.EVALUATION_SAMPLES))
        for name, spec in specs.items()
    ]
    assert generate == expected
    train = re.findall(r"\|\| \$\(BIN\)/jetml (train .*)", text)
    assert train == [
        " ".join(ev.study_train_command(n, ["$(STUDY_TRAIN)"], f"$(STUDY)/models/{n}"))
        for n in ev.STUDY_MODELS
    ]
    shipped = re.search(r"^STUDY_MODEL_NAMES := (.*)$", text, re.MULTILINE)
    assert shipped is not None and shipped.group(1).split() == list(ev.STUDY_MODELS)
    needed = re.search(r"\$\(foreach s,([^,]*),\$\(STUDY\)/eval/", text)  # make notebooks' check
    assert needed is not None and needed.group(1).split() == list(ev.EVALUATION_SAMPLES)
    # independent evaluation: no seed shared with training (or with the shipped models' 11-35)
    train_seeds = {s.seed for s in ev.TRAINING_SAMPLES.values()}
    eval_seeds = {s.seed for s in ev.EVALUATION_SAMPLES.values()}
    assert not train_seeds & eval_seeds and not eval_seeds & set(range(11, 36))


def test_study_train_command_overrides_for_quick_runs() -> None:
    words = ev.study_train_command("md_lam3", ["a.root"], "out", epochs=1, max_jets=500)
    assert words[:4] == ["train", "deepak8_md", "--lam", "3"]
    assert words[words.index("--epochs") + 1] == "1" and words[-2:] == ["--max-jets", "500"]
    assert words[words.index("--name") + 1] == "md_lam3"


def test_category_of_labels() -> None:
    assert list(ev.category_of_labels([0, 2, 4, 9, 10, 11, 12, 16, -1])) == [
        "top", "other", "W", "Hbb", "Hcc", "other", "QCD", "QCD", "none",
    ]  # fmt: skip


def test_performance_by_pt_bins() -> None:
    rng = np.random.default_rng(8)
    n = 4000
    table = {
        "category": np.where(rng.uniform(size=n) < 0.5, "top", "QCD"),
        "pt": rng.uniform(400, 1200, n),
    }
    table["score"] = rng.normal(size=n) + 2.0 * (table["category"] == "top")
    found = ev.performance_by_pt(table, "top", "score", method="binomial")
    assert list(found) == ["400-1200", "400-600", "600-800", "800-1200"]
    whole = found["400-1200"]["rejection_eff50"]
    assert whole.n_signal + whole.n_background == n
    assert sum(found[b]["auc"].n_signal for b in list(found)[1:]) == whole.n_signal
    assert 0.9 < found["400-600"]["auc"].value < 0.96  # two unit Gaussians 2 apart: 0.921


@pytest.fixture(scope="module")
def tiny_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    from jetml.samples import get

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JETML_CACHE", str(tmp_path_factory.mktemp("cache")))
        return [get("zh_bb", 40, 41, mpi=False), get("ttbar_had", 30, 42, mpi=False)]


def test_jet_table_of_generated_files(tiny_files) -> None:
    from jetml.taggers.deepak8 import DeepAK8Tagger

    table = ev.jet_table(tiny_files, [DeepAK8Tagger("deepak8")])
    n = len(table["pt"])
    assert n > 10 and all(len(v) == n for v in table.values())
    assert np.all((table["pt"] >= 400) & (table["pt"] < 1200) & (np.abs(table["eta"]) < 2.4))
    assert {"Hbb", "top"} <= set(table["category"])
    assert np.all(table["tau2"] < 1.5)  # N-subjettiness, not coffea's proper time²
    for name in ("top", "W", "Z", "Hbb"):
        assert np.all((table[f"trad_{name}"] >= 0) & (table[f"trad_{name}"] < 2))
    scores = table["deepak8_TvsQCD"]
    assert np.all((scores >= 0) & (scores <= 1))
    # H→bb jets carry displaced SVs in both subjets more often than top jets
    hbb, top = table["category"] == "Hbb", table["category"] == "top"
    assert np.mean(table["b_weaker"][hbb] > 3) > np.mean(table["b_weaker"][top] > 3)
    assert np.all(table["b_weaker"] <= table["b_stronger"])


def test_jet_table_in_chunks_equals_one_pass(tiny_files, tmp_path) -> None:
    from jetml.errors import InputFileError
    from jetml.taggers.deepak8 import DeepAK8Tagger

    taggers = [DeepAK8Tagger("deepak8")]
    whole = ev.jet_table(tiny_files, taggers, chunk_events=1000)
    chunked = ev.jet_table(tiny_files, taggers, chunk_events=7)
    assert whole.keys() == chunked.keys() and len(whole["pt"]) > 10
    for key, values in whole.items():
        np.testing.assert_array_equal(values, chunked[key], err_msg=key)
    assert set(whole["sample"]) == {p.stem for p in tiny_files}
    with pytest.raises(ValueError, match="chunk_events"):
        ev.jet_table(tiny_files, chunk_events=0)
    empty = tmp_path / "empty.root"
    with uproot.recreate(empty) as file:
        file["Events"] = {"run": np.zeros(0, dtype=np.uint32)}
    with pytest.raises(InputFileError, match=r"empty\.root: no events"):
        ev.jet_table([empty])


def _rejection(value: float, low: float, high: float, passed: int = 10) -> object:
    from jetml.metrics import Rejection

    return Rejection(value, low, high, "test", 100, 1000, 0.5, 0.5, 0.1, passed)


def _performance(values: dict[str, dict[str, tuple[float, float, float]]], auc: float = 0.99):
    from jetml.metrics import Estimate

    return {
        signal: {
            tagger: {
                ev.INCLUSIVE: {
                    "auc": Estimate(auc, auc - 0.001, auc + 0.001, "test", 100, 1000),
                    "rejection_eff50": _rejection(*triple),
                }
            }
            for tagger, triple in taggers.items()
        }
        for signal, taggers in values.items()
    }


def test_ablation_targets_read_intervals_and_limits() -> None:
    good = {"kin": (10, 9, 11), "kinpid": (20, 18, 22), "full": (600, 550, 650),
            "traditional": (3, 2.5, 3.5)}  # fmt: skip
    overlapping = {**good, "kinpid": (12, 10.5, 14)}  # kinpid interval overlaps kin's
    limit = {**good, "full": (np.inf, 700, np.inf, 0)}  # no QCD jet passes: only a lower limit
    perf = _performance({"top": good, "Hbb": overlapping, "W": good, "Z": limit}, auc=0.996)
    found = {t.name: t for t in ev.ablation_targets(perf)}
    assert found["ordering_top"].met is True and found["ordering_Hbb"].met is False
    assert found["hbb_full_over_kin"].met is True  # 600 / 10
    assert found["top_full_auc"].met is True and found["top_full_rejection"].met is True
    assert found["beats_traditional_top"].met is True
    assert found["beats_traditional_Z"].met is None  # full only a limit, the others pass
    assert found["beats_traditional_Z"].status == "not measurable"
    low = _performance({s: {**good, "full": (400, 350, 450)} for s in ("top", "Hbb", "W", "Z")})
    assert {t.name: t.met for t in ev.ablation_targets(low)}["top_full_rejection"] is False
    findings = ev.ablation_findings(perf)
    assert "track quality gain 2, displacement and SVs gain 30" in findings[0]  # 20/10, 600/20
    assert "displacement and SVs gain not measured (a limit)" in findings[3]  # Z: full is a limit
    text = ev.answer_text(
        quick=True,
        jets={"QCD": 5, "top": 3},
        training_jets=50,
        epochs=2,
        findings=findings,
        targets=list(found.values()),
    )
    assert text.startswith("**Answer.**") and "QUICK-mode run" in text
    assert "at-scale run is pending" in text and "5 QCD" in text


def test_decorrelation_targets() -> None:
    rng = np.random.default_rng(9)
    n = 20000
    mass = rng.exponential(60.0, n)
    table = {
        "category": np.array(["QCD"] * n + ["top"] * 4000),
        "msd": np.concatenate([mass, rng.normal(175, 20, 4000)]),
    }
    signal_score = rng.normal(2.0, 1.0, 4000)
    table["sculpting"] = np.concatenate([mass / 30 + rng.normal(0, 1, n), signal_score])
    table["again"] = table["sculpting"].copy()
    table["flat"] = np.concatenate([rng.normal(0, 1, n) + 0.5, signal_score])
    columns = {"nominal": "sculpting", "zero": "again", "flat": "flat"}
    points = ev.decorrelation_points(table, "top", columns, seed=1)
    assert all(p.on_plane for p in points.values())
    found = {
        t.name: t
        for t in ev.decorrelation_targets(
            points, nominal="nominal", scan=["flat"], lam0="zero", other=["zero"]
        )
    }
    assert found["lam0_on_nominal"].met is True
    gain = points["flat"].sculpting.inverse.value / points["nominal"].sculpting.inverse.value
    loss = points["nominal"].rejection.value / points["flat"].rejection.value
    assert found["md_decorrelation"].met is (gain >= 10 and loss <= 3)
    assert gain > 10
    assert found["disco_decorrelation"].met is False  # "zero" is the nominal again: gain 1
    assert found["disco_decorrelation"].measured.startswith("zero: 1/JSD x1,")
    rows = ev.decorrelation_rows(points)
    assert [r["tagger"] for r in rows] == ["nominal", "zero", "flat"]


def test_study_plots_draw_what_they_are_given() -> None:
    import matplotlib

    matplotlib.use("agg")
    from jetml import study_plots
    from jetml.metrics import Estimate

    rng = np.random.default_rng(3)
    scores, mass = rng.uniform(size=500), rng.uniform(0, 300, 500)
    ax = study_plots.plot_mass_after_cuts(dc.mass_after_cuts(scores, mass, (0.1,)))
    labels = ax.get_legend_handles_labels()[1]
    assert labels == ["inclusive (500 jets)", "eff10% (50 jets)"]
    point = (Estimate(10, 8, 12, "t", 1, 1), Estimate(5, 4, 6, "t", 1, 1))
    plane = study_plots.plot_decorrelation_plane(
        {"a": point, "b": point, "c": point}, groups={"scan": ["a", "b"], "single": ["c"]}
    )
    assert plane.get_legend_handles_labels()[1] == ["scan", "single"]
    assert plane.get_xscale() == "log" and plane.get_yscale() == "log"
    profile = dc.mean_score_vs_mass(scores, mass)
    drawn = study_plots.plot_profiles({"m": profile})
    assert drawn.get_legend_handles_labels()[1] == ["m (500 jets)"]
