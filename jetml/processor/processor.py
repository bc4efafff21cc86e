"""``TaggerProcessor``: a coffea processor that runs jetml taggers on each chunk of events.

Per chunk it reads the branches every runnable tagger needs, evaluates the taggers (features are
built by the tagger, inference runs in the worker process's shared ONNX Runtime session), attaches
the scores as fields ``<collection>.jetml_<tagger>_<score>`` and fills ``hist`` histograms, a
cutflow and timing counters. Everything it returns is a plain dict/set/number/``hist.Hist`` tree
that coffea's ``accumulate`` merges, so the same processor runs on every coffea executor.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterable, Sequence
from typing import Any

import awkward as ak
import hist
import numpy as np
from coffea import processor

from jetml.errors import ConfigError
from jetml.features.columns import columns_of, shared_columns
from jetml.nanoaod import read_branches
from jetml.processor.metrics import inference_snapshot, sessions_since
from jetml.taggers.base import UNLABELLED, Tagger, branch_available

DEFAULT_DATASET = "events"
# Mass used for the score-vs-mass histograms: the groomed mass for AK8 jets.
MASS_FIELD = {"FatJet": "msoftdrop", "Jet": "mass", "Tau": "mass"}
# Truth branch of each collection that the taggers' truth_labels read.
TRUTH_FIELD = {"FatJet": "hadronFlavour", "Jet": "hadronFlavour", "Tau": "genPartFlav"}
# Index of the matched generator jet, and the generator collection it points into.
GEN_MATCH = {"FatJet": ("genJetAK8Idx", "GenJetAK8"), "Jet": ("genJetIdx", "GenJet")}
# Generator-jet pT including neutrinos (jetml samples): the regression response's reference.
GEN_PT_WITH_NU = "ptWithNu"
TIMING_KEYS = ("read_s", "build_s", "ort_s", "fill_s")


class TaggerProcessor(processor.ProcessorABC):
    """Apply ``taggers`` to events and histogram their scores (see the module docstring).

    ``score_bins`` bins cover [0, 1] for classifier scores and [0, 2] for the scores of
    regression taggers (those with ``pt_correction``); ``mass_bins`` cover 0-300 GeV.
    ``extra_branches`` are loaded too (for subclasses that histogram more).
    """

    def __init__(
        self,
        taggers: Sequence[Tagger],
        *,
        score_bins: int = 50,
        mass_bins: int = 30,
        extra_branches: Sequence[str] = (),
    ) -> None:
        names = [tagger.name for tagger in taggers]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ConfigError(f"tagger names must be unique; repeated: {', '.join(duplicates)}")
        for tagger in taggers:
            if tagger.collection not in MASS_FIELD:
                raise ConfigError(
                    f"tagger {tagger.name}: collection {tagger.collection!r} is not one of "
                    f"{', '.join(MASS_FIELD)}"
                )
        self.taggers = tuple(taggers)
        self.score_bins = score_bins
        self.mass_bins = mass_bins
        self.extra_branches = tuple(extra_branches)

    @property
    def branches(self) -> tuple[str, ...]:
        """Every branch a chunk may need: the taggers' inputs, the truth and generator-jet
        branches of their collections, and ``extra_branches``.

        ``jetml run`` builds each chunk's NanoEvents over these branches only (plus the
        kinematics of each collection, see :func:`jetml.nanoaod.events_from_tree`).
        """
        wanted: list[str] = [*self.extra_branches]
        for tagger in self.taggers:
            wanted += tagger.branches
            wanted += _candidate_processor_branches(tagger)
        return tuple(dict.fromkeys(wanted))

    # ----------------------------------------------------------------------------- outputs
    def empty_output(self, datasets: Iterable[str] = ()) -> dict[str, Any]:
        """The accumulator of zero chunks: every histogram and counter exists, all zero."""
        output: dict[str, Any] = {
            "events": {},
            "cutflow": {},
            "hists": {},
            "timing": {
                tagger.name: {**dict.fromkeys(TIMING_KEYS, 0.0), "jets": 0, "events": 0}
                for tagger in self.taggers
            },
            "chunk_seconds": 0.0,
            "chunk_cpu_seconds": 0.0,
            "processes": set(),
            "sessions": set(),
            "skipped_taggers": {tagger.name: set() for tagger in self.taggers},
            "chunks": set(),
            "failed_chunks": set(),
            # (tagger, file, entry_start, entry_stop, branch, values that are NaN or ±inf)
            "nonfinite_inputs": set(),
        }
        for dataset in datasets:
            output["events"][dataset] = 0
            output["cutflow"][dataset] = self._empty_cutflow()
            output["hists"][dataset] = self._empty_hists()
        return output

    def _empty_cutflow(self) -> dict[str, int]:
        cutflow = {"events": 0}
        for collection in sorted({tagger.collection for tagger in self.taggers}):
            cutflow[f"events with a {collection}"] = 0
            cutflow[f"{collection} jets"] = 0
        for tagger in self.taggers:
            cutflow[f"{tagger.name}: jets evaluated"] = 0
        return cutflow

    def _score_axis(self, tagger: Tagger) -> hist.axis.Regular:
        upper = 2.0 if tagger.pt_correction else 1.0
        return hist.axis.Regular(self.score_bins, 0.0, upper, name="score", label="score")

    def _empty_hists(self) -> dict[str, hist.Hist]:
        hists: dict[str, hist.Hist] = {}
        for tagger in self.taggers:
            mass_label = f"{tagger.collection} {MASS_FIELD[tagger.collection]} [GeV]"
            for score in tagger.score_names:
                key = f"{tagger.name}_{score}"
                hists[key] = hist.Hist(
                    hist.axis.StrCategory(list(tagger.labels), name="label", label="truth"),
                    self._score_axis(tagger),
                )
                hists[f"{key}_vs_mass"] = hist.Hist(
                    self._score_axis(tagger),
                    hist.axis.Regular(self.mass_bins, 0.0, 300.0, name="mass", label=mass_label),
                )
                if score in tagger.reference_scores:
                    hists[f"{key}_vs_cms"] = hist.Hist(
                        self._score_axis(tagger),
                        hist.axis.Regular(
                            self.score_bins, 0.0, 1.0, name="cms", label="CMS stored score"
                        ),
                    )
            if tagger.pt_correction:
                hists[f"{tagger.name}_response"] = hist.Hist(
                    hist.axis.StrCategory(["raw", "jetml"], name="pt", label="jet pT"),
                    hist.axis.Regular(
                        60, 0.0, 2.0, name="response", label="b-jet pT / gen-jet pT (with nu)"
                    ),
                )
        return hists

    # ----------------------------------------------------------------------------- per chunk
    def apply_taggers(self, events: ak.Array) -> tuple[ak.Array, dict[str, Any]]:
        """Evaluate every runnable tagger and attach its scores to ``events``.

        Returns the events with fields ``<collection>.jetml_<tagger>_<score>`` (NaN for jets a
        tagger did not select) and a report: per tagger its selection mask, seconds spent
        reading/building/in ORT, and the branches it lacked (then it is skipped). A branch that
        cannot be read raises :class:`InputFileError` naming the file and entry range.
        """
        # one ChunkColumns for every tagger: each branch, candidate table and shared build once
        with shared_columns(events):
            return self._apply_taggers(events)

    def _apply_taggers(self, events: ak.Array) -> tuple[ak.Array, dict[str, Any]]:
        """:meth:`apply_taggers` inside the chunk's shared-columns scope."""
        report: dict[str, Any] = {}
        for tagger in self.taggers:
            missing = tagger.missing_inputs(events)
            if missing:
                report[tagger.name] = {"missing": missing}
                continue
            started = time.perf_counter()
            read_branches(events, [*tagger.branches, *_processor_branches(tagger, events)])
            read_s = time.perf_counter() - started
            nonfinite = count_nonfinite(events, tagger.branches)
            jets = events[tagger.collection]
            mask = tagger.select(jets)
            before = inference_snapshot()
            started = time.perf_counter()
            scores = tagger.evaluate(events, mask)
            evaluate_s = time.perf_counter() - started
            ort_s = min(inference_snapshot().ort_seconds - before.ort_seconds, evaluate_s)
            flat_mask = ak.to_numpy(ak.flatten(mask)).astype(bool)
            for score in tagger.score_names:
                values = np.asarray(scores[score], dtype=np.float32)
                if values.shape != (int(flat_mask.sum()),):
                    raise ValueError(
                        f"tagger {tagger.name} returned {values.shape} values for score {score!r}, "
                        f"expected one per selected jet ({int(flat_mask.sum())})"
                    )
                full = np.full(flat_mask.shape, np.nan, dtype=np.float32)
                full[flat_mask] = values
                events[tagger.collection, tagger.field_name(score)] = ak.unflatten(
                    full, ak.num(mask, axis=1)
                )
            report[tagger.name] = {
                "mask": mask,
                "read_s": read_s,
                "build_s": evaluate_s - ort_s,
                "ort_s": ort_s,
                "nonfinite": nonfinite,
            }
        return events, report

    def process(self, events: ak.Array) -> dict[str, Any]:
        """One chunk: apply the taggers, fill histograms, cutflow and counters."""
        chunk_started = time.perf_counter()
        cpu_started = time.process_time()
        metadata = getattr(events, "metadata", None) or {}
        dataset = metadata.get("dataset", DEFAULT_DATASET)
        filename = str(metadata.get("filename", "?"))
        sessions_before = inference_snapshot()
        output = self.empty_output([dataset])
        output["processes"].add(_process_id())
        output["events"][dataset] = len(events)
        cutflow = output["cutflow"][dataset]
        cutflow["events"] = len(events)
        for collection in sorted({tagger.collection for tagger in self.taggers}):
            if collection in events.fields:
                counts = ak.to_numpy(ak.num(events[collection], axis=1))
                cutflow[f"events with a {collection}"] = int(np.count_nonzero(counts))
                cutflow[f"{collection} jets"] = int(counts.sum())

        events, report = self.apply_taggers(events)
        hists = output["hists"][dataset]
        for tagger in self.taggers:
            entry = report[tagger.name]
            if "missing" in entry:
                output["skipped_taggers"][tagger.name].add((filename, ", ".join(entry["missing"])))
                continue
            started = time.perf_counter()
            n_jets = self._fill(tagger, events, entry["mask"], hists)
            timing = output["timing"][tagger.name]
            timing.update({key: entry[key] for key in TIMING_KEYS if key != "fill_s"})
            timing["fill_s"] = time.perf_counter() - started
            timing["jets"] = n_jets
            timing["events"] = len(events)
            cutflow[f"{tagger.name}: jets evaluated"] = n_jets
            where = (
                filename,
                metadata.get("entrystart", 0),
                metadata.get("entrystop", len(events)),
            )
            for branch, count in entry["nonfinite"].items():
                output["nonfinite_inputs"].add((tagger.name, *where, branch, count))
        output["sessions"] = sessions_since(sessions_before)
        output["chunk_seconds"] = time.perf_counter() - chunk_started
        output["chunk_cpu_seconds"] = time.process_time() - cpu_started
        return output

    def _fill(
        self, tagger: Tagger, events: ak.Array, mask: ak.Array, hists: dict[str, hist.Hist]
    ) -> int:
        """Fill the tagger's histograms from the attached scores; return the jets filled."""
        jets = events[tagger.collection][mask]
        n_jets = int(ak.sum(ak.num(jets, axis=1)))
        labels = tagger.truth_labels(jets)
        flat_labels = (
            np.full(n_jets, UNLABELLED) if labels is None else ak.to_numpy(ak.flatten(labels))
        )
        mass = _flat(jets[MASS_FIELD[tagger.collection]])
        for score in tagger.score_names:
            values = _flat(jets[tagger.field_name(score)])
            key = f"{tagger.name}_{score}"
            hists[key].fill(label=flat_labels, score=values)
            hists[f"{key}_vs_mass"].fill(score=values, mass=mass)
            reference = tagger.reference_scores.get(score)
            if reference is not None and reference in jets.fields:
                hists[f"{key}_vs_cms"].fill(score=values, cms=_flat(jets[reference]))
        if tagger.pt_correction:
            gen_pt = _matched_gen_pt(events, tagger.collection, mask)
            if gen_pt is not None:
                matched = np.isfinite(gen_pt) & (gen_pt > 0)
                if "hadronFlavour" in jets.fields:  # b jets only: the regression's training set
                    matched &= _flat(jets.hadronFlavour) == 5
                raw = _flat(jets.pt)[matched] / gen_pt[matched]
                correction = _flat(jets[tagger.field_name(tagger.pt_correction)])[matched]
                response = hists[f"{tagger.name}_response"]
                response.fill(pt="raw", response=raw)
                response.fill(pt="jetml", response=raw * correction)
        return n_jets

    def postprocess(self, accumulator: dict[str, Any]) -> dict[str, Any]:
        """Nothing to finalise: the merged accumulator is the result."""
        return accumulator


