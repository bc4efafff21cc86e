"""The generated files follow the PFNano conventions of the real CMS file, atomically written."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import awkward as ak
import numpy as np
import pytest
import uproot

from jetml.cli import main
from jetml.errors import ConfigError, OutputFileError
from jetml.samples import PRESETS, GenerationRequest, get, produce
from jetml.samples import production as production_module

# (link branch, counter of the collection it indexes)
CROSS_REFERENCES = [
    ("JetPFCands_pFCandsIdx", "nPFCands"),
    ("JetPFCands_jetIdx", "nJet"),
    ("FatJetPFCands_pFCandsIdx", "nPFCands"),
    ("FatJetPFCands_jetIdx", "nFatJet"),
    ("JetSVs_sVIdx", "nSV"),
    ("JetSVs_jetIdx", "nJet"),
    ("FatJetSVs_sVIdx", "nSV"),
    ("FatJetSVs_jetIdx", "nFatJet"),
    ("FatJet_subJetIdx1", "nSubJet"),
    ("FatJet_subJetIdx2", "nSubJet"),
    ("Jet_genJetIdx", "nGenJet"),
    ("FatJet_genJetAK8Idx", "nGenJetAK8"),
    ("GenPart_genPartIdxMother", "nGenPart"),
    ("Muon_genPartIdx", "nGenPart"),
    ("Muon_jetIdx", "nJet"),
    ("Electron_genPartIdx", "nGenPart"),
    ("Electron_jetIdx", "nJet"),
    ("Tau_jetIdx", "nJet"),
    ("GenVisTau_genPartIdxMother", "nGenPart"),
]
# Links that may be -1 (nothing to point to).
OPTIONAL_LINKS = ("FatJet_", "Jet_gen", "GenPart_", "Muon_", "Electron_")


@pytest.mark.parametrize("sample", ["ttbar_had", "dy_mutauh", "ttbar_semilep_pu"])
def test_every_cross_reference_is_in_range(sample_file, sample):
    tree = uproot.open(sample_file(sample))["Events"]
    for link, counter in CROSS_REFERENCES:
        index = tree[link].array()
        size = tree[counter].array()
        assert ak.all(index < size), link
        assert ak.all(index >= (-1 if link.startswith(OPTIONAL_LINKS) else 0)), link
        grouped = ("JetPFCands_jetIdx", "FatJetPFCands_jetIdx", "JetSVs_jetIdx", "FatJetSVs_jetIdx")
        if link in grouped:
            # Grouped by jet: indices never decrease inside an event.
            assert ak.all(index[:, 1:] >= index[:, :-1]), link


def test_nconstituents_matches_the_candidate_links(sample_file):
    tree = uproot.open(sample_file("ttbar_had"))["Events"]
    for jets, links in (("Jet", "JetPFCands"), ("FatJet", "FatJetPFCands")):
        n_constituents = ak.flatten(tree[f"{jets}_nConstituents"].array())
        per_jet = ak.flatten(ak.run_lengths(tree[f"{links}_jetIdx"].array()))
        np.testing.assert_array_equal(ak.to_numpy(n_constituents), ak.to_numpy(per_jet))


def test_branch_types_match_real_pfnano(sample_file, cms_nano):
    ours = uproot.open(sample_file("ttbar_had"))["Events"]
    real = uproot.open(cms_nano / "pfnano.root")["Events"]
    common = [name for name in ours.keys() if name in real.keys() and not name.startswith("n")]
    assert len(common) > 120
    for name in common:
        assert ours[name].interpretation == real[name].interpretation, name
    collections = {"PFCands", "JetPFCands", "FatJetPFCands", "SV", "JetSVs", "FatJetSVs"}
    for collection in collections:
        real_fields = {k for k in real.keys() if k.startswith(f"{collection}_")}
        missing = real_fields - set(ours.keys())
        assert not missing, missing


def test_runs_tree_and_metadata(sample_file):
    root_file = uproot.open(sample_file("zh_bb"))
    runs = root_file["Runs"].arrays(library="np")
    assert runs["genEventCount"].tolist() == [150]
    assert runs["genEventSumw"].tolist() == [150.0]
    assert 0 < runs["sigmaGenErr"][0] < runs["sigmaGen"][0] < 1.0  # pb: ZH(bb, nunu) at high pT
    metadata = json.loads(str(root_file["jetml_generation"]))
    assert metadata["request"] == {
        "preset": "zh_bb",
        "events": 150,
        "seed": 14,
        "mpi": False,
        "pthat_min": None,
        "chunk_events": 200,
        "pileup": 0.0,
        "minbias_events": 150,
    }
    assert metadata["pileup_mu"] == 0.0
    events = root_file["Events"].arrays(["run", "luminosityBlock", "event"], library="np")
    np.testing.assert_array_equal(events["event"], np.arange(1, 151))
    assert set(events["run"].tolist()) == {1}


def test_same_arguments_same_content_whatever_the_jobs(
    tmp_path: Path, sample_cache: Path, tiny_library_events: int
):
    # Two chunks, with premixed pileup from a tiny min-bias library (its own seed stream).
    request = GenerationRequest(
        "ww", 30, 7, mpi=False, chunk_events=20, pileup=20.0, minbias_events=tiny_library_events
    )
    one = produce(request, tmp_path / "one.root", jobs=1)
    two = produce(request, tmp_path / "two.root", jobs=2)
    other = produce(replace(request, seed=8), tmp_path / "other.root")
    first = uproot.open(one)["Events"].arrays()
    second = uproot.open(two)["Events"].arrays()
    assert first.fields == second.fields
    for field in first.fields:
        assert ak.array_equal(first[field], second[field]), field
    assert ak.sum(first["Pileup_nPU"]) > 0
    third = uproot.open(other)["Events"].arrays(["FatJet_pt", "Pileup_nPU"])
    assert not ak.array_equal(first["FatJet_pt"], third["FatJet_pt"])
    assert not ak.array_equal(first["Pileup_nPU"], third["Pileup_nPU"])


def test_interrupted_run_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    calls = {"n": 0}
    real_build = production_module.build_batch

    def failing_build(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 1:
            raise KeyboardInterrupt
        return real_build(*args, **kwargs)

    monkeypatch.setattr(production_module, "build_batch", failing_build)
    output = tmp_path / "partial.root"
    with pytest.raises(KeyboardInterrupt):
        produce(GenerationRequest("ww", 120, 1, mpi=False, pileup=0.0), output)
    assert list(tmp_path.iterdir()) == []


def test_get_reuses_the_cached_file(sample_file, sample_cache: Path):
    path = sample_file("zh_bb")
    assert path.parent == sample_cache
    stamp = path.stat().st_mtime_ns
    assert get("zh_bb", 150, 14, mpi=False, pileup=0.0) == path
    assert path.stat().st_mtime_ns == stamp


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["nosuch", "--events", "5", "--seed", "1"], "valid presets: dy_ee, dy_mumu"),
        (["ww", "--events", "0", "--seed", "1"], "--events must be a positive"),
        (["ww", "--events", "-3", "--seed", "1"], "--events must be a positive"),
        (["ww", "--events", "5", "--seed", "-1"], "--seed must be >= 0"),
        (["ww", "--events", "5", "--seed", "1", "--jobs", "0"], "--jobs must be >= 1"),
        (["ww", "--events", "5", "--seed", "1", "--pthat-min", "-5"], "--pthat-min"),
        (["ww", "--events", "5", "--seed", "1", "--pileup", "-1"], "--pileup must be between"),
        (["ww", "--events", "5", "--seed", "1", "--pileup", "500"], "--pileup must be between"),
    ],
)
def test_generate_rejects_bad_arguments(tmp_path, capsys, arguments, message):
    output = tmp_path / "out.root"
    assert main(["generate", *arguments, "--out", str(output)]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("jetml generate: error:")
    assert message in error
    assert len(error.splitlines()) == 1
    if "valid presets" in message:
        assert all(name in error for name in PRESETS)
    assert not output.exists()


def test_generate_refuses_existing_and_unwritable_outputs(tmp_path, capsys):
    existing = tmp_path / "exists.root"
    existing.write_bytes(b"keep me")
    assert main(["generate", "ww", "-n", "5", "--seed", "1", "--out", str(existing)]) == 2
    assert "output exists" in capsys.readouterr().err
    assert existing.read_bytes() == b"keep me"
    missing_folder = tmp_path / "no" / "such" / "dir" / "x.root"
    assert main(["generate", "ww", "-n", "5", "--seed", "1", "--out", str(missing_folder)]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_generate_refuses_an_unwritable_folder(tmp_path, capsys):
    # root may write into any mode-0500 folder, but nobody may create files in /proc
    as_root = os.geteuid() == 0
    locked = Path("/proc") if as_root else tmp_path / "locked"
    if not as_root:
        locked.mkdir()
        locked.chmod(0o500)
    try:
        code = main(["generate", "ww", "-n", "5", "--seed", "1", "--out", str(locked / "x.root")])
    finally:
        if not as_root:
            locked.chmod(0o700)
    assert code == 2
    assert "not writable" in capsys.readouterr().err
    assert not (locked / "x.root").exists()


def test_generate_cli_writes_a_readable_file(tmp_path, capsys):
    output = tmp_path / "cli.root"
    code = main(
        [
            "generate",
            "zh_bb",
            "-n",
            "20",
            "--seed",
            "3",
            "--no-mpi",
            "--pileup",
            "0",
            "-o",
            str(output),
        ]
    )
    assert code == 0
    assert capsys.readouterr().out.strip() == str(output)
    from jetml.nanoaod import load_events

    events = load_events(output)
    assert len(events) == 20
    assert ak.all(events.FatJet.pt > 170)


def test_request_validation_errors():
    with pytest.raises(ConfigError, match="unknown preset"):
        GenerationRequest("higgs", 10, 1).validate()
    with pytest.raises(OutputFileError, match="is a directory"):
        from jetml.samples.writer import check_output_path

        check_output_path(Path("."), overwrite=True)
