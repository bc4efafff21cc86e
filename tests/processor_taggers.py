"""Small ONNX taggers for the processor tests (jetml ships no trained models yet).

Three taggers, each a real ONNX model run through :class:`jetml.inference.OnnxModel`:

* ``pf_toy`` (FatJet, PF-based): a weaver data config (pT-sorted PF candidates, ``new_variables``,
  constant padding to 20) feeds a masked-sum + dense + softmax network with two outputs;
* ``jet_toy`` (FatJet): a dense softmax network on jet-level variables, no PF candidates;
* ``breg_toy`` (Jet): a regression network giving (correction, q25, q75) near 1.

Factories read the model folder from the ``JETML_TEST_MODELS`` environment variable (set by the
``toy_models`` fixture) and write the models there on first use. Worker processes only unpickle
the taggers, whose models pickle as path + sha256.
"""

from __future__ import annotations

import os
from pathlib import Path

import awkward as ak
import numpy as np
import onnx
import yaml
from onnx import TensorProto, helper, numpy_helper

from jetml.features import build_inputs, load_data_config, sort_candidates
from jetml.inference import OnnxModel
from jetml.taggers.base import Tagger

MODELS_ENV = "JETML_TEST_MODELS"
PF_LENGTH = 20


def models_dir() -> Path:
    """Folder of the toy models (created with every model on first call)."""
    folder = Path(os.environ[MODELS_ENV])
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "breg_toy.onnx").is_file():
        _write_pf_model(folder / "pf_toy.onnx")
        _write_pf_config(folder / "pf_toy.yaml")
        _write_dense(folder / "jet_toy.onnx", n_in=3, n_out=2, seed=1, softmax=True)
        _write_dense(folder / "breg_toy.onnx", n_in=3, n_out=3, seed=2, softmax=False)
    return folder


def _onnx_model(graph: onnx.GraphProto, path: Path) -> None:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def _write_pf_model(path: Path) -> None:
    """softmax(sum_L(pf_features * pf_mask) @ W + b): (N, 3, L), (N, 1, L) → (N, 2)."""
    rng = np.random.default_rng(0)
    initializers = [
        numpy_helper.from_array(np.array([2], dtype=np.int64), "axes"),
        numpy_helper.from_array(rng.normal(scale=0.3, size=(3, 2)).astype(np.float32), "W"),
        numpy_helper.from_array(np.array([0.1, -0.1], dtype=np.float32), "b"),
    ]
    nodes = [
        helper.make_node("Mul", ["pf_features", "pf_mask"], ["masked"]),
        helper.make_node("ReduceSum", ["masked", "axes"], ["summed"], keepdims=0),
        helper.make_node("MatMul", ["summed", "W"], ["xw"]),
        helper.make_node("Add", ["xw", "b"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["softmax"], axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "pf_toy",
        [
            helper.make_tensor_value_info("pf_features", TensorProto.FLOAT, ["N", 3, PF_LENGTH]),
            helper.make_tensor_value_info("pf_mask", TensorProto.FLOAT, ["N", 1, PF_LENGTH]),
        ],
        [helper.make_tensor_value_info("softmax", TensorProto.FLOAT, ["N", 2])],
        initializer=initializers,
    )
    _onnx_model(graph, path)


def _write_pf_config(path: Path) -> None:
    """A weaver YAML data config for ``pf_toy``."""
    config = {
        "new_variables": {
            "pfcand_pt_log": "np.log(pfcand_pt)",
            "pfcand_mask": "ak.ones_like(pfcand_pt)",
        },
        "inputs": {
            "pf_features": {
                "length": PF_LENGTH,
                "pad_mode": "constant",
                "vars": [
                    ["pfcand_pt_log", 1.0, 0.5, -5.0, 5.0, 0.0],
                    ["pfcand_etarel", 0.0, 2.0, -5.0, 5.0, 0.0],
                    ["pfcand_phirel", 0.0, 2.0, -5.0, 5.0, 0.0],
                ],
            },
            "pf_mask": {"length": PF_LENGTH, "pad_mode": "constant", "vars": [["pfcand_mask"]]},
        },
        "labels": {"type": "simple", "value": ["label_A", "label_B"]},
    }
    path.write_text(yaml.safe_dump(config))


def _write_dense(path: Path, *, n_in: int, n_out: int, seed: int, softmax: bool) -> None:
    """softmax(x @ W + b), or 1 + 0.1 * tanh(x @ W) + b for the regression."""
    rng = np.random.default_rng(seed)
    weight = rng.normal(scale=0.5, size=(n_in, n_out)).astype(np.float32)
    if softmax:
        bias = np.zeros(n_out, dtype=np.float32)
        nodes = [
            helper.make_node("MatMul", ["x", "W"], ["xw"]),
            helper.make_node("Add", ["xw", "b"], ["logits"]),
            helper.make_node("Softmax", ["logits"], ["y"], axis=1),
        ]
        extra = []
    else:
        bias = np.array([1.0, 0.9, 1.1], dtype=np.float32)
        nodes = [
            helper.make_node("MatMul", ["x", "W"], ["xw"]),
            helper.make_node("Tanh", ["xw"], ["t"]),
            helper.make_node("Mul", ["t", "scale"], ["st"]),
            helper.make_node("Add", ["st", "b"], ["y"]),
        ]
        extra = [numpy_helper.from_array(np.array(0.1, dtype=np.float32), "scale")]
    graph = helper.make_graph(
        nodes,
        path.stem,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", n_in])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", n_out])],
        initializer=[
            numpy_helper.from_array(weight, "W"),
            numpy_helper.from_array(bias, "b"),
            *extra,
        ],
    )
    _onnx_model(graph, path)


