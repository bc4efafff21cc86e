"""The official CMS ParticleNet-AK8 taggers (V01 general and MD-2prong) on PFNano fat jets.

Model files are not shipped with jetml: take them from CMS's public model repository
(``cms-data/RecoBTag-Combined``), one folder per model holding ``model.onnx`` and
``preprocess.json``:

* ParticleNet-AK8 General V01: ``ParticleNetAK8/General/V01/preprocess.json`` and
  ``models/particlenet/1/model.onnx`` (identical to ``ParticleNetAK8/General/V01/modelfile``);
* ParticleNet-AK8 MD-2prong V01: ``ParticleNetAK8/MD-2prong/V01/preprocess.json`` and
  ``models/particlenet_AK8_MD-2prong/1/model.onnx``.

Both files are checked against the sha256 of the official release
(:data:`jetml.cms.checksums.OFFICIAL_SHA256`) before use (pass
``verify=False`` to run a retrained model of the same kind).
Inputs come from :mod:`jetml.features.cms_pfnano` with CMSSW's conventions, jets are evaluated
in length buckets (:mod:`jetml.inference.bucketing`) and the discriminants are formed from the
softmax outputs exactly as CMSSW's ``BTagProbabilityToDiscriminator`` configurations form them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import awkward as ak
import numpy as np

from jetml.cms.checksums import OFFICIAL_SHA256
from jetml.errors import ConfigError
from jetml.features import DataConfig, load_data_config
from jetml.features.cms_pfnano import cms_jet_variables, required_branches
from jetml.inference import OnnxModel
from jetml.inference.bucketing import run_bucketed
from jetml.inference.integrity import read_model_bytes
from jetml.labels import DEEPAK8_DISCRIMINANTS, QCD_CLASSES, Discriminant, vs_qcd
from jetml.taggers.base import Tagger

CMSSW_MIN_JET_PT = 150.0
"""CMSSW fills ParticleNet inputs only for jets above this pT (``min_jet_pt``); others score 0."""

PARTICLENET_BATCH_SIZE = 16
"""Jets per bucket call. ParticleNet is compute-bound: batches of 8-16 amortise the per-call cost
of its ~240 nodes, larger ones only add cache pressure (measured, ``benchmarks/``)."""


@dataclass(frozen=True)
class ParticleNetRelease:
    """An official ParticleNet-AK8 release: checksums, outputs, and the scores built from them."""

    name: str
    title: str
    model_sha256: str
    preprocess_sha256: str
    scores: dict[str, Discriminant]
    reference_scores: dict[str, str]
    """Score -> NanoAOD ``FatJet`` field where CMSSW stored the same score (where it does)."""


PARTICLENET_AK8_V01 = ParticleNetRelease(
    name="particlenet_ak8",
    title="ParticleNet-AK8 General V01",
    model_sha256=OFFICIAL_SHA256["particlenet_ak8_v01/model.onnx"],
    preprocess_sha256=OFFICIAL_SHA256["particlenet_ak8_v01/preprocess.json"],
    scores={"QCD": DEEPAK8_DISCRIMINANTS["QCD"], **DEEPAK8_DISCRIMINANTS},
    reference_scores={
        s: f"particleNet_{s}"
        for s in ("QCD", "TvsQCD", "WvsQCD", "ZvsQCD", "HbbvsQCD", "HccvsQCD", "H4qvsQCD")
    },
)

PARTICLENET_AK8_MD_V01 = ParticleNetRelease(
    name="particlenet_ak8_md",
    title="ParticleNet-AK8 MD-2prong V01",
    model_sha256=OFFICIAL_SHA256["particlenet_ak8_md_v01/model.onnx"],
    preprocess_sha256=OFFICIAL_SHA256["particlenet_ak8_md_v01/preprocess.json"],
    # the MD model's outputs H_bb/H_cc/H_qq are CMSSW's probXbb/probXcc/probXqq
    scores={
        "Xbb": Discriminant(("H_bb",)),
        "Xcc": Discriminant(("H_cc",)),
        "Xqq": Discriminant(("H_qq",)),
        "QCD": Discriminant(QCD_CLASSES),
        "XbbvsQCD": vs_qcd("H_bb"),
        "XccvsQCD": vs_qcd("H_cc"),
        "XqqvsQCD": vs_qcd("H_qq"),
    },
    reference_scores={s: f"particleNetMD_{s}" for s in ("Xbb", "Xcc", "Xqq", "QCD")},
)

RELEASES: dict[str, ParticleNetRelease] = {
    r.name: r for r in (PARTICLENET_AK8_V01, PARTICLENET_AK8_MD_V01)
}


class ParticleNetTagger(Tagger):
    """One official ParticleNet-AK8 model, evaluated on ``FatJet`` with PFNano inputs."""

    collection = "FatJet"
    uses_pf_candidates = True

    def __init__(
        self,
        release: ParticleNetRelease,
        model_dir: str | Path,
        *,
        min_pt: float = CMSSW_MIN_JET_PT,
        verify: bool = True,
        batch_size: int | None = None,
    ) -> None:
        folder = Path(model_dir)
        self.release = release
        self.name = release.name
        self.score_names = tuple(release.scores)
        self.reference_scores = dict(release.reference_scores)
        self.min_pt = float(min_pt)
        preprocess = folder / "preprocess.json"
        if verify and preprocess.is_file():
            read_model_bytes(preprocess, release.preprocess_sha256)
        self.config: DataConfig = load_data_config(preprocess)
        labels = [label.removeprefix("label_") for label in self.config.output_names]
        needed = {
            label
            for score in release.scores.values()
            for label in (*score.numerator, *score.denominator)
        }
        if missing := sorted(needed - set(labels)):
            raise ConfigError(
                f"{preprocess}: output_names lack {', '.join(missing)} needed by {release.title}"
            )
        self.labels_out = labels
        self.model = OnnxModel(
            folder / "model.onnx",
            sha256=release.model_sha256 if verify else None,
            name=release.name,
            batch_size=batch_size or PARTICLENET_BATCH_SIZE,
        )
        self.branches = (
            f"{self.collection}_pt",
            *required_branches(self.config.var_names, self.collection),
        )

    def select(self, jets: ak.Array) -> ak.Array:
        """Jets above :attr:`min_pt` (CMSSW fills no inputs below 150 GeV)."""
        return jets.pt > self.min_pt

    def probabilities(self, events: ak.Array, mask: ak.Array) -> dict[str, np.ndarray]:
        """Softmax output per class label (``"Top_bcq"``, ``"QCD_others"``...) per selected jet."""
        variables = cms_jet_variables(events, self.config.var_names, mask, self.collection)
        outputs = run_bucketed(self.model, self.config, variables)
        (probs,) = outputs.values()
        return {label: probs[:, i] for i, label in enumerate(self.labels_out)}

    def evaluate(self, events: ak.Array, mask: ak.Array) -> dict[str, np.ndarray]:
        probs = self.probabilities(events, mask)
        return {
            name: score(probs).astype(np.float32) for name, score in self.release.scores.items()
        }


MODEL_FOLDERS = {
    "particlenet_ak8": "particlenet_ak8_v01",
    "particlenet_ak8_md": "particlenet_ak8_md_v01",
}
"""Folder of each release under a models root (the layout ``jetml crosscheck --models`` reads)."""


def particlenet_taggers(
    model_root: str | Path, *, min_pt: float = CMSSW_MIN_JET_PT, verify: bool = True
) -> list[ParticleNetTagger]:
    """Both official taggers, from ``model_root/particlenet_ak8_v01`` and ``..._md_v01``."""
    root = Path(model_root)
    return [
        ParticleNetTagger(RELEASES[name], root / folder, min_pt=min_pt, verify=verify)
        for name, folder in MODEL_FOLDERS.items()
    ]


MODELS_ENV = "JETML_CMS_MODELS"
"""Environment variable naming the models root for :func:`from_environment`."""


def from_environment() -> list[ParticleNetTagger]:
    """Both taggers from the folder ``$JETML_CMS_MODELS`` (for ``jetml run --taggers``).

    Use as ``jetml run FILE --taggers jetml.taggers.particlenet:from_environment``.
    """
    root = os.environ.get(MODELS_ENV)
    if not root:
        raise ConfigError(
            f"ParticleNet taggers: set {MODELS_ENV} to the folder holding particlenet_ak8_v01/ "
            "and particlenet_ak8_md_v01/"
        )
    return particlenet_taggers(root)
