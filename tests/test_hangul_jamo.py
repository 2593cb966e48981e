"""Korean as jamo: the token list, the preprocessor, and the recomposed hypotheses."""

import argparse
import subprocess
import sys
import unicodedata

from dualasr.tasks.dual_asr import DualASRTask


def test_make_tokens_decomposes_hangul(tmp_path):
    text = tmp_path / "text.surface"
    text.write_text("u1 가치 머거써요\nu2 학꾜\n", encoding="utf-8")
    subprocess.run([sys.executable, "-m", "dualasr.bin.make_tokens", "--text", str(text), "--out",
                    str(tmp_path / "tok"), "--decompose_hangul"], check=True, capture_output=True)
    tokens = (tmp_path / "tok" / "tokens.txt").read_text(encoding="utf-8").split()
    assert "가" not in tokens and "\u1100" in tokens and "\u1161" in tokens  # ᄀ and ᅡ
    assert all(len(t) == 1 or t.startswith("<") for t in tokens)
    assert not (tmp_path / "tok" / ".text.nfd").exists()


def test_preprocessor_tokenizes_jamo_and_recomposes(tmp_path):
    syllables = "가치 머거써요"
    jamo = sorted(set(unicodedata.normalize("NFD", syllables)) - {" "})
    token_list = ["<blank>", "<unk>", "<space>", *jamo, "<sos/eos>"]
    args = argparse.Namespace(use_preprocessor=True, token_type="char", token_list_surface=token_list,
                              token_list_meaning=None, bpemodel_surface=None, cleaner=None,
                              decompose_hangul=True)
    pre = DualASRTask.build_preprocess_fn(args, train=False)
    ids = pre("u", {"text_surface": syllables})["text_surface"]
    assert 1 not in ids.tolist(), "no <unk>: every jamo is in the list"
    tokens = [token_list[i] for i in ids]
    text = "".join(" " if t == "<space>" else t for t in tokens)
    assert unicodedata.normalize("NFC", text) == syllables
    args.decompose_hangul = False
    ids = DualASRTask.build_preprocess_fn(args, train=False)("u", {"text_surface": syllables})["text_surface"]
    assert 1 in ids.tolist(), "without decomposition the syllables are unknown tokens"
