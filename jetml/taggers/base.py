"""The interface every jetml tagger implements, so the processor can run any of them.

A tagger names the jet collection its scores belong to, the NanoAOD branches it reads, which jets
it evaluates, and how to turn a chunk of events into one score per evaluated jet. The processor
(:mod:`jetml.processor`) does everything else: reading, timing, attaching the scores as fields
``<collection>.jetml_<name>_<score>``, histograms and the cutflow.

Taggers are pickled to worker processes (futures and Dask executors), so they must hold only
picklable state: :class:`jetml.inference.OnnxModel` pickles its path and checksum, and each
worker process then opens one shared ONNX Runtime session per model.
"""

from __future__ import annotations

import abc
from typing import ClassVar

import awkward as ak
import numpy as np

# Truth labels from NanoAOD hadronFlavour (5 = b, 4 = c, 0 = light), indexed by the code.
FLAVOUR_LABELS: tuple[str, ...] = ("b", "c", "light")
_LABEL_OF_FLAVOUR = np.array(["light", "light", "light", "light", "c", "b"])
UNLABELLED = "unlabelled"


def branch_available(events: ak.Array, branch: str) -> bool:
    """True when the NanoEvents ``events`` hold the flat NanoAOD branch ``branch``.

    ``"FatJet_pt"`` is looked up as field ``pt`` of collection ``FatJet``; names without an
    underscore (``"fixedGridRhoFastjetAll"``) as top-level fields. Nothing is read from disk.
    """
    if branch in events.fields:
        return True
    collection, _, field = branch.partition("_")
    if not field or collection not in events.fields:
        return False
    return field in events[collection].fields


class Tagger(abc.ABC):
    """A network evaluated on the jets of one collection; one instance per configured tagger.

    Subclasses set the class or instance attributes below and implement :meth:`evaluate`.
    """

    name: str
    """Short identifier, e.g. ``"particlenet_ak8"``; scores become ``jetml_<name>_<score>``."""
    collection: str
    """Collection whose jets are evaluated and receive the scores: ``"FatJet"`` or ``"Jet"``."""
    score_names: tuple[str, ...]
    """Score suffixes, in the order of :meth:`evaluate`'s result."""
    branches: tuple[str, ...]
    """Flat NanoAOD branches the tagger reads (``"PFCands_pt"``, ``"FatJetPFCands_jetIdx"``, ...).

    The processor reads them before timing feature building, and a chunk lacking any of them
    skips the tagger (see :meth:`missing_inputs`). ``jetml run`` builds each chunk's NanoEvents
    over these branches only (plus pt/eta/phi/mass of each collection named here and the
    truth/generator branches the processor histograms), so list every branch you read."""
    pt_correction: ClassVar[str | None] = None
    """For regression taggers: the score that multiplies the jet pT (e.g. ``"correction"``); the
    processor then fills the pT response against the matched generator jet. None otherwise."""
    reference_scores: ClassVar[dict[str, str]] = {}
    """Score name -> field of :attr:`collection` holding the score CMS stored for the same jets
    (e.g. ``{"probTbqq": "deepTag_TvsQCD"}``); the processor fills jetml-vs-CMS 2D histograms
    for those present in the file, as a sanity figure."""
    uses_pf_candidates: ClassVar[bool] = False
    """True when the tagger needs PF candidates (PFNano); used in messages when it is skipped."""
    truth_fields: ClassVar[tuple[str, ...]] = ()
    """Extra fields of :attr:`collection` that :meth:`truth_labels` reads when a file has them
    (optional: a file without them still runs the tagger)."""

    def missing_inputs(self, events: ak.Array) -> list[str]:
        """Branches of :attr:`branches` that ``events`` lack; empty when the tagger can run."""
        return [branch for branch in self.branches if not branch_available(events, branch)]

    def select(self, jets: ak.Array) -> ak.Array:
        """Jagged boolean mask over ``jets`` (the tagger's collection): the jets to evaluate.

        The default evaluates every jet; override to apply e.g. a pT threshold.
        """
        return ak.ones_like(jets.pt, dtype=bool)

    @abc.abstractmethod
    def evaluate(self, events: ak.Array, mask: ak.Array) -> dict[str, np.ndarray]:
        """Scores of the jets ``events[self.collection][mask]``.

        ``mask`` is :meth:`select`'s jagged mask. Returns, for each name in
        :attr:`score_names`, a flat float array with one entry per selected jet in
        ``ak.flatten(events[self.collection][mask])`` order (length 0 when no jet is selected).
        Implementations build their inputs with a recipe of :mod:`jetml.features` (never with
        training code) and run a shared :class:`jetml.inference.OnnxModel`.
        """

    def truth_labels(self, jets: ak.Array) -> ak.Array | None:
        """Jagged truth-label names of ``jets`` (``"b"``, ``"c"``, ``"light"``), or None.

        The default uses NanoAOD ``hadronFlavour``; None (no truth, e.g. collision data) makes
        the processor fill its score histograms under the label :data:`UNLABELLED`.
        Override for taggers whose classes need other truth (e.g. top or W jets).
        """
        if "hadronFlavour" not in jets.fields:
            return None
        flavour = ak.values_astype(jets.hadronFlavour, np.int64)
        flat = ak.to_numpy(ak.flatten(flavour, axis=None))
        return ak.unflatten(_LABEL_OF_FLAVOUR[np.clip(flat, 0, 5)], ak.num(flavour, axis=1))

    @property
    def labels(self) -> tuple[str, ...]:
        """Every label :meth:`truth_labels` can return, plus ``"unlabelled"``."""
        return (*FLAVOUR_LABELS, UNLABELLED)

    def field_name(self, score: str) -> str:
        """The field under which ``score`` is attached to the tagger's collection."""
        return f"jetml_{self.name}_{score}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, collection={self.collection!r})"