def count_nonfinite(events: ak.Array, branches: Iterable[str]) -> dict[str, int]:
    """Per floating-point input branch held by ``events``: how many values are NaN or ±inf.

    Such values change scores silently (a NaN jet fails every selection, an inf one is clipped),
    so the processor counts them per tagger and chunk and ``jetml run`` warns once. Each
    branch is counted once per chunk (taggers share most of their inputs).
    """
    columns = columns_of(events)
    counts: dict[str, int] = {}
    for branch in dict.fromkeys(branches):
        bad = columns.memo(("nonfinite", branch), lambda branch=branch: _nonfinite(events, branch))
        if bad:
            counts[branch] = bad
    return counts


def _nonfinite(events: ak.Array, branch: str) -> int:
    """NaN and ±inf values of one floating-point branch (0 for others and absent ones)."""
    if not branch_available(events, branch):
        return 0
    collection, _, field = branch.partition("_")
    array = events[branch] if branch in events.fields else events[collection][field]
    values = ak.to_numpy(ak.flatten(array, axis=None))
    if values.dtype.kind != "f":
        return 0
    return int(values.size - np.count_nonzero(np.isfinite(values)))


def _flat(array: ak.Array) -> np.ndarray:
    return ak.to_numpy(ak.flatten(array, axis=None)).astype(np.float64)


