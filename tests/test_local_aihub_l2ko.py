"""local/aihub_l2ko.py on a fixture in the AI Hub foreign speakers' Korean layout."""

import json
import unicodedata
from pathlib import Path

import pytest

from dualasr.data.validate import validate_data_dir
from localprep_utils import lines, load, run_script, tone

ko = load("aihub_l2ko")


def item(spk: str, name: str, reading=None, heard=None, answer=None) -> dict:
    return {"fileName": f"{name}.wav",
            "file_info": {"speakerID": spk, "sentenceID": "S1", "recordUnit": "문장",
                          "recordQuality": "16bit 16kHz MONO"},
            "transcription": {"Reading": reading, "ReadingLabelText": heard, "Question": None,
                              "AnswerLabelText": answer, "SentenceSpeechLV": "초급"},
            "basic_info": {}, "skill_info": {"motherTongue": "영어", "topikGrade": "3"}}


def make_corpus(root: Path, nfd: bool = False) -> Path:
    """Training: speakers A01..A04 (one answer item), Validation: speaker B01. Labels and wavs in
    different sub-folders, as the unzipped TL_/TS_ archives are."""
    items = {
        ("1.Training", "TL_1.대학생"): [
            item("A01", "A01_001", "같이 가요.", "가치 가요"), item("A01", "A01_002", answer="저는 학생이에요"),
            item("A02", "A02_001", "국물이 맛있어요", "궁물이 마시써요"),
            item("A03", "A03_001", "안녕하세요?", "안녕하세요"),
            item("A04", "A04_001", "읽어요", "일거요")],
        ("2.Validation", "VL_1.대학생"): [item("B01", "B01_001", "좋아요!", "조아요")],
    }
    for (split, sub), rows in items.items():
        src = "TS_" + sub[3:] if split.startswith("1") else "VS_" + sub[3:]
        for r in rows:
            name = r["fileName"][:-4]
            label = root / split / "라벨링데이터" / sub / f"{name}.json"
            label.parent.mkdir(parents=True, exist_ok=True)
            label.write_text(json.dumps(r, ensure_ascii=False), encoding="utf-8-sig")
            tone(root / split / "원천데이터" / src / r["file_info"]["speakerID"] / f"{name}.wav")
    if nfd:  # folders copied from macOS carry decomposed Hangul names
        for p in sorted(root.rglob("*"), key=lambda p: -len(p.parts)):
            p.rename(p.with_name(unicodedata.normalize("NFD", p.name)))
    return root


@pytest.mark.parametrize("nfd", [False, True])
def test_prepare(tmp_path, capsys, nfd):
    corpus = make_corpus(tmp_path / "aihub", nfd=nfd)
    ko.prepare(corpus, tmp_path / "data", test_spk_frac=0.25, seed=0)
    d = tmp_path / "data"
    train, test = lines(d / "train" / "text.surface"), lines(d / "test" / "text.surface")
    assert sorted(train + test) == ["A01-A01_001 가치 가요", "A02-A02_001 궁물이 마시써요",
                                    "A03-A03_001 안녕하세요", "A04-A04_001 일거요"]
    assert len(test) == 1   # one speaker of four, drawn with the seed
    assert lines(d / "dev" / "text.surface") == ["B01-B01_001 조아요"]
    assert lines(d / "dev" / "text.meaning") == ["B01-B01_001 좋아요"]
    meaning = dict(l.split(" ", 1) for l in lines(d / "train" / "text.meaning") + lines(d / "test" / "text.meaning"))
    assert meaning == {"A01-A01_001": "같이 가요", "A02-A02_001": "국물이 맛있어요",
                       "A03-A03_001": "안녕하세요", "A04-A04_001": "읽어요"}
    assert lines(d / "dev" / "utt2spk") == ["B01-B01_001 B01"]
    assert lines(d / "dev" / "wav.scp")[0].endswith("/B01/B01_001.wav")
    assert "dropped 1 utterance(s): answer item (only AnswerLabelText): left out" in capsys.readouterr().err
    for name in ("train", "dev", "test"):
        assert validate_data_dir(d / name, sample_rate=16000).ok
    # The same seed draws the same test speaker.
    ko.prepare(corpus, tmp_path / "again", test_spk_frac=0.25, seed=0)
    assert lines(tmp_path / "again" / "test" / "text.surface") == test


def test_bad_input(tmp_path):
    corpus = make_corpus(tmp_path / "aihub")
    wav = next((corpus / "2.Validation" / "원천데이터").rglob("B01_001.wav"))
    wav.unlink()
    tone(wav.with_name("other.wav"))
    with pytest.raises(ko.C.PrepError, match=r"B01_001\.json: audio B01_001\.wav not found under"):
        ko.prepare(corpus, tmp_path / "data")
    label = next(corpus.rglob("A02_001.json"))
    label.write_text("{broken", encoding="utf-8")
    with pytest.raises(ko.C.PrepError, match=r"A02_001\.json: not readable JSON"):
        ko.prepare(corpus, tmp_path / "data")
    label.write_text(json.dumps(item("A02", "A02_001", "국물이", None)), encoding="utf-8")
    with pytest.raises(ko.C.PrepError, match=r"A02_001\.json: read-aloud item lacks ReadingLabelText"):
        ko.prepare(corpus, tmp_path / "data")


def test_cli_missing_corpus_dir(tmp_path):
    r = run_script("aihub_l2ko", "--corpus_dir", str(tmp_path / "nope"))
    assert r.returncode == 1
    assert r.stderr.strip().splitlines() == [f"aihub_l2ko: error: --corpus_dir: no such directory: {tmp_path / 'nope'}"]
