"""Candidates per jet from PFNano cross-reference tables, without ``FatJet.constituents``.

PFNano stores jet → candidate links as flat per-event tables (``FatJetPFCands``,
``JetPFCands``, ``FatJetSVs``, ``JetSVs``) with a ``jetIdx`` field and an index into the
candidate collection (``pFCandsIdx``, ``sVIdx``). coffea's ``FatJet.constituents`` needs a
``FatJet_nConstituents`` branch that real PFNano files lack, so jetml groups the link tables by
``jetIdx`` itself; this works for real and generated files alike.
"""

from __future__ import annotations

from typing import Any

import awkward as ak
import numpy as np

from jetml.errors import ModelInputError


def group_by_jet(
    links: ak.Array, n_jets: Any, *, jet_index: str = "jetIdx", name: str = "links"
) -> ak.Array:
    """Regroup per-event records ``(events x links)`` into ``(events x jets x links)``.

    Each record goes to the jet its ``jet_index`` field names; within a jet, records keep
    their order in the table. ``n_jets`` is the number of jets per event (``ak.num(jets)``).
    A record pointing outside its event's jets raises :class:`ModelInputError`.
    """
    n_jets = np.asarray(ak.to_numpy(n_jets) if isinstance(n_jets, ak.Array) else n_jets)
    n_jets = n_jets.astype(np.int64)
    link_counts = ak.to_numpy(ak.num(links, axis=1)).astype(np.int64)
    if len(n_jets) != len(link_counts):
        raise ModelInputError(
            f"{name}: {len(link_counts)} events of links but {len(n_jets)} events of jets"
        )
    flat = ak.flatten(links, axis=1)
    jet_idx = ak.to_numpy(flat[jet_index]).astype(np.int64)
    event_of_link = np.repeat(np.arange(len(link_counts)), link_counts)
    bad = (jet_idx < 0) | (jet_idx >= n_jets[event_of_link])
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise ModelInputError(
            f"{name}.{jet_index} = {jet_idx[first]} in event {event_of_link[first]} points "
            f"outside its {n_jets[event_of_link[first]]} jets"
        )
    jet_starts = np.zeros(len(n_jets), dtype=np.int64)
    np.cumsum(n_jets[:-1], out=jet_starts[1:])
    global_jet = jet_starts[event_of_link] + jet_idx
    order = np.argsort(global_jet, kind="stable")
    per_jet = np.bincount(global_jet, minlength=int(n_jets.sum()))
    return ak.unflatten(ak.unflatten(flat[order], per_jet), n_jets)


def linked_candidates(
    events: Any,
    jets: str,
    links: str,
    candidates: str,
    *,
    candidate_index: str,
    jet_index: str = "jetIdx",
) -> ak.Array:
    """Candidates of every jet, ``(events x jets x candidates)``, via a PFNano link table.

    Example: ``linked_candidates(events, "FatJet", "FatJetPFCands", "PFCands",
    candidate_index="pFCandsIdx")``. Each record holds the candidate's own fields plus the link
    table's fields it lacks (e.g. ``btagEtaRel``), in link-table order.
    """
    for collection in (jets, links, candidates):
        if collection not in events.fields:
            raise ModelInputError(f"events lack the collection '{collection}'")
    table = events[links]
    if candidate_index not in table.fields or jet_index not in table.fields:
        raise ModelInputError(
            f"collection '{links}' lacks the index fields '{jet_index}'/'{candidate_index}'"
        )
    cands = events[candidates][table[candidate_index]]
    fields = {f: cands[f] for f in cands.fields}
    for field in table.fields:
        if field not in fields and not field.endswith("G"):
            fields[field] = table[field]
    merged = ak.zip(fields, depth_limit=2)
    return group_by_jet(merged, ak.num(events[jets], axis=1), jet_index=jet_index, name=links)