def _process_id() -> tuple[str, int]:
    return (socket.gethostname(), os.getpid())


def _candidate_processor_branches(tagger: Tagger) -> list[str]:
    """Branches the processor itself may read for ``tagger``'s histograms."""
    collection = tagger.collection
    wanted = [f"{collection}_pt", f"{collection}_{MASS_FIELD[collection]}"]
    wanted.append(f"{collection}_{TRUTH_FIELD[collection]}")
    wanted += [f"{collection}_{field}" for field in tagger.truth_fields]
    wanted += [f"{collection}_{field}" for field in tagger.reference_scores.values()]
    if tagger.pt_correction:
        index, gen = GEN_MATCH[collection]
        wanted += [f"{collection}_{index}", f"{gen}_pt", f"{gen}_{GEN_PT_WITH_NU}"]
    return wanted


def _processor_branches(tagger: Tagger, events: ak.Array) -> list[str]:
    """The processor's own branches for ``tagger`` that ``events`` hold."""
    return [b for b in _candidate_processor_branches(tagger) if branch_available(events, b)]


def _matched_gen_pt(events: ak.Array, collection: str, mask: ak.Array) -> np.ndarray | None:
    """pT of the generator jet matched to each selected jet (NaN when unmatched), flat: with
    neutrinos (``ptWithNu``, the b-regression target) where the file stores it."""
    index_field, gen_name = GEN_MATCH[collection]
    jets = events[collection]
    if index_field not in jets.fields or gen_name not in events.fields:
        return None
    index = jets[index_field][mask]
    gen = events[gen_name]
    gen_pt = gen[GEN_PT_WITH_NU] if GEN_PT_WITH_NU in gen.fields else gen.pt
    valid = (index >= 0) & (index < ak.num(gen_pt, axis=1))
    matched = gen_pt[ak.mask(index, valid)]
    return ak.to_numpy(ak.fill_none(ak.flatten(matched), np.nan)).astype(np.float64)
