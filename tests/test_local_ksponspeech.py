"""dualasr.text.kspon and local/ksponspeech.py on a fixture in the KsponSpeech layout."""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from dualasr.text.kspon import parse_kspon
from dualasr.data.validate import validate_data_dir
from localprep_utils import lines, load, run_script

ks = load("ksponspeech")


@pytest.mark.parametrize("text, surface, meaning", [
    ("b/ 아/ 모+ 몬 소리야 (70%)/(칠 십 퍼센트) 확률이라니 n/",
     "아 모 몬 소리야 칠 십 퍼센트 확률이라니", "아 모 몬 소리야 70% 확률이라니"),
    ("l/ 그거* 좀 o/ 줘 u/", "그거 좀 줘", "그거 좀 줘"),                       # l/ o/ u/ *
    ("음/ (그래서)/(그래가지고) 갔어#", "음 그래가지고 갔어", "음 그래서 갔어"),    # filler, #
    ("b/n/ 어 * 진짜?", "어 진짜", "어 진짜"),                                  # glued tags, lone *
    ("(3.5)/(삼 점 오) 키로.", "삼 점 오 키로", "3.5 키로"),                     # punctuation
])
def test_parse_kspon(text, surface, meaning):
    assert parse_kspon(text) == (surface, meaning)


def test_parse_kspon_unmatched_parenthesis():
    with pytest.raises(ValueError, match="parenthesis"):
        parse_kspon("(그래서)/(그래가지고 갔어")


def pcm(path: Path, seconds: float = 0.1) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(16000 * seconds)) / 16000
    path.write_bytes((8000 * np.sin(2 * np.pi * 300 * t)).astype("<i2").tobytes())


def make_corpus(root: Path) -> Path:
    trn = {
        "train": ["KsponSpeech_01/KsponSpeech_0001/KsponSpeech_000001.pcm :: "
                  "b/ 아/ 모+ 몬 소리야 (70%)/(칠 십 퍼센트) 확률이라니 n/",
                  "KsponSpeech_01/KsponSpeech_0001/KsponSpeech_000002.pcm :: l/ 그거* 좀 o/ 줘 u/",
                  "KsponSpeech_01/KsponSpeech_0001/KsponSpeech_000003.pcm :: b/ n/"],
        "dev": ["KsponSpeech_05/KsponSpeech_0621/KsponSpeech_620001.pcm :: 음/ (그래서)/(그래가지고) 갔어#"],
        "eval_clean": ["KsponSpeech_eval/eval_clean/KsponSpeech_E00001.pcm :: 네 알겠습니다"],
        "eval_other": ["KsponSpeech_eval/eval_other/KsponSpeech_E03001.pcm :: (1시)/(한 시)에 봐"],
    }
    (root / "scripts").mkdir(parents=True)
    for name, rows in trn.items():
        (root / "scripts" / f"{name}.trn").write_text("".join(r + "\n" for r in rows), encoding="utf-8")
        for r in rows:
            pcm(root / r.split(" :: ")[0])
    return root


def test_prepare_writes_four_sets(tmp_path, capsys):
    corpus = make_corpus(tmp_path / "kspon")
    ks.prepare(corpus, tmp_path / "data")
    d = tmp_path / "data"
    assert lines(d / "train" / "text.surface") == [
        "KsponSpeech_000001 아 모 몬 소리야 칠 십 퍼센트 확률이라니", "KsponSpeech_000002 그거 좀 줘"]
    assert lines(d / "train" / "text.meaning") == [
        "KsponSpeech_000001 아 모 몬 소리야 70% 확률이라니", "KsponSpeech_000002 그거 좀 줘"]
    assert lines(d / "train" / "utt2spk") == ["KsponSpeech_000001 KsponSpeech_000001",
                                             "KsponSpeech_000002 KsponSpeech_000002"]
    assert lines(d / "dev" / "text.surface") == ["KsponSpeech_620001 음 그래가지고 갔어"]
    assert lines(d / "dev" / "text.meaning") == ["KsponSpeech_620001 음 그래서 갔어"]
    assert lines(d / "test_clean" / "text.meaning") == ["KsponSpeech_E00001 네 알겠습니다"]
    assert lines(d / "test_other" / "text.surface") == ["KsponSpeech_E03001 한 시에 봐"]
    assert lines(d / "test_other" / "text.meaning") == ["KsponSpeech_E03001 1시에 봐"]
    uid, wav = lines(d / "dev" / "wav.scp")[0].split(" ", 1)
    assert wav == str((d / "local/wav_ksponspeech/KsponSpeech_05/KsponSpeech_0621/KsponSpeech_620001.wav").resolve())
    x, fs = sf.read(wav, dtype="int16")
    raw = np.frombuffer((corpus / "KsponSpeech_05/KsponSpeech_0621/KsponSpeech_620001.pcm").read_bytes(), "<i2")
    assert fs == 16000 and np.array_equal(x, raw)
    assert "dropped 1 utterance(s): empty text after removing tags" in capsys.readouterr().err
    for name in ("train", "dev", "test_clean", "test_other"):
        assert validate_data_dir(d / name, sample_rate=16000).ok


def test_bad_line_and_bad_pcm(tmp_path):
    corpus = make_corpus(tmp_path / "kspon")
    trn = corpus / "scripts" / "dev.trn"
    trn.write_text(trn.read_text() + "KsponSpeech_05/x.pcm :: (그래서)/(그래 갔어\n", encoding="utf-8")
    with pytest.raises(ks.C.PrepError, match=r"dev\.trn:2: parenthesis"):
        ks.prepare(corpus, tmp_path / "data")
    ks.prepare(corpus, tmp_path / "data", skip_bad_lines=True)
    assert len(lines(tmp_path / "data" / "dev" / "wav.scp")) == 1
    bad = corpus / "KsponSpeech_eval/eval_clean/KsponSpeech_E00001.pcm"
    bad.write_bytes(b"\x01\x02\x03")
    with pytest.raises(ks.C.PrepError, match=r"KsponSpeech_E00001\.pcm: not 16-bit pcm \(3 bytes\)"):
        ks.prepare(corpus, tmp_path / "data2", skip_bad_lines=True)


def test_cli_missing_corpus_dir(tmp_path):
    r = run_script("ksponspeech", "--corpus_dir", str(tmp_path / "nope"))
    assert r.returncode == 1
    assert r.stderr.strip().splitlines() == [f"ksponspeech: error: --corpus_dir: no such directory: {tmp_path / 'nope'}"]
