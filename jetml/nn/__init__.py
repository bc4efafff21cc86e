"""Training side of jetml (needs the ``train`` extra: torch).

* architectures: :mod:`~jetml.nn.deepak8` (DeepAK8), :mod:`~jetml.nn.deepak8_md` (mass-decorrelated
  DeepAK8 with its adversary), :mod:`~jetml.nn.deepjet`, :mod:`~jetml.nn.deepdoublex`,
  :mod:`~jetml.nn.deeptau` (DeepTau-like), :mod:`~jetml.nn.bregression`; rebuilt by name through
  :mod:`~jetml.nn.registry`;
* data: :mod:`~jetml.nn.fatjet_data` (DeepAK8 inputs from PFNano), :mod:`~jetml.nn.bjet_data`
  (b-regression inputs and target), :mod:`~jetml.nn.data` (in-memory datasets),
  :mod:`~jetml.nn.preprocessing` (weaver ``auto`` standardisation into a data config);
* :mod:`~jetml.nn.training`: the CPU training loop; :mod:`~jetml.nn.metrics`: held-out figures;
  :mod:`~jetml.nn.pipeline`: file-to-model-folder training runs;
* :mod:`~jetml.nn.export`: ONNX export and torch-vs-onnxruntime parity;
  :mod:`~jetml.nn.package`: the model folder (ONNX, preprocess.json, weights, card);
  :mod:`~jetml.nn.validation`: parity plots.

Nothing outside this package and the ``train``/``validate`` commands imports torch.
"""
