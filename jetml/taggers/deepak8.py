"""jetml's DeepAK8 (17 classes, lite width) on ``FatJet`` (shipped ``jetml/models/deepak8``).

Inputs come entirely from the shipped ``preprocess.json``: its variables are CMS
``pfcand_*``/``sv_*`` variables (:mod:`jetml.features.cms_pfnano`, CMSSW conventions) and
``new_variables`` expressions over them and the per-jet ``jet_pt_log`` / ``jet_e_log`` (logs of
the AK8 jet's pT and energy), the deployment contract of the training data
(``jetml.nn.fatjet_data``, docs/taggers.md). :func:`jetml.features.build_inputs` evaluates the
expressions and standardises. Scores: the discriminants CMS forms from the class probabilities,
``XvsQCD = p(X) / (p(X) + p(QCD))`` with QCD the sum of the five QCD classes.

:class:`DeepAK8Tagger` also runs the mass-decorrelated ``deepak8_md`` and the untrained
full-size ``deepak8_full`` (kept for timing), which share the input recipe.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import awkward as ak
import numpy as np

from jetml.errors import ConfigError
from jetml.features import build_inputs, check_expression
from jetml.features.cms_pfnano import CMS_VARIABLES, cms_jet_columns, required_branches
from jetml.features.jagged import Jagged
from jetml.features.jets import SelectedJets
from jetml.taggers.particlenet import Discriminant
from jetml.taggers.shipped import ShippedTagger
from jetml.taggers.truth import ResonanceTruth

JET_VARIABLES = ("jet_pt_log", "jet_e_log")
"""Per-jet variables the ``new_variables`` of the DeepAK8 configs read."""
QCD_CLASSES = ("QCD_bb", "QCD_cc", "QCD_b", "QCD_c", "QCD_others")


def _vs_qcd(*signal: str) -> Discriminant:
    return Discriminant(signal, (*signal, *QCD_CLASSES))


DISCRIMINANTS: dict[str, Discriminant] = {
    "TvsQCD": _vs_qcd("Top_bcq", "Top_bqq"),
    "WvsQCD": _vs_qcd("W_cq", "W_qq"),
    "ZvsQCD": _vs_qcd("Z_bb", "Z_cc", "Z_qq"),
    "ZbbvsQCD": _vs_qcd("Z_bb"),
    "HbbvsQCD": _vs_qcd("H_bb"),
    "HccvsQCD": _vs_qcd("H_cc"),
    "H4qvsQCD": _vs_qcd("H_qqqq"),
    "QCD": Discriminant(QCD_CLASSES),
}
REFERENCE_SCORES = {
    "deepak8": {s: f"deepTag_{s}" for s in ("TvsQCD", "WvsQCD", "ZvsQCD", "QCD")},
    "deepak8_md": {
        s: f"deepTagMD_{s}" for s in ("TvsQCD", "WvsQCD", "ZvsQCD", "ZbbvsQCD", "H4qvsQCD")
    },
}
"""NanoAOD ``FatJet`` fields where CMS stored its DeepAK8 (MD) scores of the same name."""


class DeepAK8Tagger(ResonanceTruth, ShippedTagger):
    """A shipped DeepAK8-family model on ``FatJet`` (pT >= 300 GeV, |eta| < 2.4, as in training)."""

    discriminants: ClassVar[dict[str, Discriminant]] = DISCRIMINANTS

    collection = "FatJet"
    uses_pf_candidates = True

    def __init__(self, name: str = "deepak8", folder: str | Path | None = None) -> None:
        super().__init__(name, folder)
        self.score_names = tuple(DISCRIMINANTS)
        self.reference_scores = dict(REFERENCE_SCORES.get(name, {}))
        self.catalogue_variables = self._catalogue_variables()
        self.branches = (
            f"{self.collection}_pt",
            f"{self.collection}_eta",
            f"{self.collection}_phi",
            f"{self.collection}_mass",
            *required_branches(self.catalogue_variables, self.collection),
        )
        if missing := set(QCD_CLASSES) - set(self.shipped.output_labels):
            raise ConfigError(f"{name}: model outputs lack {sorted(missing)}")

    def _catalogue_variables(self) -> tuple[str, ...]:
        """CMS catalogue variables the config's inputs and ``new_variables`` read."""
        config = self.shipped.config
        pending = list(config.var_names)
        seen: set[str] = set()
        while pending:
            name = pending.pop()
            if name in seen:
                continue
            seen.add(name)
            if name in config.new_variables:
                pending += check_expression(config.new_variables[name], where=name)
        unknown = sorted(seen - set(config.new_variables) - set(CMS_VARIABLES) - set(JET_VARIABLES))
        if unknown:
            raise ConfigError(
                f"{self.name}: preprocess.json reads {unknown}, neither CMS PFNano variables "
                f"nor {', '.join(JET_VARIABLES)}"
            )
        return tuple(sorted(seen & set(CMS_VARIABLES)))

    def model_inputs(self, events: ak.Array, mask: ak.Array) -> dict[str, np.ndarray]:
        jets = SelectedJets(events, self.collection, mask)
        counts, values = cms_jet_columns(
            jets.columns, self.catalogue_variables, jets.selected, self.collection
        )
        variables: dict[str, Jagged | np.ndarray] = {
            name: Jagged(counts[name], column) for name, column in values.items()
        }
        variables["jet_pt_log"] = np.log(jets.field("pt", np.float64)).astype(np.float32)
        variables["jet_e_log"] = np.log(jets.energy().astype(np.float64)).astype(np.float32)
        return build_inputs(self.shipped.config, variables)


def deepak8() -> DeepAK8Tagger:
    """The shipped lite DeepAK8 (``jetml run --taggers deepak8``)."""
    return DeepAK8Tagger("deepak8")
