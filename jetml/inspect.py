"""Summaries of NanoAOD/PFNano files: events, collections, and which tagger inputs they carry."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import awkward as ak
import numpy as np
from rich.console import Console
from rich.table import Table

from jetml.nanoaod import (
    EVENTS_TREE,
    events_format,
    events_from_tree,
    missing_event_ids,
    open_events_tree,
    schema_for,
)


@dataclass(frozen=True)
class InputGroup:
    """A tagger input group: a per-object link collection and the branches it needs."""

    name: str
    owner: str  # the collection the group is counted per ("FatJet", "Jet") or "event"
    collection: str
    required_branches: tuple[str, ...]


TAGGER_INPUT_GROUPS: tuple[InputGroup, ...] = (
    InputGroup(
        "PF candidates per AK8 jet",
        "FatJet",
        "FatJetPFCands",
        ("FatJetPFCands_jetIdx", "FatJetPFCands_pFCandsIdx", "PFCands_d0", "PFCands_dzErr"),
    ),
    InputGroup(
        "PF candidates per AK4 jet",
        "Jet",
        "JetPFCands",
        ("JetPFCands_jetIdx", "JetPFCands_pFCandsIdx", "PFCands_d0", "PFCands_dzErr"),
    ),
    InputGroup("SVs per AK8 jet", "FatJet", "FatJetSVs", ("FatJetSVs_jetIdx", "FatJetSVs_sVIdx")),
    InputGroup("SVs per AK4 jet", "Jet", "JetSVs", ("JetSVs_jetIdx", "JetSVs_sVIdx")),
    InputGroup("taus", "event", "Tau", ("Tau_pt", "Tau_decayMode")),
    InputGroup("muons", "event", "Muon", ("Muon_pt",)),
    InputGroup("electrons", "event", "Electron", ("Electron_pt",)),
)


@dataclass
class GroupAvailability:
    """Whether a tagger input group is present, and its mean size per owner object."""

    name: str
    available: bool
    mean_per_owner: float | None
    missing_branches: tuple[str, ...]


@dataclass
class FileSummary:
    """What ``jetml inspect`` reports for one file."""

    path: str
    schema: str
    events: int
    format: str = "TTree"  # how the file stores Events: TTree or RNTuple
    missing_event_ids: tuple[str, ...] = ()  # read anyway: tagging needs no event IDs
    collections: dict[str, float] = field(default_factory=dict)  # name → mean per event
    groups: list[GroupAvailability] = field(default_factory=list)


def summarize(path: str | os.PathLike[str]) -> FileSummary:
    """Open ``path`` (file or URL, TTree or RNTuple) with coffea NanoEvents and summarise its
    collections and tagger inputs."""
    tree = open_events_tree(path)
    events = events_from_tree(tree)
    branches = set(tree.keys())
    n_events = len(events)
    collections = {
        name: _mean(ak.num(events[name], axis=1), n_events)
        for name in sorted(events.fields)
        if f"n{name}" in branches
    }
    groups = [_availability(group, events, branches, n_events) for group in TAGGER_INPUT_GROUPS]
    return FileSummary(
        path=os.fspath(path),
        schema=schema_for(tree).__name__,
        events=n_events,
        format=events_format(tree),
        missing_event_ids=missing_event_ids(tree),
        collections=collections,
        groups=groups,
    )


def _availability(
    group: InputGroup, events: ak.Array, branches: set[str], n_events: int
) -> GroupAvailability:
    missing = tuple(name for name in group.required_branches if name not in branches)
    if missing:
        return GroupAvailability(group.name, False, None, missing)
    members = ak.num(events[group.collection], axis=1)
    if group.owner == "event":
        return GroupAvailability(group.name, True, _mean(members, n_events), ())
    owners = int(ak.sum(ak.num(events[group.owner], axis=1)))
    per_owner = float(ak.sum(members)) / owners if owners else float("nan")
    return GroupAvailability(group.name, True, per_owner, ())


def _mean(counts: ak.Array, n_events: int) -> float:
    return float(ak.sum(counts)) / n_events if n_events else float("nan")


def render(summary: FileSummary, console: Console) -> None:
    """Print one file's summary as two rich tables."""
    title = (
        f"{summary.path} — {summary.events} events in '{EVENTS_TREE}' "
        f"({summary.format}, {summary.schema})"
    )

    collections = Table(title=title, title_justify="left")
    collections.add_column("collection")
    collections.add_column("mean per event", justify="right")
    for name, mean in summary.collections.items():
        collections.add_row(name, _fmt(mean))
    console.print(collections)
    groups = Table(title="tagger input groups", title_justify="left")
    groups.add_column("group")
    groups.add_column("available")
    groups.add_column("mean per object", justify="right")
    for group in summary.groups:
        status = "yes" if group.available else f"no (missing {', '.join(group.missing_branches)})"
        groups.add_row(group.name, status, _fmt(group.mean_per_owner))
    console.print(groups)


def _fmt(value: float | None) -> str:
    if value is None:
        return "—"
    return "n/a (0 events)" if np.isnan(value) else f"{value:.2f}"
