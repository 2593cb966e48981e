"""local/l2arctic.py on a fixture in the L2-ARCTIC layout (annotation TextGrids in Praat's long format)."""

from pathlib import Path

import pytest
import soundfile as sf

from dualasr.data.validate import validate_data_dir
from localprep_utils import lines, load, run_script, tone

l2 = load("l2arctic")


def textgrid(phones) -> str:
    """A long-format TextGrid with a words tier and a phones tier holding ``phones`` (0.1 s each)."""
    end = 0.1 * len(phones)

    def tier(name, labels):
        rows = "".join(
            f"        intervals [{i + 1}]:\n            xmin = {0.1 * i:.1f}\n"
            f"            xmax = {0.1 * (i + 1):.1f}\n            text = \"{lab}\"\n"
            for i, lab in enumerate(labels))
        return (f"        class = \"IntervalTier\"\n        name = \"{name}\"\n        xmin = 0\n"
                f"        xmax = {end:.1f}\n        intervals: size = {len(labels)}\n{rows}")
    return ("File type = \"ooTextFile\"\nObject class = \"TextGrid\"\n\nxmin = 0\n"
            f"xmax = {end:.1f}\ntiers? <exists>\nsize = 2\nitem []:\n"
            f"    item [1]:\n{tier('words', ['word'] * len(phones))}"
            f"    item [2]:\n{tier('phones', phones)}")


# Every annotation form: correct, substitution, deletion, addition, deviation, err, silences.
GOOD = {
    "arctic_a0001": (["sil", "DH", "IH1", "S,Z,s", "IH1", "Z", "sp", ""],
                     "This is, \"it\"?"),
    "arctic_a0002": (["TH,sil,d", "IH1", "NG,N,s", "K", "sil,AH,a", "T,T*,s", "AH0,AO*,s"],
                     "Think it's up-to-date."),
    "arctic_a0003": (["R,err,s", "EH1", "D", "sil,err,a", "spn"], "Red."),
}
BROKEN = {
    "arctic_a0004": "File type = \"ooTextFile\"\nObject class = \"TextGrid\"\nxmin = 0\nthis is not a textgrid\n",
    "arctic_a0005": textgrid(["AH0,AO", "T"]),        # two-part label
    "arctic_a0006": textgrid(["AH0,AO,x", "T"]),      # unknown error type
}


def make_corpus(root: Path, speakers=("HJK", "HKK", "YDCK", "YKWK")) -> Path:
    for spk in speakers:
        for utt, (phones, words) in GOOD.items():
            (root / spk / "annotation").mkdir(parents=True, exist_ok=True)
            (root / spk / "annotation" / f"{utt}.TextGrid").write_text(textgrid(phones))
            (root / spk / "transcript").mkdir(exist_ok=True)
            (root / spk / "transcript" / f"{utt}.txt").write_text(words)
            tone(root / spk / "wav" / f"{utt}.wav", fs=44100, seconds=0.1)
        tone(root / spk / "wav" / "arctic_a0999.wav", fs=44100, seconds=0.1)   # not annotated: unused
        (root / spk / "transcript" / "arctic_a0999.txt").write_text("Unused.")
    if "YDCK" in speakers:
        for utt, text in BROKEN.items():
            (root / "YDCK" / "annotation" / f"{utt}.TextGrid").write_text(text)
        for utt in ("arctic_a0209", "arctic_a0272"):   # left out by name (broken in the real corpus)
            (root / "YDCK" / "annotation" / f"{utt}.TextGrid").write_text(textgrid(["R", "EH1", "D"]))
            (root / "YDCK" / "transcript" / f"{utt}.txt").write_text("Red.")
            tone(root / "YDCK" / "wav" / f"{utt}.wav", fs=44100, seconds=0.1)
    return root


# the 24 speakers of L2-ARCTIC and the standard split of the MDD literature
ALL_SPEAKERS = ("ABA", "SKA", "YBAA", "ZHAA", "BWC", "LXC", "NCC", "TXHC", "ASI", "RRBI", "SVBI", "TNI",
                "HJK", "HKK", "YDCK", "YKWK", "EBVS", "ERMS", "MBMPS", "NJS", "HQTV", "PNV", "THV", "TLV")


