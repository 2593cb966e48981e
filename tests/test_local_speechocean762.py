"""local/speechocean762.py on a fixture in the corpus layout and on the real 320-utterance subset."""

import json
from pathlib import Path

import pytest

from dualasr.data.validate import validate_data_dir
from localprep_utils import lines, load, run_script, tone

so = load("speechocean762")
# the real 320-utterance subset: ../shared beside the repo (as in CI), else the team's /work/shared
MINI = next((p for p in (Path(__file__).resolve().parents[2] / "shared" / "data" / "speechocean762-mini",
                         Path("/work/shared/data/speechocean762-mini")) if p.is_dir()),
            Path("/work/shared/data/speechocean762-mini"))


def make_corpus(root: Path, scores: bool) -> Path:
    """Two train utterances (speaker 0001), one test utterance (speaker 0002), tab-separated lists."""
    lists = {"train": [("000010011", "0001", "WE CALL IT BEAR"), ("000010012", "0001", "IT'S THE BATH")],
             "test": [("000020001", "0002", "THE BATH")]}
    for split, items in lists.items():
        (root / split).mkdir(parents=True)
        (root / split / "wav.scp").write_text("".join(f"{u}\tWAVE/SPEAKER{s}/{u}.WAV\n" for u, s, _ in items))
        (root / split / "text").write_text("".join(f"{u}\t{t}\n" for u, _, t in items))
        (root / split / "utt2spk").write_text("".join(f"{u}\t{s}\n" for u, s, _ in items))
        for u, s, _ in items:
            tone(root / "WAVE" / f"SPEAKER{s}" / f"{u}.WAV")
    (root / "resource").mkdir()
    (root / "resource" / "text-phone").write_text(
        "000010011.0\tW_B IY0_E\n000010011.1\tK_B AO0_I L_E\n000010011.2\tIH0_B T_E\n"
        "000010011.3\tB_B EH0_I R_E\n"
        "000010012.1\tDH_B AH0_E\n000010012.0\tIH0_B T_I S_E\n000010012.2\tB_B AE0_I TH_E\n"
        "000020001.0\tDH_B AH0_E\n000020001.1\tB_B AE0_I TH_E\n")
    if scores:
        def word(text, phones, mis=()):
            return {"text": text, "accuracy": 5, "stress": 10, "total": 5, "phones": phones,
                    "phones-accuracy": [2.0] * len(phones),
                    "mispronunciations": [{"canonical-phone": c, "index": i, "pronounced-phone": p}
                                          for c, i, p in mis]}
        data = {
            "000010011": {"text": "WE CALL IT BEAR", "words": [
                word("WE", ["W", "IY0"]),
                word("CALL", ["K", "AO0", "L"], [("AO", 1, "AA")]),          # substitution
                word("IT", ["IH0", "T"], [("T", 1, "<DEL>")]),               # deletion
                word("BEAR", ["B", "EH0", "R"], [("R", 2, "<unk>")])]},      # unknown -> canonical
            "000010012": {"text": "IT'S THE BATH", "words": [
                word("IT'S", ["IH0", "T", "S"]),
                word("THE", ["DH", "AH0"], [("DH", 0, "D")]),
                word("BATH", ["B", "AE0", "TH"], [("TH", 2, "S*")])]},       # distorted S -> S
            "000020001": {"text": "THE BATH", "words": [
                word("THE", "DH AH0"), word("BATH", ["B", "AE0", "TH"], [("TH", 2, "<DEL>")])]},
        }
        (root / "resource" / "scores.json").write_text(json.dumps(data))
    return root


def test_scores_json_applies_mispronunciations(tmp_path, capsys):
    corpus = make_corpus(tmp_path / "so", scores=True)
    so.prepare(corpus, tmp_path / "data")
    d = tmp_path / "data"
    assert lines(d / "train" / "text.surface") == [
        "0001-000010011 W IY K AA L IH B EH R",
        "0001-000010012 IH T S D AH B AE S"]
    assert lines(d / "train" / "text.meaning") == [
        "0001-000010011 we call it bear", "0001-000010012 it's the bath"]
    assert lines(d / "test" / "text.surface") == ["0002-000020001 DH AH B AE"]
    assert lines(d / "test" / "utt2spk") == ["0002-000020001 0002"]
    assert lines(d / "train" / "spk2utt") == ["0001 0001-000010011 0001-000010012"]
    assert lines(d / "test" / "wav.scp") == [
        f"0002-000020001 {(corpus / 'WAVE/SPEAKER0002/000020001.WAV').resolve()}"]
    assert not (d / "dev").exists()
    err = capsys.readouterr().err
    assert "mispronunciations applied" in err and "<unk> phones written as the canonical phone: 1" in err


def test_without_scores_uses_text_phone(tmp_path, capsys):
    corpus = make_corpus(tmp_path / "so", scores=False)
    so.prepare(corpus, tmp_path / "data")
    assert lines(tmp_path / "data" / "train" / "text.surface") == [
        "0001-000010011 W IY K AO L IH T B EH R",
        "0001-000010012 IH T S DH AH B AE TH"]
    assert "canonical phones from" in capsys.readouterr().err


def test_bad_input_names_the_file(tmp_path):
    corpus = make_corpus(tmp_path / "so", scores=True)
    (corpus / "WAVE" / "SPEAKER0002" / "000020001.WAV").write_bytes(b"not audio")
    with pytest.raises(so.C.PrepError, match=r"000020001\.WAV: unreadable audio"):
        so.prepare(corpus, tmp_path / "data")
    (corpus / "WAVE" / "SPEAKER0002" / "000020001.WAV").unlink()
    with pytest.raises(so.C.PrepError, match=r"000020001\.WAV: audio file missing"):
        so.prepare(corpus, tmp_path / "data")
    (corpus / "resource" / "scores.json").write_text('{"000010011": {"words": [{"text": "WE", '
        '"phones": ["W", "IY0"], "mispronunciations": [{"canonical-phone": "K", "index": 0, '
        '"pronounced-phone": "D"}]}]}}')
    with pytest.raises(so.C.PrepError, match=r"scores\.json: utterance 000010011: word 'WE'"):
        so.prepare(corpus, tmp_path / "data")


def test_cli_missing_corpus_dir(tmp_path):
    r = run_script("speechocean762", "--corpus_dir", str(tmp_path / "nope"), "--out_dir", str(tmp_path / "d"))
    assert r.returncode == 1
    assert r.stderr.strip().splitlines() == [f"speechocean762: error: --corpus_dir: no such directory: {tmp_path / 'nope'}"]


@pytest.mark.skipif(not MINI.is_dir(), reason=f"{MINI} is absent")
def test_real_mini_subset(tmp_path):
    r = run_script("speechocean762", "--corpus_dir", str(MINI), "--out_dir", str(tmp_path / "data"))
    assert r.returncode == 0, r.stderr
    d = tmp_path / "data"
    assert len(lines(d / "train" / "wav.scp")) == 240 and len(lines(d / "test" / "wav.scp")) == 80
    assert not (d / "dev").exists()
    assert "0001-000010011 W IY K AO L IH T B EH R" in lines(d / "train" / "text.surface")
    assert "0001-000010011 we call it bear" in lines(d / "train" / "text.meaning")
    for name in ("train", "test"):
        report = validate_data_dir(d / name, sample_rate=16000)
        assert report.ok, report.errors
