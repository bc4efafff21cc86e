"""sha256 of the official CMS files (cms-data/RecoBTag-Combined) jetml runs or times.

Keys are paths under a CMS models folder (the layout ``jetml bench --models`` and ``jetml
crosscheck --models`` read); a file that differs is refused before use.
"""

from __future__ import annotations

from pathlib import Path

from jetml.errors import ModelIntegrityError
from jetml.inference.integrity import file_sha256

OFFICIAL_SHA256: dict[str, str] = {
    "deepak8_v02/full.onnx": "444e90237f2755e9c22e5011449cf6451f568d1efe49a03032cf8d3d0af18f8c",
    "deepak8_v02/decorrelated.onnx": (
        "caf32fec651a8886c0ac7c7b52c74bf480cce31374b061a555fffe6ee6e05635"
    ),
    "deepdoublex_v02/BvL.onnx": "75534f02fcbc72e52a9802e1dee6685ca5f934ab45df1e1b56df41de9c2b91d5",
    "deepdoublex_v02/CvB.onnx": "a88268741e14eef51efa5afc3bf846e33f8a9641afff1d218cb0e2d57d5236a8",
    "deepdoublex_v02/CvL.onnx": "651db27ba39aeee00f9124ccdbb584a5baa6d44bca071dd0e1f81382e2f37d69",
    "deepjet_v03/model.onnx": "676b5a6185ef014a1bb1a1184b41c439dac26035e291723683181c306fe5f0a7",
    "particlenet_ak8_v01/model.onnx": (
        "89701adb94cbda15f1784666740e0bcd7897dd41135ae45af8fe73d6fd9ed73b"
    ),
    "particlenet_ak8_v01/preprocess.json": (
        "a407938719b865182d5e23409aa1cbed5f1f4e92d29d3579b93aa5a5a045217f"
    ),
    "particlenet_ak8_md_v01/model.onnx": (
        "d19f6d472d028ffa9e5667502bdb193d193c70f9792eb5689e3e85199faabb47"
    ),
    "particlenet_ak8_md_v01/preprocess.json": (
        "d07f1a693ec29915c50dcefbe95e943679c6f884dc69883faa39492a1a1ad3cf"
    ),
}
"""Official file (relative to a CMS models folder) -> sha256."""


def verify_official(models_dir: Path) -> None:
    """ModelIntegrityError naming the first official file under ``models_dir`` whose sha256
    differs from :data:`OFFICIAL_SHA256` (files not present are left to the code that needs
    them)."""
    for name, expected in OFFICIAL_SHA256.items():
        path = models_dir / name
        if not path.is_file():
            continue
        actual = file_sha256(path)
        if actual != expected:
            raise ModelIntegrityError(
                f"{path}: sha256 mismatch (expected {expected}, file has {actual}); not the "
                f"official {name}"
            )
