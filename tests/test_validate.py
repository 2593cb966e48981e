"""The data-dir validator: one broken dir per check, each message naming file, line and utterance."""

import re
import subprocess
import sys

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


def _rewrite(path, fn):
    path.write_bytes(fn(path.read_bytes()))


def _lines(path, order):
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[i] for i in order))


def _truncate(wav):
    wav.write_bytes(wav.read_bytes()[:60])  # the header promises 6400 data bytes; 16 are there


# The 12 bad inputs of issue 12: (name, break the dir (data dir, wav dir), the exact first message
# with {d} for the data dir and {w} for the wav dir; a message ending in "..." is a prefix).
CASES = [
    ("unsorted", lambda d, w: _lines(d / "text.surface", [1, 0, 2]),
     "{d}/text.surface:2: spkA-000: not sorted (comes after spkA-001; sort with LC_ALL=C)"),
    ("duplicate_id", lambda d, w: _lines(d / "utt2spk", [0, 0, 1, 2]),
     "{d}/utt2spk:2: spkA-000: duplicate id"),
    ("missing_id", lambda d, w: _lines(d / "text.meaning", [0, 1]),
     "{d}/text.meaning:0: spkB-002: id of wav.scp missing here"),
    ("empty_transcript", lambda d, w: _rewrite(d / "text.meaning", lambda b: b.replace(b"meaning 1", b"")),
     "{d}/text.meaning:2: spkA-001: empty text"),
    ("not_utf8", lambda d, w: _rewrite(d / "text.surface", lambda b: b.replace(b"surface 1", b"surface \xff")),
     "{d}/text.surface:2: spkA-001: not UTF-8 (invalid start byte at byte 17)"),
    ("missing_wav", lambda d, w: (w / "w1.wav").unlink(),
     "{d}/wav.scp:2: spkA-001: unreadable audio '{w}/w1.wav' (Error opening '{w}/w1.wav': System error.)"),
    ("8khz", lambda d, w: soundfile.write(w / "w2.wav", np.zeros(800, dtype=np.int16), 8000),
     "{d}/wav.scp:3: spkB-002: sample rate 8000, expected 16000"),
    ("empty_wav", lambda d, w: soundfile.write(w / "w0.wav", np.zeros(0, dtype=np.int16), 16000),
     "{d}/wav.scp:1: spkA-000: empty audio"),
    ("spk2utt_mismatch", lambda d, w: (d / "spk2utt").write_text("spkA spkA-000\nspkB spkA-001 spkB-002\n"),
     "{d}/spk2utt:1: spkA: does not match utt2spk (e.g. spkA-001)"),
    ("truncated_wav", lambda d, w: _truncate(w / "w1.wav"),
     "{d}/wav.scp:2: spkA-001: truncated audio '{w}/w1.wav' (the header promises 6400 data bytes, the file holds 16)"),
    ("crlf", lambda d, w: _rewrite(d / "text.surface", lambda b: b.replace(b"\n", b"\r\n")),
     "{d}/text.surface:1: spkA-000: carriage return (\\r) in the line, 3 in the file "
     "(CRLF line endings? convert with dos2unix)"),
]


@pytest.mark.parametrize("name,breaker,expected", CASES, ids=[c[0] for c in CASES])
def test_bad_input(good, tmp_path, name, breaker, expected):
    breaker(good, tmp_path)
    rep = validate_data_dir(good, sample_rate=16000)
    assert rep.errors, f"{name}: passed as OK"
    assert rep.errors[0] == expected.format(d=good, w=tmp_path)


def test_stereo_is_a_warning(good, tmp_path):
    soundfile.write(tmp_path / "w1.wav", np.zeros((3200, 2), dtype=np.int16), 16000)
    soundfile.write(tmp_path / "w2.wav", np.zeros((4800, 2), dtype=np.int16), 16000)
    rep = validate_data_dir(good, sample_rate=16000)
    assert rep.ok, rep.errors
    assert rep.warnings == [f"{good}/wav.scp: 2 of 3 utterances have more than one channel (e.g. spkA-001: "
                            "2 channels); the features downmix them to mono (channel mean)"]
    cli = subprocess.run([sys.executable, "-m", "dualasr.bin.validate_data_dir", str(good)], capture_output=True, text=True)
    assert cli.returncode == 0 and cli.stderr.splitlines() == [f"WARNING: {rep.warnings[0]}"]


def test_truncated_wav_fails_the_cli(good, tmp_path):
    _truncate(tmp_path / "w2.wav")
    cli = subprocess.run([sys.executable, "-m", "dualasr.bin.validate_data_dir", str(good)], capture_output=True, text=True)
    assert cli.returncode == 1
    assert cli.stderr.splitlines() == [f"{good}/wav.scp:3: spkB-002: truncated audio '{tmp_path}/w2.wav' "
                                       "(the header promises 9600 data bytes, the file holds 16)"]


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


def _sparse_wav(path, data_bytes):
    """A 16 kHz mono wav whose header and (sparse) size say ``data_bytes`` of samples, none written."""
    soundfile.write(path, np.zeros(16, dtype=np.int16), 16000)
    head = bytearray(path.read_bytes())
    at = head.index(b"data")
    head[at + 4:at + 8] = data_bytes.to_bytes(4, "little")
    head[4:8] = (at + 8 + data_bytes - 8).to_bytes(4, "little")
    with open(path, "wb") as f:
        f.write(head[:at + 8])
        f.truncate(at + 8 + data_bytes)


def test_feature_stage_checks_free_space(good, tmp_path):
    """Stage 3 refuses to start when the features cannot fit, with both numbers; the free space is the
    real reading of the filesystem (1000 utterances of 37 h each need terabytes)."""
    from dualasr.bin.make_fbank import check_space, estimate_feature_bytes, free_bytes

    need, n, hours = estimate_feature_bytes([good])
    assert n == 3 and need == int(((11 + 21 + 31) * 320 + 3 * 64) * 1.05) + 64 * 2**20
    check_space([good], tmp_path / "dump")  # room for 0.6 s of audio: passes

    big = tmp_path / "big"
    wav = tmp_path / "long.wav"
    _sparse_wav(wav, 2**32 - 64)
    assert soundfile.info(wav).frames == (2**32 - 64) // 2
    write_data_dir(big, [Utterance(f"u{i:04d}", str(wav), "s", "a", "a") for i in range(1000)])
    out = tmp_path / "dump"
    with pytest.raises(SystemExit) as e:
        check_space([big], out)
    msg = str(e.value)
    m = re.fullmatch(rf"{out}: (\d+) bytes \(\d+\.\d\d GiB\) free, but the features of 1000 utterances "
                     r"\(37282\.70 h\) need about (\d+) bytes \(\d+\.\d\d GiB: 100 frames/s x 80 x 4 bytes, "
                     r"\+ 5% \+ 64 MiB\); free space or point --dumpdir elsewhere", msg)
    assert m, msg
    assert int(m.group(1)) < int(m.group(2)) and abs(int(m.group(1)) - free_bytes(out)) < 2**30
    cli = subprocess.run([sys.executable, "-m", "dualasr.bin.make_fbank", "--check_space", str(big), "--out", str(out)],
                         capture_output=True, text=True)
    assert cli.returncode == 1 and cli.stderr.strip().startswith(f"{out}: ") and "need about" in cli.stderr
