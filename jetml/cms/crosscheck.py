"""Reproduce the ParticleNet scores CMSSW stored in a PFNano file, with jetml's inputs and models.

For every AK8 jet above ``min_pt`` the official ParticleNet-AK8 V01 and MD-2prong V01 models are
run on inputs built by :mod:`jetml.features.cms_pfnano`, the discriminants are formed as CMSSW
forms them, and each is compared with the ``FatJet_particleNet_*`` / ``FatJet_particleNetMD_*``
branch of the file. Target (fixed, not configurable): for every score at least 90% of the jets
within ``|delta| <= 0.01`` and none beyond 0.05.

PFNano lacks one input CMSSW had: the packed ``dz``/``dxy`` of charged candidates without track
details (MiniAOD keeps track details only above ~0.5 GeV). jetml feeds 0 for them; the result
therefore also reports the agreement on the jets that have no such candidate.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import awkward as ak
import numpy as np

from jetml.errors import InputFileError
from jetml.features.cms_pfnano import NO_TRACK_NORMCHI2, cms_jet_variables
from jetml.nanoaod import events_from_tree, open_events_tree, read_branches
from jetml.taggers.particlenet import particlenet_taggers

TOLERANCE = 0.01
"""A jet agrees when ``|jetml - CMSSW| <= TOLERANCE``."""
MAX_DIFFERENCE = 0.05
"""No jet may differ by more than this."""
REQUIRED_FRACTION = 0.90
"""Fraction of jets that must agree, for every score."""
MIN_PT = 200.0
"""Jets compared: AK8 jets above this pT (GeV)."""
CHUNK_EVENTS = 20_000
"""Events read per chunk."""


@dataclass(frozen=True)
class ScoreComparison:
    """Agreement of one score with the branch CMSSW stored."""

    tagger: str
    score: str
    branch: str
    differences: np.ndarray
    """``jetml - stored`` per compared jet."""
    complete: np.ndarray
    """Per jet: True when no fed candidate lacked information PFNano does not store."""

    @property
    def n_jets(self) -> int:
        return len(self.differences)

    @staticmethod
    def _within(diff: np.ndarray) -> float:
        return float(np.mean(np.abs(diff) <= TOLERANCE)) if len(diff) else float("nan")

    @property
    def fraction_within(self) -> float:
        return self._within(self.differences)

    @property
    def fraction_within_complete(self) -> float:
        """Fraction within tolerance on the jets whose inputs PFNano stores completely."""
        return self._within(self.differences[self.complete])

    @property
    def max_abs(self) -> float:
        return float(np.max(np.abs(self.differences))) if self.n_jets else 0.0

    @property
    def passed(self) -> bool:
        return (
            self.n_jets > 0
            and self.fraction_within >= REQUIRED_FRACTION
            and self.max_abs <= MAX_DIFFERENCE
        )


@dataclass(frozen=True)
class CrosscheckResult:
    """All score comparisons of one file."""

    path: Path
    comparisons: list[ScoreComparison]

    @property
    def n_jets(self) -> int:
        return self.comparisons[0].n_jets if self.comparisons else 0

    @property
    def n_complete(self) -> int:
        return int(self.comparisons[0].complete.sum()) if self.comparisons else 0

    @property
    def passed(self) -> bool:
        return bool(self.comparisons) and all(c.passed for c in self.comparisons)


def _jets_complete(events: ak.Array, mask: ak.Array, max_candidates: int) -> np.ndarray:
    """Per selected jet: no fed charged candidate without track details (unknown dz/dxy)."""
    cands = cms_jet_variables(events, ["pfcand_charge", "pfcand_normchi2"], mask)
    lacking = (cands["pfcand_charge"] != 0) & (cands["pfcand_normchi2"] == NO_TRACK_NORMCHI2)
    return ~ak.to_numpy(ak.any(lacking[:, :max_candidates], axis=1))


def crosscheck(
    path: str | Path, models_dir: str | Path, *, min_pt: float = MIN_PT
) -> CrosscheckResult:
    """Compare jetml's ParticleNet scores with those stored in the PFNano file ``path``."""
    path = Path(path)
    taggers = particlenet_taggers(models_dir, min_pt=min_pt)
    tree = open_events_tree(path)
    available = set(tree.keys())
    needed = dict.fromkeys(b for tagger in taggers for b in tagger.branches)
    if missing := [b for b in needed if b not in available]:
        shown = ", ".join(missing[:4]) + (
            f" and {len(missing) - 4} more" if len(missing) > 4 else ""
        )
        raise InputFileError(f"{path}: not PFNano with ParticleNet inputs, lacks {shown}")
    stored = {f"FatJet_{field}" for tagger in taggers for field in tagger.reference_scores.values()}
    read = [*needed, *sorted(stored & available)]
    n_events = tree.num_entries
    diffs: dict[tuple[str, str], list[np.ndarray]] = {}
    branches: dict[tuple[str, str], str] = {}
    complete: list[np.ndarray] = []
    for start in range(0, max(n_events, 1), CHUNK_EVENTS):
        stop = min(start + CHUNK_EVENTS, n_events)
        events = events_from_tree(tree, entry_start=start, entry_stop=stop, branches=read)
        read_branches(events, read)  # a damaged basket: one line naming file, entries, branch
        jets = events.FatJet
        mask = jets.pt > min_pt
        max_pf = taggers[0].config.inputs[taggers[0].config.input_names[0]].max_length
        complete.append(_jets_complete(events, mask, max_pf))
        for tagger in taggers:
            scores = tagger.evaluate(events, mask)
            for score, field in tagger.reference_scores.items():
                if field not in jets.fields:
                    continue
                values = scores[score]
                stored = ak.to_numpy(ak.flatten(jets[field][mask])).astype(np.float64)
                key = (tagger.name, score)
                branches[key] = f"FatJet_{field}"
                diffs.setdefault(key, []).append(values.astype(np.float64) - stored)
    if not branches:
        raise InputFileError(
            f"{path}: no FatJet_particleNet_* / FatJet_particleNetMD_* scores to compare with"
        )
    complete_all = np.concatenate(complete)
    comparisons = [
        ScoreComparison(
            tagger, score, branches[(tagger, score)], np.concatenate(parts), complete_all
        )
        for (tagger, score), parts in diffs.items()
    ]
    return CrosscheckResult(path, comparisons)
