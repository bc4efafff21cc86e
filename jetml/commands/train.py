"""``jetml train TAGGER --data FILES... --epochs E --out DIR``: train a tagger on PFNano files.

Taggers trainable end to end from jetml's generated samples: ``deepak8``, ``deepak8_md``
(mass-decorrelated with an adversary), ``deepak8_disco`` (mass-decorrelated with a
distance-correlation penalty), ``deepjet`` (AK4 flavour), ``deepdoublex`` (AK8
double-b/c), ``breg`` (b-jet energy regression) and ``deeptau`` (hadronic taus vs e, μ, jets).
Writes the model folder (ONNX, preprocess.json -- plus grids.json for DeepTau -- torch weights,
model card with held-out metrics) and ``heldout.npz`` for ``jetml validate``.
"""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

TAGGERS = ("deepak8", "deepak8_md", "deepak8_disco", "deepjet", "deepdoublex", "breg", "deeptau")
"""The names of :data:`jetml.nn.recipes.RECIPES` (kept here so ``--help`` needs no torch)."""


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
    parser.add_argument(
        "--lam",
        type=float,
        default=1.0,
        help="deepak8_md: adversary weight λ; deepak8_disco: weight λ of the dCor² penalty",
    )
    parser.add_argument("--pt-max", type=float, default=float("inf"), help="deepak8: AK8 pT max")
    parser.add_argument("--name", default=None, help="model name (default: the tagger)")
    parser.add_argument("--version", default="0.1.0", help="model version for the card")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(func=run)


_COMMON_OPTIONS = (
    "epochs", "width", "batch_size", "lr", "patience", "threads", "seed", "split_seed", "pt_min",
    "max_jets", "name", "version",
)  # fmt: skip


def canonical_command(args: argparse.Namespace, options: tuple[str, ...]) -> str:
    """The full command line that reproduces this training (every relevant setting explicit;
    ``options``: the recipe's own options besides the common ones)."""
    words = ["jetml", "train", args.tagger, "--data", *map(str, args.data), "--out", str(args.out)]
    for option in (*_COMMON_OPTIONS, *options):
        value = getattr(args, option)
        if value is not None:
            words += [f"--{option.replace('_', '-')}", str(value)]
    return shlex.join(words)


def run(args: argparse.Namespace) -> int:
    """Train through the tagger's recipe, write the model folder, print the headline metrics."""
    from rich.console import Console

    from jetml.errors import ConfigError, InputFileError
    from jetml.nn.deepak8_md import AdversarialConfig
    from jetml.nn.disco import DiscoConfig
    from jetml.nn.pipeline import TrainingJob, train
    from jetml.nn.recipes import RECIPES
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
    recipe = RECIPES[args.tagger]
    cuts = {
        "pt_min": args.pt_min,
        **({"pt_max": args.pt_max} if "pt_max" in recipe.options else {}),
    }
    selection = recipe.selection(**{k: v for k, v in cuts.items() if v is not None})
    job = TrainingJob(
        selection=selection,
        width=args.width,
        train=TrainConfig(
            epochs=args.epochs,
            batch_size=args.batch_size,
            learning_rate=args.lr,
            patience=args.patience,
            seed=args.seed,
            threads=args.threads,
            progress=not args.no_progress,
        ),
        split_seed=args.split_seed,
        max_rows=args.max_jets,
        variant=args.inputs,
        adversarial=AdversarialConfig(lam=args.lam),
        disco=DiscoConfig(lam=args.lam),
    )
    card, metrics = train(
        recipe,
        args.data,
        args.out,
        job,
        name=args.name or args.tagger,
        version=args.version,
        command=canonical_command(args, recipe.options),
    )
    console = Console(force_jupyter=False)  # a command: plain text even inside a notebook
    for line in recipe.report(metrics):
        console.print(line)
    console.print(f"model card: {card}")
    return 0
