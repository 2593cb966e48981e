"""The data-dir validator: one broken dir per check, each message naming file, line and utterance."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

from dualasr.data.datadir import Utterance, read_data_dir, write_data_dir
from dualasr.data.validate import validate_data_dir


@pytest.fixture
def good(tmp_path):
    utts = []
    for i, spk in enumerate(["spkA", "spkA", "spkB"]):
        wav = tmp_path / f"w{i}.wav"
        soundfile.write(wav, np.zeros(1600 * (i + 1), dtype=np.int16), 16000)
        utts.append(Utterance(f"{spk}-{i:03d}", str(wav), spk, f"surface {i}", f"meaning {i}"))
    d = tmp_path / "data"
    write_data_dir(d, utts)
    return d


def only_error(d, **kw):
    rep = validate_data_dir(d, **kw)
    assert len(rep.errors) >= 1, "expected a problem"
    return rep.errors[0]


def test_good_dir_passes(good):
    rep = validate_data_dir(good, sample_rate=16000)
    assert rep.ok, rep.errors
    assert rep.n_utts == 3 and abs(rep.hours - 0.6 / 3600) < 1e-9


def test_missing_file(good):
    (good / "text.meaning").unlink()
    assert only_error(good) == f"{good / 'text.meaning'}:0: -: missing file"


def test_unsorted(good):
    lines = (good / "text.surface").read_text().splitlines()
    (good / "text.surface").write_text("\n".join([lines[1], lines[0], lines[2]]) + "\n")
    msg = only_error(good)
    assert msg.startswith(f"{good / 'text.surface'}:2: spkA-000: not sorted")


def test_duplicate_id(good):
    lines = (good / "utt2spk").read_text().splitlines()
    (good / "utt2spk").write_text("\n".join([lines[0], lines[0], lines[1], lines[2]]) + "\n")
    assert only_error(good) == f"{good / 'utt2spk'}:2: spkA-000: duplicate id"


def test_ids_differ_between_files(good):
    lines = (good / "text.meaning").read_text().splitlines()
    (good / "text.meaning").write_text("\n".join(lines[:2]) + "\n")
    assert only_error(good) == f"{good / 'text.meaning'}:0: spkB-002: id of wav.scp missing here"


def test_not_utf8(good):
    data = (good / "text.surface").read_bytes().replace(b"surface 1", b"surface \xff")
    (good / "text.surface").write_bytes(data)
    msg = only_error(good)
    assert msg.startswith(f"{good / 'text.surface'}:2: spkA-001: not UTF-8")


def test_empty_text(good):
    (good / "text.meaning").write_text("spkA-000 meaning 0\nspkA-001 \nspkB-002 meaning 2\n")
    assert only_error(good) == f"{good / 'text.meaning'}:2: spkA-001: empty text"


def test_spk2utt_mismatch(good):
    (good / "spk2utt").write_text("spkA spkA-000\nspkB spkA-001 spkB-002\n")
    msg = only_error(good)
    assert msg.startswith(f"{good / 'spk2utt'}:1: spkA: does not match utt2spk")


def test_unreadable_audio(good, tmp_path):
    (tmp_path / "w1.wav").write_bytes(b"not a wav")
    msg = only_error(good)
    assert msg.startswith(f"{good / 'wav.scp'}:2: spkA-001: unreadable audio")


def test_wrong_sample_rate(good, tmp_path):
    soundfile.write(tmp_path / "w2.wav", np.zeros(800, dtype=np.int16), 8000)
    assert only_error(good, sample_rate=16000) == f"{good / 'wav.scp'}:3: spkB-002: sample rate 8000, expected 16000"


def test_cli_exit_codes(good):
    ok = subprocess.run([sys.executable, "-m", "dualasr.bin.validate_data_dir", str(good)], capture_output=True, text=True)
    assert ok.returncode == 0 and "OK, 3 utterances" in ok.stdout
    (good / "spk2utt").unlink()
    bad = subprocess.run([sys.executable, "-m", "dualasr.bin.validate_data_dir", str(good)], capture_output=True, text=True)
    assert bad.returncode == 1 and "spk2utt:0: -: missing file" in bad.stderr


def test_canonical_is_optional_and_checked_like_the_texts(good):
    assert not (good / "text.canonical").exists() and validate_data_dir(good).ok
    (good / "text.canonical").write_text("spkA-000 c 0\nspkA-001 c 1\nspkB-002 c 2\n")
    assert validate_data_dir(good).ok
    (good / "text.canonical").write_text("spkA-000 c 0\nspkA-001 \nspkB-002 c 2\n")
    assert only_error(good) == f"{good / 'text.canonical'}:2: spkA-001: empty text"
    (good / "text.canonical").write_text("spkA-000 c 0\nspkB-002 c 2\n")
    assert only_error(good) == f"{good / 'text.canonical'}:0: spkA-001: id of wav.scp missing here"
    (good / "text.canonical").write_text("spkA-001 c 1\nspkA-000 c 0\nspkB-002 c 2\n")
    assert "not sorted" in only_error(good)


def test_write_data_dir_with_canonical(tmp_path):
    utts = [Utterance("s-1", "/a.wav", "s", "D IH S", "this", "DH IH S"),
            Utterance("s-2", "/b.wav", "s", "TH IH NG", "thing", "TH IH NG")]
    write_data_dir(tmp_path / "d", utts)
    assert (tmp_path / "d" / "text.canonical").read_text() == "s-1 DH IH S\ns-2 TH IH NG\n"
    assert read_data_dir(tmp_path / "d") == utts
    with pytest.raises(ValueError, match="utterance s-2 has no canonical form while others have one"):
        write_data_dir(tmp_path / "e", [utts[0], Utterance("s-2", "/b.wav", "s", "x", "y")])
