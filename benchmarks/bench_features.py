"""Feature building of every shipped tagger, before and after issue 14, measured in one run.

"Before" is the jetml tree of a git revision (``--baseline``, default :data:`BASELINE`: main just
before the issue-14 work), extracted with ``git archive`` into a temporary folder and imported
instead of the working tree; "after" is the working tree. Each side runs in its own child process
(same interpreter and packages), the children alternate (before, after, before, after, ...) and
the best round of each side is kept, so load from other processes can only slow a side down.

Per shipped tagger, on the demo's chunks (the four cached demo samples, ``--events`` events of
each, one chunk per sample as in ``make demo``):

* build µs per jet (per τ): ``model_inputs`` of each tagger on its own, the branches already read;
* shared build µs per jet: all taggers one after the other on the same chunk inside one
  :func:`jetml.features.columns.shared_columns` scope, as the processor runs them (the DeepAK8
  models share one build; DeepDoubleX reuses DeepAK8's candidate table);
* ORT µs per jet: ``OnnxModel.run`` on those inputs (the same on both sides);
* both sides' inputs are compared bit for bit (the run fails if one differs).

With ``--demo`` it also runs the demo's processing (futures executor, ``--workers`` workers,
chunks of 250 events, samples already cached, so no generation) for both sides, interleaved,
and prints events/s and the chunk-time split (read / build / ORT / fill). Both sides read the
same files: the demo samples of this tree (``--files`` to choose others).

Targets (issue 14): build <= 25 µs per AK8 jet, <= 10 µs per AK4 jet, <= 60 µs per τ; build
<= 0.5 x ORT for every shipped tagger except b-regression; demo events/s >= 2x before.

Run: ``python benchmarks/bench_features.py [--baseline REV] [--events 250] [--rounds 3] [--demo]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np

BASELINE = "c7148cc"
"""main before the issue-14 work (the builders the issue measured)."""
ROOT = Path(__file__).resolve().parent.parent
AK8 = ("deepak8", "deepak8_md", "deepak8_full", "deepdoublex")
AK4 = ("deepjet", "breg")
TARGET_US = {**dict.fromkeys(AK8, 25.0), **dict.fromkeys(AK4, 10.0), "deeptau": 60.0}


# ------------------------------------------------------------------------------ child side
def _use_tree(src: str | None) -> None:
    """Import jetml from ``src`` instead of the installed (editable) working tree."""
    if src is None:
        return
    sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
    sys.path.insert(0, src)


def _child(args: argparse.Namespace) -> None:
    _use_tree(args.src)
    import awkward as ak

    import jetml
    from jetml.nanoaod import load_events
    from jetml.processor.processor import _processor_branches, _read_branches
    from jetml.taggers.registry import resolve_taggers

    assert args.src is None or jetml.__file__.startswith(args.src), jetml.__file__
    try:
        from jetml.features.columns import shared_columns
    except ImportError:  # before issue 14: nothing is shared
        from contextlib import nullcontext as shared_columns

    chunks = [load_events(f, entry_start=0, entry_stop=args.events) for f in args.files.split(",")]
    taggers = resolve_taggers("all")
    masks: dict[str, list] = {}
    for tagger in taggers:
        for events in chunks:
            _read_branches(events, [*tagger.branches, *_processor_branches(tagger, events)])
        masks[tagger.name] = [tagger.select(ev[tagger.collection]) for ev in chunks]
        for events, mask in zip(chunks, masks[tagger.name], strict=True):  # warm-up (numba, caches)
            tagger.model_inputs(events, mask)
    result: dict[str, dict[str, float]] = {}
    dump: dict[str, np.ndarray] = {}
    for tagger in taggers:
        jets = sum(int(ak.sum(m)) for m in masks[tagger.name])
        best = float("inf")
        for _ in range(args.repeat):
            started = time.perf_counter()
            built = [
                tagger.model_inputs(ev, m) for ev, m in zip(chunks, masks[tagger.name], strict=True)
            ]
            best = min(best, time.perf_counter() - started)
        ort = float("inf")
        for _ in range(args.repeat):
            started = time.perf_counter()
            for inputs in built:
                tagger.shipped.model.run(inputs)
            ort = min(ort, time.perf_counter() - started)
        for i, inputs in enumerate(built):
            dump.update({f"{tagger.name}/{i}/{k}": v for k, v in inputs.items()})
        result[tagger.name] = {"jets": jets, "build_s": best, "ort_s": ort, "shared_s": 0.0}
    shared_best = {t.name: float("inf") for t in taggers}
    for _ in range(args.repeat):
        spent = dict.fromkeys(shared_best, 0.0)
        for i, events in enumerate(chunks):
            with shared_columns(events):
                for tagger in taggers:
                    started = time.perf_counter()
                    build = getattr(tagger, "shared_model_inputs", tagger.model_inputs)
                    build(events, masks[tagger.name][i])
                    spent[tagger.name] += time.perf_counter() - started
        shared_best = {k: min(v, spent[k]) for k, v in shared_best.items()}
    for name, seconds in shared_best.items():
        result[name]["shared_s"] = seconds
    np.savez(args.dump, **dump)
    Path(args.out).write_text(json.dumps(result))


def _demo_child(args: argparse.Namespace) -> None:
    _use_tree(args.src)
    from jetml.processor import RunOptions, run_processor
    from jetml.processor.demo import DEMO_CHUNKSIZE
    from jetml.taggers.registry import resolve_taggers

    started = time.perf_counter()
    fileset = {f"sample{i}": [path] for i, path in enumerate(args.files.split(","))}
    options = RunOptions(
        executor="futures", workers=args.workers, chunksize=DEMO_CHUNKSIZE, progress=False
    )
    run = run_processor(fileset, resolve_taggers("all"), options)
    timing = run.output["timing"]
    split = {key: sum(t[key] for t in timing.values()) for key in ("read_s", "build_s", "ort_s")}
    split["fill_s"] = sum(t["fill_s"] for t in timing.values())
    out = {
        "events": run.processed_events,
        "wall_s": run.wall_seconds,
        "chunk_s": float(run.output["chunk_seconds"]),
        "chunk_cpu_s": float(run.output["chunk_cpu_seconds"]),
        "split": split,
        "per_tagger": {
            n: {k: t[k] for k in ("build_s", "ort_s", "jets")} for n, t in timing.items()
        },
        "total_s": time.perf_counter() - started,
    }
    Path(args.out).write_text(json.dumps(out))


# ------------------------------------------------------------------------------ parent side
def _extract(revision: str, folder: Path) -> Path:
    """``jetml/`` of ``revision`` unpacked into ``folder`` (returns the folder)."""
    folder.mkdir(parents=True, exist_ok=True)
    archive = folder / "baseline.tar"
    with archive.open("wb") as out:
        subprocess.run(
            ["git", "-C", str(ROOT), "archive", revision, "jetml"], stdout=out, check=True
        )
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")
    return folder


def _run_child(kind: str, src: Path | None, out: Path, args: argparse.Namespace, **extra) -> dict:
    command = [sys.executable, __file__, f"--{kind}", "--out", str(out)]
    command += ["--events", str(args.events), "--repeat", str(args.repeat)]
    command += ["--workers", str(args.workers), "--files", args.files]
    if src is not None:
        command += ["--src", str(src)]
    for key, value in extra.items():
        command += [f"--{key}", str(value)]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    subprocess.run(command, check=True, env=env, cwd=ROOT)
    return json.loads(out.read_text())


def _multiplicities(files: list[str], events_per_file: int) -> dict[str, float]:
    """Mean fed candidates per selected AK8 / AK4 jet and cone candidates per τ (this tree)."""
    import awkward as ak

    from jetml.features.cms_pfnano import cms_jet_columns
    from jetml.features.deeptau import tau_candidates
    from jetml.nanoaod import load_events

    sums = {"AK8": [0, 0], "AK4": [0, 0], "tau": [0, 0]}
    for path in files:
        events = load_events(path, entry_start=0, entry_stop=events_per_file)
        for key, collection, pt_min in (("AK8", "FatJet", 300.0), ("AK4", "Jet", 20.0)):
            jets = events[collection]
            mask = (jets.pt >= pt_min) & (abs(jets.eta) < 2.4)
            counts, _ = cms_jet_columns(events, ["pfcand_pt_log_nopuppi"], mask, collection)
            sums[key][0] += int(counts["pfcand_pt_log_nopuppi"].sum())
            sums[key][1] += int(ak.sum(mask))
        taus = events.Tau
        cone = tau_candidates(events, (taus.pt >= 20) & (abs(taus.eta) < 2.3))
        sums["tau"][0] += int(cone.counts.sum())
        sums["tau"][1] += len(cone)
    return {key: total / max(n, 1) for key, (total, n) in sums.items()}


def _compare(before: Path, after: Path) -> list[str]:
    """Names of arrays that differ (dtype, shape or any bit) between the two dumps."""
    old, new = np.load(before), np.load(after)
    names = sorted(set(old.files) | set(new.files))
    return [
        n
        for n in names
        if n not in old.files
        or n not in new.files
        or old[n].dtype != new[n].dtype
        or old[n].shape != new[n].shape
        or old[n].tobytes() != new[n].tobytes()
    ]


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default=BASELINE, help="git revision of 'before'")
    parser.add_argument("--events", type=int, default=250, help="events per demo sample")
    parser.add_argument("--rounds", type=int, default=3, help="alternating child rounds")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions inside a child")
    parser.add_argument("--demo", action="store_true", help="also time the demo processing")
    parser.add_argument("--demo-rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="futures workers of the demo")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--demo-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--files", help="comma-separated sample files (default: the demo's)")
    parser.add_argument("--src", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--dump", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return _child(args)
    if args.demo_child:
        return _demo_child(args)

    from jetml.processor.demo import demo_fileset

    # the demo samples of this tree (generated once into the cache if missing), used by both
    # sides so that before and after see the same events
    args.files = args.files or ",".join(paths[0] for paths in demo_fileset().values())
    print(f"load average at start: {_load()} ({os.cpu_count()} CPUs)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        src = _extract(args.baseline, folder / "baseline")
        sides = {"before": src, "after": None}
        best: dict[str, dict[str, dict[str, float]]] = {}
        for round_ in range(args.rounds):
            for side, tree in sides.items():
                out, dump = folder / f"{side}{round_}.json", folder / f"{side}.npz"
                numbers = _run_child("child", tree, out, args, dump=dump)
                kept = best.setdefault(side, numbers)
                for name, row in numbers.items():
                    for key in ("build_s", "ort_s", "shared_s"):
                        kept[name][key] = min(kept[name][key], row[key])
        differ = _compare(folder / "before.npz", folder / "after.npz")
        mult = _multiplicities(args.files.split(","), args.events)
        print(
            f"\ndemo chunks: 4 x {args.events} events; mean fed candidates per AK8 jet "
            f"{mult['AK8']:.0f}, per AK4 jet {mult['AK4']:.0f}; cone candidates per τ "
            f"{mult['tau']:.0f}; best of {args.rounds} rounds x {args.repeat} repetitions"
        )
        print(
            "\n| tagger | jets | build µs/jet before | after | speed-up | after, shared "
            "| ORT µs/jet | build/ORT after (shared) | target µs/jet |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for name, row in best["after"].items():
            old = best["before"][name]
            jets = max(row["jets"], 1)
            us = {k: 1e6 * row[k] / jets for k in ("build_s", "ort_s", "shared_s")}
            old_us = 1e6 * old["build_s"] / jets
            target = TARGET_US.get(name, float("nan"))
            verdict = "✔" if us["build_s"] <= target else "✘"
            print(
                f"| {name} | {row['jets']} | {old_us:.0f} | {us['build_s']:.1f} | "
                f"{old_us / us['build_s']:.1f}x | {us['shared_s']:.1f} | {us['ort_s']:.0f} | "
                f"{us['build_s'] / us['ort_s']:.2f} ({us['shared_s'] / us['ort_s']:.2f}) | "
                f"≤ {target:.0f} {verdict} |"
            )
        print(
            "\nbitwise identical inputs before/after: "
            + ("yes, every array of every tagger" if not differ else f"NO: {differ[:10]}")
        )
        if args.demo:
            demo: dict[str, dict] = {}
            for _ in range(args.demo_rounds):
                for side, tree in sides.items():
                    numbers = _run_child("demo-child", tree, folder / f"demo_{side}.json", args)
                    if side not in demo or numbers["wall_s"] < demo[side]["wall_s"]:
                        demo[side] = numbers
            print(f"\ndemo processing ({args.workers} futures workers, samples cached):")
            for side, numbers in demo.items():
                split = ", ".join(f"{k[:-2]} {v:.2f} s" for k, v in numbers["split"].items())
                print(
                    f"  {side:6s}: {numbers['events']} events in {numbers['wall_s']:.2f} s = "
                    f"{numbers['events'] / numbers['wall_s']:.0f} events/s; chunk time "
                    f"{numbers['chunk_s']:.2f} s (CPU {numbers['chunk_cpu_s']:.2f} s): {split}"
                )
            ratio = (demo["after"]["events"] / demo["after"]["wall_s"]) / (
                demo["before"]["events"] / demo["before"]["wall_s"]
            )
            print(f"  events/s after / before = {ratio:.2f} (target >= 2)")
        print(f"\nload average at end: {_load()}")
        if differ:
            sys.exit(1)


if __name__ == "__main__":
    main()
