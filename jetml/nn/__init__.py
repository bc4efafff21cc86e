"""Training side of jetml (needs the ``train`` extra: torch).

* architectures: :mod:`~jetml.nn.deepak8` (DeepAK8), :mod:`~jetml.nn.deepak8_md` (mass-decorrelated
  DeepAK8 with its adversary), :mod:`~jetml.nn.deepjet`, :mod:`~jetml.nn.deepdoublex`,
  :mod:`~jetml.nn.deeptau` (DeepTau-like), :mod:`~jetml.nn.bregression`;
* :mod:`~jetml.nn.preprocessing`: weaver ``auto`` standardisation into a data config;
* :mod:`~jetml.nn.training`: the CPU training loop; :mod:`~jetml.nn.metrics`: held-out figures;
* :mod:`~jetml.nn.export`: ONNX export and torch-vs-onnxruntime parity;
  :mod:`~jetml.nn.package`: the model folder (ONNX, preprocess.json, weights, card).

Nothing outside this package and the ``train``/``validate`` commands imports torch.
"""
