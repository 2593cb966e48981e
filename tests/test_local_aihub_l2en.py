"""local/aihub_l2en.py and its field adapter on a fixture in the AI Hub layout."""

import json
from pathlib import Path

import pytest

from localprep_utils import ROOT, lines, load, run_script, tone

en = load("aihub_l2en")


def item(spk, name, reading, heard):
    return {"fileName": f"{name}.wav", "file_info": {"speakerID": spk},
            "transcription": {"Reading": reading, "PronunciationLabel": heard}}


def make_corpus(root: Path) -> Path:
    items = {"1.Training": [item("K01", "K01_0001", "I think so.", "I <sub>sink</sub> so"),
                            item("K02", "K02_0001", "Thank you!", "Sank you"),
                            item("K03", "K03_0001", "It's very good.", "It's bery good"),
                            item("K04", "K04_0001", "Blank.", None)],
             "2.Validation": [item("K09", "K09_0001", "Five rivers", "Pibe libers")]}
    for split, rows in items.items():
        for r in rows:
            name = r["fileName"][:-4]
            label = root / split / "라벨링데이터" / "TL_01" / f"{name}.json"
            label.parent.mkdir(parents=True, exist_ok=True)
            label.write_text(json.dumps(r), encoding="utf-8")
            tone(root / split / "원천데이터" / "TS_01" / f"{name}.wav")
    return root


def test_default_adapter_is_the_repo_file():
    assert en.DEFAULT_FIELDS == ROOT / "conf" / "aihub_l2en_fields.yaml"
    f = en.load_fields(en.DEFAULT_FIELDS)
    assert (f["speaker"], f["meaning"], f["surface"], f["wav"]) == (
        "file_info.speakerID", "transcription.Reading", "transcription.PronunciationLabel", "fileName")


def test_prepare_with_strip_pattern(tmp_path, capsys):
    fields = tmp_path / "fields.yaml"
    fields.write_text(en.DEFAULT_FIELDS.read_text().replace("strip: []", "strip: ['</?sub>']"))
    corpus = make_corpus(tmp_path / "aihub")
    en.prepare(corpus, tmp_path / "data", test_spk_frac=0.34, seed=1, fields_path=fields)
    d = tmp_path / "data"
    sur = lines(d / "train" / "text.surface") + lines(d / "test" / "text.surface")
    mea = lines(d / "train" / "text.meaning") + lines(d / "test" / "text.meaning")
    assert sorted(sur) == ["K01-K01_0001 i sink so", "K02-K02_0001 sank you", "K03-K03_0001 it's bery good"]
    assert sorted(mea) == ["K01-K01_0001 i think so", "K02-K02_0001 thank you", "K03-K03_0001 it's very good"]
    assert len(lines(d / "test" / "utt2spk")) == 1
    assert lines(d / "dev" / "text.surface") == ["K09-K09_0001 pibe libers"]
    assert lines(d / "dev" / "text.meaning") == ["K09-K09_0001 five rivers"]
    assert "dropped 1 utterance(s): empty surface or meaning" in capsys.readouterr().err


def test_unknown_and_missing_fields(tmp_path):
    corpus = make_corpus(tmp_path / "aihub")
    bad = tmp_path / "bad.yaml"
    bad.write_text("speaker: file_info.speakerID\nmeaning: transcription.Reading\n"
                   "surface: transcription.PronunciationLabel\nsurfce: x\n")
    with pytest.raises(en.C.PrepError, match=r"bad\.yaml: unknown field 'surfce'"):
        en.prepare(corpus, tmp_path / "data", fields_path=bad)
    bad.write_text("speaker: file_info.speakerID\nmeaning: transcription.Reading\n"
                   "surface: transcription.Pronunciation\n")
    with pytest.raises(en.C.PrepError, match=r"K01_0001\.json: missing field 'transcription\.Pronunciation' "
                                             r"\(the 'surface' of .*bad\.yaml\)"):
        en.prepare(corpus, tmp_path / "data", fields_path=bad)


def test_cli_error_is_one_line(tmp_path):
    corpus = make_corpus(tmp_path / "aihub")
    bad = tmp_path / "bad.yaml"
    bad.write_text("speaker: file_info.speakerID\nmeaning: transcription.Reading\nsurface: nope\n")
    r = run_script("aihub_l2en", "--corpus_dir", str(corpus), "--out_dir", str(tmp_path / "d"), "--fields", str(bad))
    assert r.returncode == 1
    assert r.stderr.strip().splitlines()[-1].startswith("aihub_l2en: error: ")
    assert "K01_0001.json: missing field 'nope'" in r.stderr
    r = run_script("aihub_l2en", "--corpus_dir", str(tmp_path / "nope"))
    assert r.returncode == 1 and "error: --corpus_dir: no such directory" in r.stderr
