"""``jetml bench`` runs end to end on the real models (tiny sizes; no timing assertions)."""

from __future__ import annotations

from jetml.cli import main

TAGGERS = (
    "DeepAK8",
    "DeepAK8-MD",
    "DeepJet",
    "DeepDoubleBvL",
    "DeepDoubleCvB",
    "DeepDoubleCvL",
    "ParticleNet-AK8",
)


def test_bench_prints_every_table(cms_models, cms_nano, tmp_path, capsys):
    output = tmp_path / "bench.md"
    code = main(
        [
            "bench",
            "--models",
            str(cms_models),
            "--file",
            str(cms_nano / "pfnano.root"),
            "--jets",
            "6",
            "--repeats",
            "1",
            "--output",
            str(output),
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0
    assert output.read_text().strip() == printed.strip()
    rows = [line for line in printed.splitlines() if line.startswith("| ")]
    for tagger in TAGGERS:
        row = next(r for r in rows if r.startswith(f"| {tagger} |"))
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert float(cells[1]) > 0 and float(cells[2]) > 0 and cells[3].endswith("x")
    assert "| length buckets (jetml) |" in printed
    assert printed.count("| repaired |") == 4 and printed.count("| as shipped |") == 4


def test_bench_rejects_bad_sizes(cms_models, cms_nano, capsys):
    code = main(
        [
            "bench",
            "--models",
            str(cms_models),
            "--file",
            str(cms_nano / "pfnano.root"),
            "--jets",
            "0",
        ]
    )
    assert code == 2 and "--jets" in capsys.readouterr().err
