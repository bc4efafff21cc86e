"""Timing table on the real CMS networks: CMSSW-style evaluation vs jetml, in one run.

Run from the project root: ``python benchmarks/bench_cms_models.py [--jets N] [--repeats R]``.
It reads the CMS models and the PFNano file beside the project (``../shared``) and prints the
markdown tables that ``jetml bench`` prints (protocol: :mod:`jetml.cms.timing`). Targets: at
least 2x on DeepAK8 and on ParticleNet-AK8 over the CMSSW-style evaluation.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from jetml.cms.timing import timing_report

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, default=SHARED / "models" / "cms")
    parser.add_argument("--file", type=Path, default=SHARED / "data" / "cms-nano" / "pfnano.root")
    parser.add_argument("--jets", type=int, default=480)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(timing_report(args.models, args.file, n_jets=args.jets, repeats=args.repeats))


if __name__ == "__main__":
    main()
