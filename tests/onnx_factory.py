"""Tiny ONNX models built in-test with onnx.helper (fast, deterministic, seeded weights)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def _save(model: onnx.ModelProto, path: Path) -> Path:
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def dense_model(path: Path, n_in: int = 4, n_out: int = 3, seed: int = 0) -> Path:
    """``prob = softmax(x @ W + b)`` with x float32 (N, n_in) → prob (N, n_out)."""
    rng = np.random.default_rng(seed)
    weight = numpy_helper.from_array(rng.normal(size=(n_in, n_out)).astype(np.float32), "W")
    bias = numpy_helper.from_array(rng.normal(size=(n_out,)).astype(np.float32), "b")
    nodes = [
        helper.make_node("MatMul", ["x", "W"], ["xw"]),
        helper.make_node("Add", ["xw", "b"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["prob"], axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "dense",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", n_in])],
        [helper.make_tensor_value_info("prob", TensorProto.FLOAT, ["N", n_out])],
        initializer=[weight, bias],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return _save(model, path)


def masked_sum_model(path: Path, n_vars: int = 3, length: int = 5) -> Path:
    """``total = sum_L(features * mask)`` with features (N, n_vars, L), mask (N, 1, L)."""
    nodes = [
        helper.make_node("Mul", ["features", "mask"], ["masked"]),
        helper.make_node("ReduceSum", ["masked", "axes"], ["total"], keepdims=0),
    ]
    axes = numpy_helper.from_array(np.array([2], dtype=np.int64), "axes")
    graph = helper.make_graph(
        nodes,
        "masked_sum",
        [
            helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", n_vars, length]),
            helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["N", 1, length]),
        ],
        [helper.make_tensor_value_info("total", TensorProto.FLOAT, ["N", n_vars])],
        initializer=[axes],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return _save(model, path)
