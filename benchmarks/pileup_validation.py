"""Validation of the premixed pileup of the open samples: the plots and numbers of docs/samples.md.

Compares mu = 0 with the default mu (30) and, where one exists, with real CMS simulation: the
CMS NanoAOD files in ``--cms-nano`` carry ``Pileup_nPU``, ``PV_npvs`` and the fixed-grid rho,
so the rho and vertex-count slopes are measured on them with the same fit.

Samples (``jetml.samples.get``, cached in ``$JETML_CACHE``): ttbar_semilep, seed 101, at
mu = 0 (1000 events), 15 (500), 30 (1000), 50 (500). The AK8/PUPPI and tail studies need generator
truth, so they run in this process on fresh events: qcd (seed 201) and ttbar_had (seed 202),
``--ak8-events`` each at mu = 0 and 30; ttbar_semilep (seed 203) at mu = 0 with and without the
detector tails. Every number is written with its statistical uncertainty and sample size to
``pileup_validation.json`` beside the figures.
Run: ``python benchmarks/pileup_validation.py --out docs/figures/samples --cms-nano DIR``.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import awkward as ak
import fastjet
import matplotlib
import numpy as np
import uproot

matplotlib.use("Agg")
import matplotlib.pyplot as plt

import jetml.samples
from jetml.samples import DetectorModel
from jetml.samples.build import PileupSource, build_batch, reconstruct_with_pileup
from jetml.samples.generator import PythiaGenerator
from jetml.samples.jets import cluster, substructure
from jetml.samples.minbias import load_library
from jetml.samples.presets import DEFAULT_PILEUP, get_preset
from jetml.samples.production import BATCH_EVENTS, chunk_seeds, pileup_rng

FILE_SAMPLES = ((0.0, 1000), (15.0, 500), (DEFAULT_PILEUP, 1000), (50.0, 500))
FILE_SEED = 101
AK4_PT_BINS = ((30.0, 60.0), (60.0, 120.0), (120.0, 250.0))
CMS_FILES = ("nano_dy.root", "nano_tt_v15.root", "pfnano.root")


def linear_fit(x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Least-squares slope and intercept with their standard errors."""
    (slope, intercept), cov = np.polyfit(x, y, 1, cov=True)
    return {
        "slope": float(slope),
        "slope_err": float(np.sqrt(cov[0, 0])),
        "intercept": float(intercept),
        "n": len(x),
    }


def binomial(k: int, n: int) -> dict[str, float]:
    """A fraction with its binomial uncertainty."""
    p = k / max(n, 1)
    return {"value": p, "err": float(np.sqrt(p * (1 - p) / max(n, 1))), "n": n}


def response_summary(response: np.ndarray) -> dict[str, float]:
    """Median response and resolution (half the 16-84% width over the median), with errors."""
    n = len(response)
    q16, median, q84 = np.quantile(response, [0.16, 0.5, 0.84])
    width = 0.5 * (q84 - q16)
    return {
        "median": float(median),
        "median_err": float(1.2533 * width / np.sqrt(n)),
        "resolution": float(width / median),
        "resolution_err": float(width / median / np.sqrt(2 * n)),
        "n": n,
    }


