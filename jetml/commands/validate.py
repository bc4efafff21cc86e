"""``jetml validate MODEL --data FILE``: torch vs onnxruntime outputs on the same jets.

MODEL is a model folder written by jetml training (or its ``.onnx`` / ``.card.json``); FILE is an
``.npz`` of model inputs as training writes them (``heldout.npz``), or a PFNano ROOT file
(generated or real CMS) for models made by ``jetml train``: its jets' inputs are then built with
the model's ``preprocess.json``, as the deployment builds them.
Prints the largest |difference| per output, writes a 2D histogram per output (torch vs ONNX) and
exits 1 when any difference exceeds the tolerance (default 1e-5).
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``validate`` subcommand."""
    parser = subparsers.add_parser(
        "validate",
        help="check torch vs onnxruntime parity of a trained model",
        description="Run the same jets through a trained model's torch network and its ONNX "
        "export, print the largest difference per output, write a 2D histogram per output and "
        "fail (exit 1) when any difference exceeds the tolerance.",
    )
    parser.add_argument("model", type=Path, help="model folder, .onnx or .card.json")
    parser.add_argument(
        "--data",
        type=Path,
        required=True,
        help="heldout.npz of model inputs, or a PFNano .root file (models from jetml train)",
    )
    parser.add_argument(
        "--plots",
        type=Path,
        default=Path("validation"),
        help="folder for the 2D-histogram PNGs (default: ./validation)",
    )
    parser.add_argument(
        "--tolerance", type=float, default=None, help="largest accepted |difference| (1e-5)"
    )
    parser.add_argument("--max-jets", type=int, default=None, help="use only the first N jets")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Compare, plot, and return 0 (parity) or 1 (difference above tolerance)."""
    import torch
    from rich.console import Console
    from rich.table import Table

    from jetml.errors import InputFileError
    from jetml.nn.data import ArrayDataset
    from jetml.nn.export import PARITY_TOLERANCE, check_parity
    from jetml.nn.package import load_model
    from jetml.nn.validation import parity_plots

    console = Console()
    torch.set_num_threads(max(1, args.threads))
    loaded = load_model(args.model)
    network = loaded.network
    if args.data.suffix == ".root":
        from jetml.nn.recipes import dataset_from_root

        if not args.data.is_file():
            raise InputFileError(f"{args.data}: input file not found")
        data = dataset_from_root(loaded.card, args.data)
    else:
        data = ArrayDataset.load(args.data, network.input_names)
    if args.max_jets is not None:
        data = data.take(slice(0, args.max_jets))
    if len(data) == 0:
        raise InputFileError(f"{args.data}: holds no jets")
    for name, shape in network.input_shapes().items():
        if data.inputs[name].shape[1:] != shape:
            raise InputFileError(
                f"{args.data}: input '{name}' has shape {data.inputs[name].shape[1:]} per jet, "
                f"model {loaded.card.name} expects {shape}"
            )
    tolerance = PARITY_TOLERANCE if args.tolerance is None else args.tolerance
    report = check_parity(network, loaded.onnx_path, data.inputs, tolerance=tolerance)
    name = loaded.card.name
    table = Table(title=f"{name}: torch vs onnxruntime on {len(data)} jets")
    table.add_column("output")
    table.add_column("max |Δ|", justify="right")
    for label, difference in zip(
        network.output_labels, report.per_output_max_abs_diff, strict=True
    ):
        style = "green" if difference <= tolerance else "bold red"
        table.add_row(label, f"[{style}]{difference:.3g}[/]")
    console.print(table)
    plots = parity_plots(report, network.output_labels, args.plots, name)
    console.print(f"{len(plots)} plots written to {args.plots}/")
    if report.passed:
        console.print(
            f"[green]parity OK[/] on {len(data)} jets: max |Δ| = {report.max_abs_diff:.3g} "
            f"<= {tolerance:g}"
        )
        return 0
    console.print(
        f"[bold red]parity FAILED[/] on {len(data)} jets: max |Δ| = {report.max_abs_diff:.3g} "
        f"> {tolerance:g}"
    )
    return 1
