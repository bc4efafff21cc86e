"""``jetml train TAGGER --data FILES... --epochs E --out DIR``: train a tagger on PFNano files.

Taggers trainable end to end from jetml's generated samples: ``deepak8``, ``deepak8_md``
(mass-decorrelated with an adversary), ``deepjet`` (AK4 flavour), ``deepdoublex`` (AK8
double-b/c), ``breg`` (b-jet energy regression) and ``deeptau`` (hadronic taus vs e, μ, jets).
Writes the model folder (ONNX, preprocess.json -- plus grids.json for DeepTau -- torch weights,
model card with held-out metrics) and ``heldout.npz`` for ``jetml validate``.
"""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

TAGGERS = ("deepak8", "deepak8_md", "deepjet", "deepdoublex", "breg", "deeptau")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``train`` subcommand."""
    parser = subparsers.add_parser(
        "train",
        help="train a tagger on PFNano files (CPU)",
        description="Train DeepAK8, DeepAK8-MD, DeepJet, DeepDoubleX, the b-jet regression or "
        "DeepTau on labelled PFNano files (jetml generate), "
        "export to ONNX with a parity check and write the model card with held-out metrics.",
    )
    parser.add_argument("tagger", choices=TAGGERS, help="which tagger to train")
    parser.add_argument("--data", nargs="+", type=Path, required=True, metavar="FILE")
    parser.add_argument("--out", type=Path, required=True, help="model folder to write")
    parser.add_argument(
        "--epochs",
        type=int,
        default=10,
        help="training epochs; 0 exports the untrained network (card: trained false, no metrics)",
    )
    parser.add_argument(
        "--inputs",
        choices=("kin", "kinpid", "full"),
        default="full",
        help="input ablation: particle kinematics / + particle id and track quality / + "
        "impact parameters, b-tag track variables and SVs (default full)",
    )
    parser.add_argument("--width", type=float, default=0.25, help="width multiplier (1 = CMS)")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate")
    parser.add_argument("--patience", type=int, default=3, help="early-stopping patience")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--seed", type=int, default=1, help="seed of weights and batch order")
    parser.add_argument("--split-seed", type=int, default=1, help="seed of the jet split")
    parser.add_argument(
        "--pt-min",
        type=float,
        default=None,
        help="jet (tau) pT threshold, GeV (AK8: 300, AK4: 20, tau: 20)",
    )
    parser.add_argument("--max-jets", type=int, default=None, help="use at most N jets (taus)")
    parser.add_argument("--lam", type=float, default=1.0, help="deepak8_md: adversary weight λ")
    parser.add_argument("--pt-max", type=float, default=float("inf"), help="deepak8: AK8 pT max")
    parser.add_argument("--name", default=None, help="model name (default: the tagger)")
    parser.add_argument("--version", default="0.1.0", help="model version for the card")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(func=run)


_COMMON_OPTIONS = (
    "epochs", "width", "batch_size", "lr", "patience", "threads", "seed", "split_seed", "pt_min",
    "max_jets", "name", "version",
)  # fmt: skip
_TAGGER_OPTIONS = {
    "deepak8": ("inputs", "pt_max"),
    "deepak8_md": ("inputs", "pt_max", "lam"),
    "deepjet": (),
    "deepdoublex": (),
    "breg": (),
    "deeptau": (),
}


def canonical_command(args: argparse.Namespace) -> str:
    """The full command line that reproduces this training (every relevant setting explicit)."""
    words = ["jetml", "train", args.tagger, "--data", *map(str, args.data), "--out", str(args.out)]
    for option in (*_COMMON_OPTIONS, *_TAGGER_OPTIONS[args.tagger]):
        value = getattr(args, option)
        if value is not None:
            words += [f"--{option.replace('_', '-')}", str(value)]
    return shlex.join(words)


def run(args: argparse.Namespace) -> int:
    """Train, write the model folder, print the headline metrics."""
    from rich.console import Console

    from jetml.errors import ConfigError, InputFileError
    from jetml.nn.breg_data import BregSelection
    from jetml.nn.deepak8_data import DeepAK8Selection
    from jetml.nn.deepak8_md import AdversarialConfig
    from jetml.nn.deepdoublex_data import DeepDoubleXSelection
    from jetml.nn.deepjet_data import DeepJetSelection
    from jetml.nn.pipeline import (
        BregJob,
        ClassifierJob,
        DeepAK8Job,
        train_breg,
        train_deepak8,
        train_deepdoublex,
        train_deepjet,
    )
    from jetml.nn.training import TrainConfig

    for path in args.data:
        if not path.is_file():
            raise InputFileError(f"{path}: input file not found")
    if args.epochs < 0:
        raise ConfigError("--epochs must be >= 0 (0 exports the untrained network)")
    for option in ("batch_size", "threads", "patience"):
        if getattr(args, option) < 1:
            raise ConfigError(f"--{option.replace('_', '-')} must be >= 1")
    if args.width <= 0 or args.lr <= 0:
        raise ConfigError("--width and --lr must be positive")
    if args.out.exists() and any(args.out.iterdir()):
        raise ConfigError(f"{args.out}: output folder exists and is not empty")
    train_config = TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        patience=args.patience,
        seed=args.seed,
        threads=args.threads,
        progress=not args.no_progress,
    )
    command = canonical_command(args)
    name = args.name or args.tagger
    if args.tagger == "deeptau":
        return run_deeptau(args, train_config, name, command)
    if args.tagger == "breg":
        job = BregJob(
            width=args.width,
            selection=BregSelection(pt_min=20.0 if args.pt_min is None else args.pt_min),
            train=train_config,
            split_seed=args.split_seed,
            max_jets=args.max_jets,
        )
        card, metrics = train_breg(
            args.data, args.out, job, name=name, version=args.version, command=command
        )
        console = Console()
        if metrics:
            console.print(
                "relative resolution {resolution_before:.4f} -> {resolution_after:.4f} "
                "(improvement {resolution_improvement:.1%}), quantile coverage "
                "{quantile_coverage:.1%}".format(**metrics)
            )
        console.print(f"model card: {card}")
        return 0
    if args.tagger in ("deepjet", "deepdoublex"):
        ak4 = args.tagger == "deepjet"
        selection = (
            DeepJetSelection(pt_min=20.0 if args.pt_min is None else args.pt_min)
            if ak4
            else DeepDoubleXSelection(pt_min=300.0 if args.pt_min is None else args.pt_min)
        )
        classifier_job = ClassifierJob(
            selection=selection,
            width=args.width,
            train=train_config,
            split_seed=args.split_seed,
            max_jets=args.max_jets,
        )
        trainer = train_deepjet if ak4 else train_deepdoublex
        card, metrics = trainer(
            args.data, args.out, classifier_job, name=name, version=args.version, command=command
        )
        print_pairs(metrics, card)
        return 0
    job = DeepAK8Job(
        variant=args.inputs,
        width=args.width,
        selection=DeepAK8Selection(
            pt_min=300.0 if args.pt_min is None else args.pt_min, pt_max=args.pt_max
        ),
        train=train_config,
        split_seed=args.split_seed,
        mass_decorrelated=args.tagger == "deepak8_md",
        adversarial=AdversarialConfig(lam=args.lam),
        max_jets=args.max_jets,
    )
    card, metrics = train_deepak8(
        args.data, args.out, job, name=name, version=args.version, command=command
    )
    print_pairs(metrics, card)
    return 0


def print_pairs(metrics: dict, card: Path) -> None:
    """Headline classifier figures of a finished training."""
    from rich.console import Console

    console = Console()
    for pair, values in metrics.get("pairs", {}).items():
        console.print(
            f"{pair}: AUC {values['auc']:.4f}  1/εB@50% {values['rejection_at_eff50']}  "
            f"1/εB@30% {values['rejection_at_eff30']}  ({values['n_signal']} vs "
            f"{values['n_background']} jets)"
        )
    console.print(f"model card: {card}")


def run_deeptau(args: argparse.Namespace, train_config, name: str, command: str) -> int:
    """Train DeepTau; print the AUC of each discriminant and the D_jet working points."""
    from rich.console import Console

    from jetml.nn.deeptau_data import TauSelection
    from jetml.nn.tau_pipeline import DeepTauJob, train_deeptau

    job = DeepTauJob(
        selection=TauSelection(pt_min=20.0 if args.pt_min is None else args.pt_min),
        width=args.width,
        train=train_config,
        split_seed=args.split_seed,
        max_taus=args.max_jets,
    )
    card, metrics = train_deeptau(
        args.data, args.out, job, name=name, version=args.version, command=command
    )
    console = Console()
    for background, values in metrics.get("discriminants", {}).items():
        auc = "n/a" if values["auc"] is None else f"{values['auc']:.4f}"
        console.print(
            f"D_{background}: AUC {auc} ({values['n_tau']} τh vs {values['n_background']})"
        )
    console.print(f"model card: {card}")
    return 0
