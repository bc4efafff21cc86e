"""The ``jetml`` command line: one subcommand per module in :mod:`jetml.commands`.

User errors (:class:`jetml.errors.JetmlError`) are printed as one line on stderr with exit code 2;
``--debug`` re-raises them with the full traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from jetml import __version__
from jetml.errors import JetmlError

# Each module defines ``register(subparsers)``, which adds its parser and sets ``func``.
# Heavy imports (coffea, onnxruntime, pythia8mc) happen inside the command functions.
COMMAND_MODULES: tuple[str, ...] = (
    "jetml.commands.inspect",
    "jetml.commands.generate",
    "jetml.commands.run",
    "jetml.commands.demo",
    "jetml.commands.crosscheck",
    "jetml.commands.bench",
    "jetml.commands.train",
    "jetml.commands.validate",
)


def build_parser() -> argparse.ArgumentParser:
    """Return the top-level parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="jetml",
        description="Deep-learning taggers for columnar CMS analysis with shared ONNX sessions.",
    )
    parser.add_argument("--version", action="version", version=f"jetml {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show full tracebacks instead of one-line errors"
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the process exit code (0 ok, 2 bad input, 1 check failed)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except JetmlError as error:
        if args.debug:
            raise
        print(f"jetml {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