def test_korean_split(tmp_path, capsys):
    corpus = make_corpus(tmp_path / "l2a")
    l2.prepare(corpus, tmp_path / "data", split="korean")
    d = tmp_path / "data"
    assert lines(d / "dev" / "text.surface") == [
        "YDCK-arctic_a0001 DH IH Z IH Z",
        "YDCK-arctic_a0002 IH N K AH T AO",
        "YDCK-arctic_a0003 R EH D"]
    assert lines(d / "dev" / "text.meaning") == [
        "YDCK-arctic_a0001 this is it",
        "YDCK-arctic_a0002 think it's up to date",
        "YDCK-arctic_a0003 red"]
    assert [l.split()[0] for l in lines(d / "train" / "utt2spk")] == [
        f"{s}-arctic_a000{i}" for s in ("HJK", "HKK") for i in (1, 2, 3)]
    assert lines(d / "test" / "spk2utt") == ["YKWK YKWK-arctic_a0001 YKWK-arctic_a0002 YKWK-arctic_a0003"]
    uid, wav = lines(d / "test" / "wav.scp")[0].split(" ", 1)
    info = sf.info(wav)
    assert wav == str((d / "local/wav_l2arctic/YKWK/YKWK-arctic_a0001.wav").resolve())
    assert info.samplerate == 16000 and info.frames == 1600
    err = capsys.readouterr().err
    assert "dropped 3 utterance(s): broken annotation TextGrid" in err
    assert "2 utterance(s): left out by name (YDCK arctic_a0209, arctic_a0272" in err
    # canonical phones: each label's CPL (additions have none), in the surface's form
    assert lines(d / "dev" / "text.canonical") == [
        "YDCK-arctic_a0001 DH IH S IH Z",
        "YDCK-arctic_a0002 TH IH NG K T AH",
        "YDCK-arctic_a0003 R EH D"]
    assert "skipping broken annotation" in err and "arctic_a0006.TextGrid: label 'AH0,AO,x' has unknown error type" in err
    assert "written as the canonical phone: 4" in err and "using only the hand-annotated utterances" in err
    for name in ("train", "dev", "test"):
        assert validate_data_dir(d / name, sample_rate=16000).ok


def test_standard_split(tmp_path):
    corpus = make_corpus(tmp_path / "l2a", speakers=ALL_SPEAKERS)
    l2.prepare(corpus, tmp_path / "data")   # --split standard is the default
    spks = {name: sorted(r.split()[0] for r in lines(tmp_path / "data" / name / "spk2utt"))
            for name in ("train", "dev", "test")}
    assert spks == {
        "test": sorted(["NJS", "TLV", "TNI", "TXHC", "YKWK", "ZHAA"]),
        "dev": sorted(["MBMPS", "THV", "SVBI", "NCC", "YDCK", "YBAA"]),
        "train": sorted(["ABA", "SKA", "BWC", "LXC", "ASI", "RRBI", "HJK", "HKK", "EBVS", "ERMS", "HQTV", "PNV"])}
    dev = [l.split()[0] for l in lines(tmp_path / "data" / "dev" / "wav.scp")]
    assert "YDCK-arctic_a0001" in dev and not [u for u in dev if u.endswith(("a0209", "a0272"))]


def test_missing_inputs(tmp_path):
    corpus = make_corpus(tmp_path / "l2a", speakers=("HJK", "HKK", "YDCK"))
    with pytest.raises(l2.C.PrepError, match=r"--split korean: speaker YKWK: no such directory: .*YKWK/annotation"):
        l2.prepare(corpus, tmp_path / "data", split="korean")
    make_corpus(corpus, speakers=("YKWK",))
    (corpus / "HKK" / "wav" / "arctic_a0002.wav").unlink()
    with pytest.raises(l2.C.PrepError, match=r"HKK/wav/arctic_a0002\.wav: audio file missing"):
        l2.prepare(corpus, tmp_path / "data")
    (corpus / "HKK" / "transcript" / "arctic_a0002.txt").unlink()
    with pytest.raises(l2.C.PrepError, match=r"HKK/transcript/arctic_a0002\.txt: file not found"):
        l2.prepare(corpus, tmp_path / "data")


def test_cli_missing_corpus_dir(tmp_path):
    r = run_script("l2arctic", "--corpus_dir", str(tmp_path / "nope"), "--split", "korean")
    assert r.returncode == 1
    assert r.stderr.strip().splitlines() == [f"l2arctic: error: --corpus_dir: no such directory: {tmp_path / 'nope'}"]
