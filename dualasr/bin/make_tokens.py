"""Build the token list of one output (the tokenizer stage).

``python -m dualasr.bin.make_tokens --text dump/fbank/train_ko/text.surface --token_type char
--out data/token_list/ko/surface_char`` writes ``tokens.txt`` (and ``bpe.model`` for bpe/unigram)
through ESPnet's ``tokenize_text``, with ``<blank>`` first, ``<unk>`` second and ``<sos/eos>`` last,
as ESPnet's ASR task expects.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import unicodedata
from pathlib import Path


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--text", type=Path, required=True, help="uttid text lines")
    p.add_argument("--token_type", choices=["char", "bpe", "unigram", "word"], default="char",
                   help="word: whitespace-separated tokens (e.g. phones, one phone one token)")
    p.add_argument("--vocab_size", type=int, default=100, help="bpe/unigram only")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--decompose_hangul", action="store_true", help="tokens over jamo (Unicode NFD)")
    a = p.parse_args(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    text_file = a.text
    if a.decompose_hangul:
        text_file = a.out / ".text.nfd"
        text_file.write_text(unicodedata.normalize("NFD", a.text.read_text(encoding="utf-8")), encoding="utf-8")
    extra = []
    if a.token_type in ("bpe", "unigram"):
        import sentencepiece as spm

        with tempfile.NamedTemporaryFile("w", suffix=".txt", encoding="utf-8", delete=False) as f:
            for line in text_file.read_text(encoding="utf-8").splitlines():
                f.write(line.partition(" ")[2] + "\n")
        spm.SentencePieceTrainer.train(
            input=f.name, model_prefix=str(a.out / "bpe"), vocab_size=a.vocab_size,
            model_type=a.token_type, character_coverage=1.0, input_sentence_size=10_000_000,
            minloglevel=2,
        )
        Path(f.name).unlink()
        extra = ["--bpemodel", str(a.out / "bpe.model")]
    tmp = a.out / ".tokens.txt.tmp"
    # ESPnet's tokenize_text, in this process: dualasr.lazy_deps first keeps its import fast and quiet
    import dualasr.lazy_deps  # noqa: F401
    from espnet2.bin.tokenize_text import main as tokenize_text

    tokenize_text(
        ["--token_type", "bpe" if a.token_type == "unigram" else a.token_type, "--input", str(text_file),
         "--output", str(tmp), "--field", "2-", "--cleaner", "none", "--write_vocabulary", "true",
         "--add_symbol", "<blank>:0", "--add_symbol", "<unk>:1", "--add_symbol", "<sos/eos>:-1", *extra])
    tmp.replace(a.out / "tokens.txt")
    if a.decompose_hangul:
        text_file.unlink()
    n = sum(1 for _ in open(a.out / "tokens.txt", encoding="utf-8"))
    print(f"{a.out / 'tokens.txt'}: {n} tokens", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
