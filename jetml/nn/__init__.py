"""Training side of jetml (needs the ``train`` extra: torch).

* architectures: :mod:`~jetml.nn.deepak8` (DeepAK8), :mod:`~jetml.nn.deepak8_md` (mass-decorrelated
  DeepAK8 with its adversary), :mod:`~jetml.nn.deepjet`, :mod:`~jetml.nn.deepdoublex`,
  :mod:`~jetml.nn.deeptau` (DeepTau-like), :mod:`~jetml.nn.breg` (b-regression); rebuilt by
  name through :mod:`~jetml.nn.registry`;
* data: ``jetml.nn.<tagger>_data`` (:mod:`~jetml.nn.deepak8_data`, :mod:`~jetml.nn.deepjet_data`,
  :mod:`~jetml.nn.deepdoublex_data`, :mod:`~jetml.nn.breg_data`, :mod:`~jetml.nn.deeptau_data`):
  the selected, labelled objects of training files, with the inputs of the torch-free recipe
  ``jetml.features.<tagger>`` the taggers deploy; :mod:`~jetml.nn.data` (in-memory datasets),
  :mod:`~jetml.nn.preprocessing` (weaver ``auto`` standardisation into a data config); class
  lists and discriminants come from :mod:`jetml.labels`;
* :mod:`~jetml.nn.training`: the CPU training loop (one epoch loop, also for the adversarial fit);
  :mod:`~jetml.nn.metrics`, :mod:`~jetml.nn.deeptau_metrics`: held-out figures;
  :mod:`~jetml.nn.recipes`: one training recipe per tagger (the registry ``jetml train`` uses),
  run by :func:`jetml.nn.pipeline.train`, the one file-to-model-folder skeleton;
* :mod:`~jetml.nn.export`: ONNX export and torch-vs-onnxruntime parity;
  :mod:`~jetml.nn.package`: the model folder (ONNX, preprocess.json, weights, and the card,
  :class:`jetml.inference.card.ModelCard`);
  :mod:`~jetml.nn.validation`: parity plots.

Nothing outside this package and the ``train``/``validate`` commands imports torch.
"""