def file_studies(out: Path, cms_nano: Path | None) -> dict:
    """nvtx, rho vs nPU, AK4 response and light-jet IP significance from the cached samples."""
    results: dict = {}
    columns = [
        "Pileup_nPU",
        "PV_npvs",
        "PV_npvsGood",
        "Rho_fixedGridRhoFastjetAll",
        "Jet_pt",
        "Jet_genJetIdx",
        "Jet_hadronFlavour",
        "Jet_eta",
        "GenJet_pt",
        "GenJet_eta",
        "JetPFCands_pt",
        "JetPFCands_btagSip3dSig",
        "JetPFCands_jetIdx",
    ]
    samples = {}
    for mu, events in FILE_SAMPLES:
        path = jetml.samples.get("ttbar_semilep", events, FILE_SEED, pileup=mu)
        samples[mu] = uproot.open(path)["Events"].arrays(columns)
    n_pu = np.concatenate([ak.to_numpy(a.Pileup_nPU) for a in samples.values()])
    rho = np.concatenate([ak.to_numpy(a.Rho_fixedGridRhoFastjetAll) for a in samples.values()])
    npvs = np.concatenate([ak.to_numpy(a.PV_npvs) for a in samples.values()])
    good = np.concatenate([ak.to_numpy(a.PV_npvsGood) for a in samples.values()])
    results["rho_vs_npu"] = linear_fit(n_pu, rho)
    results["npvs_vs_npu"] = linear_fit(n_pu, npvs)
    results["npvs_good_vs_npu"] = linear_fit(n_pu, good)
    cms: dict = {}
    if cms_nano is not None:
        for name in CMS_FILES:
            tree = uproot.open(cms_nano / name)["Events"]
            rho_name = (
                "Rho_fixedGridRhoFastjetAll"
                if "Rho_fixedGridRhoFastjetAll" in tree.keys()
                else "fixedGridRhoFastjetAll"
            )
            real = tree.arrays(["Pileup_nPU", "PV_npvs", "PV_npvsGood", rho_name], library="np")
            cms[name] = {
                "rho_vs_npu": linear_fit(real["Pileup_nPU"], real[rho_name]),
                "npvs_vs_npu": linear_fit(real["Pileup_nPU"], real["PV_npvs"]),
                "npvs_good_vs_npu": linear_fit(real["Pileup_nPU"], real["PV_npvsGood"]),
                "points": (real["Pileup_nPU"], real[rho_name], real["PV_npvs"]),
            }
    fits = ("rho_vs_npu", "npvs_vs_npu", "npvs_good_vs_npu")
    results["cms"] = {k: {q: v[q] for q in fits} for k, v in cms.items()}

    figure, axes = plt.subplots(1, 2, figsize=(10, 4))
    for mu, arrays in samples.items():
        axes[0].hist(
            ak.to_numpy(arrays.PV_npvs),
            bins=np.arange(0, 70),
            histtype="step",
            density=True,
            label=f"jetml mu = {mu:g}",
        )
    axes[0].set_yscale("log")
    axes[0].set_xlabel("PV_npvs")
    axes[0].set_ylabel("events (normalised)")
    axes[0].legend()
    grid = np.arange(0, 70)
    axes[1].plot(n_pu, rho, ",", color="tab:blue", alpha=0.3)
    fit = results["rho_vs_npu"]
    axes[1].plot(
        grid,
        fit["intercept"] + fit["slope"] * grid,
        color="tab:blue",
        label=f"jetml: {fit['slope']:.2f} ± {fit['slope_err']:.2f} GeV / interaction",
    )
    for (name, values), colour in zip(
        cms.items(), ("tab:red", "tab:green", "tab:purple"), strict=False
    ):
        x, y, _ = values["points"]
        f = values["rho_vs_npu"]
        axes[1].plot(x, y, "o", ms=3, color=colour)
        axes[1].plot(
            grid,
            f["intercept"] + f["slope"] * grid,
            "--",
            color=colour,
            label=f"CMS {name}: {f['slope']:.2f} ± {f['slope_err']:.2f} ({f['n']} ev)",
        )
    axes[1].set_xlabel("Pileup_nPU")
    axes[1].set_ylabel("Rho_fixedGridRhoFastjetAll [GeV]")
    axes[1].legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(out / "pileup_vertices_rho.png", dpi=80)
    plt.close(figure)

    # AK4 CHS jet response and resolution vs mu.
    ak4: dict = {}
    for mu, arrays in samples.items():
        matched = arrays.Jet_genJetIdx[arrays.Jet_genJetIdx >= 0]
        reco_pt = ak.to_numpy(ak.flatten(arrays.Jet_pt[arrays.Jet_genJetIdx >= 0]))
        gen_pt = ak.to_numpy(ak.flatten(arrays.GenJet_pt[matched]))
        gen_eta = ak.to_numpy(ak.flatten(arrays.GenJet_eta[matched]))
        ak4[mu] = {}
        for low, high in AK4_PT_BINS:
            keep = (gen_pt >= low) & (gen_pt < high) & (np.abs(gen_eta) < 2.5)
            ak4[mu][f"{low:g}-{high:g}"] = response_summary(reco_pt[keep] / gen_pt[keep])
    results["ak4_response"] = {f"{mu:g}": v for mu, v in ak4.items()}
    figure, axes = plt.subplots(1, 2, figsize=(10, 4))
    mus = sorted(ak4)
    for low, high in AK4_PT_BINS:
        key = f"{low:g}-{high:g}"
        for axis, quantity in zip(axes, ("median", "resolution"), strict=False):
            axis.errorbar(
                mus,
                [ak4[m][key][quantity] for m in mus],
                yerr=[ak4[m][key][f"{quantity}_err"] for m in mus],
                marker="o",
                label=f"gen pT {key} GeV, |eta| < 2.5",
            )
    axes[0].set_ylabel("median pT(reco) / pT(gen), AK4 CHS")
    axes[1].set_ylabel("resolution (68% half-width / median)")
    for axis in axes:
        axis.set_xlabel("mu")
        axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(out / "pileup_ak4_response.png", dpi=80)
    plt.close(figure)

    # Light-jet (and b-jet) 3D IP significance of selected tracks.
    ip: dict = {}
    figure, axis = plt.subplots(figsize=(6, 4))
    bins = np.linspace(-30, 30, 121)
    for mu in (0.0, DEFAULT_PILEUP):
        arrays = samples[mu]
        flavour = arrays.Jet_hadronFlavour[arrays.JetPFCands_jetIdx]
        jet_pt = arrays.Jet_pt[arrays.JetPFCands_jetIdx]
        jet_eta = arrays.Jet_eta[arrays.JetPFCands_jetIdx]
        significance = arrays.JetPFCands_btagSip3dSig
        track = (
            (significance != 0)
            & (arrays.JetPFCands_pt > 1.0)
            & (jet_pt > 30)
            & (np.abs(jet_eta) < 2.4)
        )
        for name, code in (("light", 0), ("b", 5)):
            values = ak.to_numpy(ak.flatten(significance[track & (flavour == code)]))
            ip[f"{name}_mu{mu:g}"] = {
                "above_3": binomial(int(np.sum(values > 3)), len(values)),
                "below_minus_3": binomial(int(np.sum(values < -3)), len(values)),
                "above_10": binomial(int(np.sum(values > 10)), len(values)),
            }
            axis.hist(
                np.clip(values, -30, 30),
                bins=bins,
                histtype="step",
                density=True,
                label=f"{name} jets, mu = {mu:g}",
            )
    axis.set_yscale("log")
    axis.set_xlabel("btagSip3dSig (tracks pT > 1 GeV in jets pT > 30 GeV)")
    axis.set_ylabel("tracks (normalised)")
    axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(out / "pileup_ip_significance.png", dpi=80)
    plt.close(figure)
    results["ip_significance"] = ip
    return results


