"""dualasr.bin.transcribe without a model: feedback units, times of syllables from jamo tokens,
the output formats, and a light `--help` (no torch at import)."""

import subprocess
import sys

from dualasr.bin.transcribe import char_times, feedback, format_text, format_tsv, group_times, units


def test_units_are_words_in_english_and_syllables_in_korean():
    assert units(" the  cat sat ", "en") == ["the", "cat", "sat"]
    assert units("가치 머거써요", "ko") == ["가", "치", "머", "거", "써", "요"]


def test_feedback_types_each_difference_and_carries_the_heard_times():
    heard = [{"text": w, "start": i * 1.0, "end": i + 0.5} for i, w in enumerate("the kat sat down".split())]
    fb = feedback("the kat sat down", "the cat sat", "en", heard)
    assert [(f["op"], f["expected"], f["heard"]) for f in fb] == [
        ("equal", "the", "the"), ("substitute", "cat", "kat"), ("equal", "sat", "sat"), ("insert", None, "down")]
    assert (fb[1]["start"], fb[1]["end"]) == (1.0, 1.5) and (fb[3]["start"], fb[3]["end"]) == (3.0, 3.5)
    fb = feedback("the sat", "the cat sat", "en", heard[:1] + heard[2:3])
    assert [(f["op"], f["expected"], f["heard"], f["start"]) for f in fb] == [
        ("equal", "the", "the", 0.0), ("delete", "cat", None, None), ("equal", "sat", "sat", 2.0)]


def test_syllable_times_span_their_jamo_tokens():
    import unicodedata

    text = "가 각"  # NFD: ᄀ ᅡ | ᄀ ᅡ ᆨ, with a <space> token between the words
    tokens = list(unicodedata.normalize("NFD", "가")) + [" "] + list(unicodedata.normalize("NFD", "각"))
    times = [(0.0, 0.1), (0.1, 0.2), (0.2, 0.3), (0.3, 0.4), (0.4, 0.5), (0.5, 0.6)]
    keep = [i for i, t in enumerate(tokens) if t.strip()]
    chars = char_times([tokens[i] for i in keep], [times[i] for i in keep], text, nfd=True)
    assert chars == [(0.0, 0.2), (0.3, 0.6)]
    assert group_times(text, "ko", chars) == [{"text": "가", "start": 0.0, "end": 0.2},
                                              {"text": "각", "start": 0.3, "end": 0.6}]
    # English words from letter tokens
    chars = char_times(list("ab") + list("cd"), [(0, 1), (1, 2), (3, 4), (4, 5)], "ab cd", nfd=False)
    assert group_times("ab cd", "en", chars) == [{"text": "ab", "start": 0, "end": 2},
                                                 {"text": "cd", "start": 3, "end": 5}]


def _record():
    words = [{"text": w, "start": float(i), "end": i + 0.5} for i, w in enumerate("the kat".split())]
    return {"file": "a.wav", "duration": 2.0, "surface": "the kat", "meaning": "the cat", "unit": "word",
            "canonical": {"source": "meaning", "text": "the cat"}, "words": words, "units": words,
            "feedback": feedback("the kat", "the cat", "en", words), "mispronounced": 1}


def test_text_marks_the_mispronounced_span_and_tsv_is_one_line_per_file():
    out = format_text(_record())
    assert "feedback   the [cat→kat]" in out
    assert "substitute cat → kat   1.00–1.50 s" in out
    assert format_tsv(_record()) == "a.wav\tthe kat\tthe cat\tthe cat\t1\tsubstitute:cat>kat@1.00-1.50\t\n"
    assert format_tsv({"file": "b.wav", "error": "b.wav: cannot read audio"}).rstrip("\n").split("\t")[-1] \
        == "b.wav: cannot read audio"


def test_help_does_not_import_torch():
    code = ("import sys, dualasr.bin.transcribe, dualasr.bin.pack_model;"
            "print(sorted(m for m in ('torch', 'espnet', 'espnet2', 'numpy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    res = subprocess.run([sys.executable, "-m", "dualasr.bin.transcribe", "--help"], capture_output=True, text=True)
    assert res.returncode == 0 and "--prompt" in res.stdout


def test_pack_finds_config_files_relative_to_the_cwd_or_the_model_dir(tmp_path, monkeypatch):
    import zipfile

    import pytest
    import yaml

    from dualasr.packed import pack

    mdir = tmp_path / "exp" / "do_ko"
    mdir.mkdir(parents=True)
    (mdir / "model.pth").write_bytes(b"weights")
    (mdir / "cmvn.npz").write_bytes(b"stats")
    (tmp_path / "bpe.model").write_bytes(b"spm")
    conf = {"normalize_conf": {"stats_file": "cmvn.npz"}, "bpemodel_surface": "bpe.model",
            "token_list_surface": ["<blank>", "a"], "encoder_conf": {"input_layer": "conv2d"}, "input_size": 23}
    (mdir / "config.yaml").write_text(yaml.safe_dump(conf))
    monkeypatch.chdir(tmp_path)  # bpe.model is found in the cwd, cmvn.npz in the model dir
    out = pack(mdir / "config.yaml", mdir / "model.pth", mdir / "packed" / "do_ko.zip", lang="ko", fs=16000)
    with zipfile.ZipFile(out) as z:
        packed = yaml.safe_load(z.read("config.yaml"))
        assert packed["normalize_conf"]["stats_file"] == "normalize_conf.stats_file/cmvn.npz"
        assert z.read("normalize_conf.stats_file/cmvn.npz") == b"stats"
        assert z.read(packed["bpemodel_surface"]) == b"spm" and z.read("model.pth") == b"weights"
        assert packed["token_list_surface"] == ["<blank>", "a"] and packed["encoder_conf"] == conf["encoder_conf"]
        # the fbank settings recorded are the ones the model was trained on: as many bins as its input_size
        assert yaml.safe_load(z.read("features.yaml"))["fbank"]["num_mel_bins"] == 23
    conf["normalize_conf"]["stats_file"] = "gone/cmvn.npz"
    (mdir / "config.yaml").write_text(yaml.safe_dump(conf))
    with pytest.raises(SystemExit, match="normalize_conf.stats_file: 'gone/cmvn.npz' is not a file"):
        pack(mdir / "config.yaml", mdir / "model.pth", mdir / "packed" / "x.zip", lang="ko", fs=16000)
