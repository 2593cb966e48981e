"""A token type per output: phones as word tokens (one phone one token) beside a char meaning."""

import argparse
import subprocess
import sys

from dualasr.bin.dual_asr_inference import DualSpeech2Text
from dualasr.tasks.dual_asr import DualASRTask, output_token_types
from model_utils import build_model


def test_make_tokens_word_keeps_phones_whole(tmp_path):
    text = tmp_path / "text.surface"
    text.write_text("u1 DH IH S\nu2 TH IH NG\n", encoding="utf-8")
    subprocess.run([sys.executable, "-m", "dualasr.bin.make_tokens", "--text", str(text), "--out",
                    str(tmp_path / "tok"), "--token_type", "word"], check=True, capture_output=True)
    tokens = (tmp_path / "tok" / "tokens.txt").read_text(encoding="utf-8").split()
    assert tokens[:2] == ["<blank>", "<unk>"] and tokens[-1] == "<sos/eos>"
    assert sorted(tokens[2:-1]) == ["DH", "IH", "NG", "S", "TH"]


def test_preprocessor_and_decoding_use_each_outputs_token_type():
    phones = ["<blank>", "<unk>", "DH", "IH", "S", "<sos/eos>"]
    chars = ["<blank>", "<unk>", "<space>", "h", "i", "s", "t", "<sos/eos>"]
    args = argparse.Namespace(use_preprocessor=True, token_type="char", surface_token_type="word",
                              meaning_token_type=None, token_list_surface=phones, token_list_meaning=chars,
                              bpemodel_surface=None, bpemodel_meaning=None, cleaner=None, decompose_hangul=False)
    assert output_token_types(args) == {"surface": "word", "meaning": "char"}
    out = DualASRTask.build_preprocess_fn(args, train=False)("u", {"text_surface": "DH IH S", "text_meaning": "this"})
    assert out["text_surface"].tolist() == [2, 3, 4]           # three phones, three tokens
    assert out["text_meaning"].tolist() == [6, 3, 4, 5]        # four letters
    s2t = DualSpeech2Text(build_model(), token_type=output_token_types(args))
    assert s2t.tokenizers["surface"].tokens2text(["DH", "IH", "S"]) == "DH IH S"
    assert s2t.tokenizers["meaning"].tokens2text(["t", "h", "i", "s"]) == "this"
