"""The ``jetml`` command line: one subcommand per module in :mod:`jetml.commands`.

User errors (:class:`jetml.errors.JetmlError`) are printed as one line on stderr with exit code 2;
``--debug`` re-raises them with the full traceback. SIGINT and SIGTERM unwind the command like
an exception, so every ``with`` block cleans up (temporary files removed, worker processes and
clusters stopped), then print one line and exit 130 / 143.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
from collections.abc import Sequence
from types import FrameType

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


class Terminated(BaseException):
    """Raised in the main thread on SIGTERM (a BaseException: ``except Exception`` lets it by)."""


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated()


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
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print(f"jetml {args.command}: interrupted (SIGINT); cleaned up", file=sys.stderr)
        return 128 + signal.SIGINT
    except Terminated:
        print(f"jetml {args.command}: terminated (SIGTERM); cleaned up", file=sys.stderr)
        return 128 + signal.SIGTERM
    except JetmlError as error:
        if args.debug:
            raise
        print(f"jetml {args.command}: error: {error}", file=sys.stderr)
        return 2
    finally:
        signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
