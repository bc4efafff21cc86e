"""Resonance truth of AK8 jets (FatJet_label groups), with the hadron-flavour fallback."""

from __future__ import annotations

import awkward as ak
import pytest

from jetml.errors import InputFileError
from jetml.samples.labels import FatJetLabel
from jetml.taggers.deepak8 import deepak8
from jetml.taggers.truth import RESONANCE_LABELS, resonance_labels


def test_every_deepak8_class_maps_to_its_resonance() -> None:
    codes = [[int(c) for c in FatJetLabel], []]
    jets = ak.zip({"pt": [[400.0] * len(FatJetLabel), []], "label": codes})
    groups = resonance_labels(jets).tolist()
    assert groups[1] == []
    expected = dict.fromkeys(("Top_bcq", "Top_bqq", "Top_bc", "Top_bq"), "top")
    expected |= {"W_cq": "W", "W_qq": "W", "Z_bb": "Z", "Z_cc": "Z", "Z_qq": "Z"}
    expected |= {"H_bb": "Hbb", "H_cc": "Hcc", "H_qqqq": "H4q"}
    expected |= dict.fromkeys(("QCD_bb", "QCD_cc", "QCD_b", "QCD_c", "QCD_others"), "QCD")
    assert groups[0] == [expected[c.name] for c in FatJetLabel]
    assert set(groups[0]) == set(RESONANCE_LABELS)


def test_tagger_falls_back_to_hadron_flavour_without_label() -> None:
    tagger = deepak8()
    jets = ak.zip({"pt": [[400.0, 500.0], [350.0]], "hadronFlavour": [[5, 0], [4]]})
    assert tagger.truth_labels(jets).tolist() == [["b", "light"], ["c"]]
    labelled = ak.zip({"pt": [[400.0]], "hadronFlavour": [[5]], "label": [[1]]})
    assert tagger.truth_labels(labelled).tolist() == [["top"]]
    assert set(RESONANCE_LABELS) | {"b", "c", "light", "unlabelled"} == set(tagger.labels)
    assert "FatJet_label" not in tagger.branches  # optional: real CMS files lack it


def test_label_outside_the_classes_is_refused() -> None:
    jets = ak.zip({"pt": [[400.0]], "label": [[17]]})
    with pytest.raises(InputFileError, match=r"FatJet_label: values 17\.\.17 outside"):
        resonance_labels(jets)