def ak8_masses(candidates, use: np.ndarray, weights: np.ndarray) -> dict[str, np.ndarray]:
    """Ungroomed and soft-drop mass of AK8 jets (pT > 400 GeV, |eta| < 2.4) of the used rows."""
    rows = np.flatnonzero(use & (weights > 0))
    w = weights[rows]
    px, py = candidates.px[rows] * w, candidates.py[rows] * w
    pz, energy = candidates.pz[rows] * w, candidates.energy[rows] * w
    offsets = np.searchsorted(rows, candidates.offsets).astype(np.int64)
    jets = cluster(
        px, py, pz, energy, offsets, algorithm=fastjet.antikt_algorithm, radius=0.8, min_pt=170.0
    )
    groomed = substructure(jets, px, py, pz, energy, radius=0.8)
    keep = (jets.pt > 400.0) & (np.abs(jets.eta) < 2.4)
    return {"mass": jets.mass[keep], "msoftdrop": groomed.msoftdrop[keep]}


def truth_studies(out: Path, events: int) -> dict:
    """AK8 masses with and without PUPPI, PUPPI weights of neutrals, tails on/off IP tails."""
    library = load_library()
    model = DetectorModel()
    results: dict = {"ak8": {}, "puppi_neutrals": {}}
    masses: dict = {}
    weights_by_origin: dict = {}
    for preset, seed in (("qcd", 201), ("ttbar_had", 202)):
        for mu in (0.0, DEFAULT_PILEUP):
            pythia_seed, rng = chunk_seeds(seed, 0)
            generator = PythiaGenerator(
                get_preset(preset).pythia_settings(seed=pythia_seed, mpi=True)
            )
            pileup = PileupSource(mu, library if mu > 0 else None, pileup_rng(seed, 0))
            collected: dict = {}
            for _ in range(0, events, BATCH_EVENTS):
                record = generator.next_events(BATCH_EVENTS)
                reco = reconstruct_with_pileup(record, model, rng, pileup)
                c = reco.candidates
                everything = np.ones(len(c.pt), dtype=bool)
                for name, part in (
                    ("PF", ak8_masses(c, everything, np.ones(len(c.pt)))),
                    ("PUPPI", ak8_masses(c, everything, c.puppi_weight)),
                ):
                    for quantity, values in part.items():
                        collected.setdefault((name, quantity), []).append(values)
                if mu > 0:
                    neutral = (c.charge == 0) & (c.pt > 1.0)
                    for region, inside in (
                        ("central", np.abs(c.eta) < 2.5),
                        ("forward", np.abs(c.eta) >= 2.5),
                    ):
                        for origin, mask in (("PV", c.vertex == 0), ("PU", c.vertex > 0)):
                            weights_by_origin.setdefault((region, origin), []).append(
                                c.puppi_weight[neutral & inside & mask]
                            )
            for key, parts in collected.items():
                masses[(preset, mu, *key)] = np.concatenate(parts)
    for (preset, mu, algo, quantity), values in masses.items():
        window = (105, 210) if preset == "ttbar_had" else (0, 1e9)
        results["ak8"][f"{preset}_mu{mu:g}_{algo}_{quantity}"] = {
            "median": float(np.median(values)) if len(values) else None,
            "fraction_in_top_window_105_210": binomial(
                int(np.sum((values > window[0]) & (values < window[1]))), len(values)
            )["value"]
            if preset == "ttbar_had"
            else None,
            "n_jets": len(values),
        }
    figure, axes = plt.subplots(2, 2, figsize=(10, 7))
    bins = np.linspace(0, 300, 61)
    for row, preset in enumerate(("qcd", "ttbar_had")):
        for column, quantity in enumerate(("mass", "msoftdrop")):
            axis = axes[row, column]
            for mu, algo, style in (
                (0.0, "PUPPI", "-"),
                (DEFAULT_PILEUP, "PF", "--"),
                (DEFAULT_PILEUP, "PUPPI", "-"),
            ):
                values = masses[(preset, mu, algo, quantity)]
                axis.hist(
                    values,
                    bins=bins,
                    histtype="step",
                    linestyle=style,
                    density=True,
                    label=f"{algo}, mu = {mu:g} ({len(values)} jets)",
                )
            axis.set_xlabel(f"AK8 {quantity} [GeV] ({preset}, pT > 400 GeV)")
            axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(out / "pileup_ak8_mass.png", dpi=80)
    plt.close(figure)

    figure, axes = plt.subplots(1, 2, figsize=(10, 4))
    for axis, region in zip(axes, ("central", "forward"), strict=False):
        for origin in ("PV", "PU"):
            values = np.concatenate(weights_by_origin[(region, origin)])
            results["puppi_neutrals"][f"{region}_{origin}"] = {
                "mean": float(values.mean()),
                "mean_err": float(values.std() / np.sqrt(len(values))),
                "above_0.5": binomial(int(np.sum(values > 0.5)), len(values)),
                "n": len(values),
            }
            axis.hist(
                values,
                bins=np.linspace(0, 1, 21),
                histtype="step",
                density=True,
                label=f"neutrals from the {origin} ({len(values)})",
            )
        axis.set_yscale("log")
        axis.set_xlabel(f"PUPPI weight, {region}, pT > 1 GeV, mu = {DEFAULT_PILEUP:g}")
        axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(out / "pileup_puppi_weights.png", dpi=80)
    plt.close(figure)

    # Detector tails: light-jet IP significance at mu = 0 with and without them.
    tails: dict = {}
    clean = replace(model, ip_tail_fraction=0.0, fake_track_rate=0.0, secondary_track_rate=0.0)
    for label, detector in (("with_tails", model), ("no_tails", clean)):
        pythia_seed, rng = chunk_seeds(203, 0)
        generator = PythiaGenerator(
            get_preset("ttbar_semilep").pythia_settings(seed=pythia_seed, mpi=True)
        )
        values = []
        for _ in range(0, 2 * events, BATCH_EVENTS):
            _, tables = build_batch(generator.next_events(BATCH_EVENTS), detector, rng)
            jets, links = tables["Jet"], tables["JetPFCands"]
            jet_offsets = np.concatenate([[0], np.cumsum(jets.counts)])
            event = np.repeat(np.arange(len(links.counts)), links.counts)
            jet = jet_offsets[event] + links.columns["jetIdx"]
            significance = links.columns["btagSip3dSig"]
            keep = (
                (significance != 0)
                & (links.columns["pt"] > 1.0)
                & (jets.columns["hadronFlavour"][jet] == 0)
                & (jets.columns["pt"][jet] > 30)
            )
            values.append(significance[keep])
        values = np.concatenate(values)
        tails[label] = {
            "above_3": binomial(int(np.sum(values > 3)), len(values)),
            "below_minus_3": binomial(int(np.sum(values < -3)), len(values)),
        }
    results["light_ip_tails_mu0"] = tails
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/figures/samples"))
    parser.add_argument("--cms-nano", type=Path, default=None)
    parser.add_argument("--ak8-events", type=int, default=300)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    results = {
        "files": file_studies(args.out, args.cms_nano),
        "truth": truth_studies(args.out, args.ak8_events),
    }
    (args.out / "pileup_validation.json").write_text(json.dumps(results, indent=1) + "\n")
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