def fatjet_pf_candidates(events: ak.Array) -> ak.Array:
    """PF candidates of each FatJet (events x jets x candidates), grouped by ``jetIdx``."""
    links = events.FatJetPFCands
    order = ak.argsort(links.jetIdx, axis=1, stable=True)
    links = links[order]
    candidates = events.PFCands[links.pFCandsIdx]
    n_jets = ak.to_numpy(ak.num(events.FatJet, axis=1))
    offsets = np.repeat(np.cumsum(n_jets) - n_jets, ak.to_numpy(ak.num(links, axis=1)))
    owner = ak.to_numpy(ak.flatten(links.jetIdx)) + offsets
    per_jet = np.bincount(owner, minlength=int(n_jets.sum()))
    flat = ak.unflatten(ak.flatten(candidates), per_jet)
    return ak.unflatten(flat, n_jets)


class PFToyTagger(Tagger):
    """Two-class toy tagger on the pT-sorted PF candidates of AK8 jets."""

    name = "pf_toy"
    collection = "FatJet"
    score_names = ("probA", "probB")
    branches = (
        "FatJet_pt",
        "FatJet_eta",
        "FatJet_phi",
        "PFCands_pt",
        "PFCands_eta",
        "PFCands_phi",
        "FatJetPFCands_jetIdx",
        "FatJetPFCands_pFCandsIdx",
    )
    uses_pf_candidates = True
    reference_scores = {"probA": "particleNet_TvsQCD"}  # noqa: RUF012

    def __init__(self) -> None:
        folder = models_dir()
        self.model = OnnxModel(folder / "pf_toy.onnx", name="pf_toy")
        self.config = load_data_config(folder / "pf_toy.yaml")

    def evaluate(self, events: ak.Array, mask: ak.Array) -> dict[str, np.ndarray]:
        jets = events.FatJet[mask]
        candidates = sort_candidates(fatjet_pf_candidates(events)[mask], "pt")
        variables = {
            "pfcand_pt": ak.flatten(candidates.pt, axis=1),
            "pfcand_etarel": ak.flatten(candidates.eta - jets.eta, axis=1),
            "pfcand_phirel": ak.flatten(candidates.delta_phi(jets), axis=1),
        }
        outputs = self.model.run(build_inputs(self.config, variables))
        return {"probA": outputs["softmax"][:, 0], "probB": outputs["softmax"][:, 1]}


def _jet_matrix(columns: list[ak.Array]) -> np.ndarray:
    return np.stack([ak.to_numpy(ak.flatten(c)).astype(np.float32) for c in columns], axis=1)


class JetToyTagger(Tagger):
    """Two-class toy tagger on jet-level variables of AK8 jets above 200 GeV."""

    name = "jet_toy"
    collection = "FatJet"
    score_names = ("score",)
    branches = ("FatJet_pt", "FatJet_eta", "FatJet_msoftdrop")

    def __init__(self) -> None:
        self.model = OnnxModel(models_dir() / "jet_toy.onnx", name="jet_toy")

    def select(self, jets: ak.Array) -> ak.Array:
        return jets.pt > 200.0

    def evaluate(self, events: ak.Array, mask: ak.Array) -> dict[str, np.ndarray]:
        jets = events.FatJet[mask]
        x = _jet_matrix([np.log(jets.pt), jets.eta, jets.msoftdrop / jets.pt])
        return {"score": self.model.run({"x": x})["y"][:, 1]}


class BRegToyTagger(Tagger):
    """Toy b-jet energy regression on AK4 jets above 20 GeV: (correction, q25, q75)."""

    name = "breg_toy"
    collection = "Jet"
    score_names = ("correction", "q25", "q75")
    branches = ("Jet_pt", "Jet_eta", "Jet_mass")
    pt_correction = "correction"

    def __init__(self) -> None:
        self.model = OnnxModel(models_dir() / "breg_toy.onnx", name="breg_toy")

    def select(self, jets: ak.Array) -> ak.Array:
        return jets.pt > 20.0

    def evaluate(self, events: ak.Array, mask: ak.Array) -> dict[str, np.ndarray]:
        jets = events.Jet[mask]
        x = _jet_matrix([np.log(jets.pt), jets.eta, jets.mass / jets.pt])
        y = self.model.run({"x": x})["y"]
        return {"correction": y[:, 0], "q25": y[:, 1], "q75": y[:, 2]}


def all_taggers() -> list[Tagger]:
    """Every toy tagger (the ``--taggers processor_taggers:all_taggers`` factory)."""
    return [PFToyTagger(), JetToyTagger(), BRegToyTagger()]
