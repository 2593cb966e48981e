"""KsponSpeech dual transcription: one ``.trn`` text into (surface, meaning).

KsponSpeech writes both transcriptions in one line. ``(X)/(Y)`` holds the spelling X (meaning)
and the pronunciation Y (surface); everything outside such pairs is shared. Tags are stripped the
same way on both sides:

- ``b/ n/ l/ o/ u/`` (breath, noise, laughter, overlap, unintelligible word): removed, also when
  glued together (``b/n/``);
- ``*`` (unclear speech), ``+`` (repetition, ``word+``), ``#``: the mark is removed, the word stays;
- ``word/`` (filler): the word is kept without its slash (fillers were spoken, so they belong to
  both outputs).

No library parses this format, hence the small hand-written parser.
"""

from __future__ import annotations

import re
from typing import Tuple

from dualasr.text.normalize import normalize_ko

_PAIR = re.compile(r"\(([^()]*)\)/\(([^()]*)\)")
_NOISE = re.compile(r"^(?:[bnlou]/)+")


def strip_tags(text: str) -> str:
    """Remove the KsponSpeech tags from one side (no ``(X)/(Y)`` pairs left) and normalise it."""
    words = []
    for tok in text.split():
        tok = _NOISE.sub("", tok)
        tok = tok.replace("*", "").replace("+", "").replace("#", "")
        if tok.endswith("/"):
            tok = tok[:-1]
        if tok:
            words.append(tok)
    return normalize_ko(" ".join(words))


def parse_kspon(text: str) -> Tuple[str, str]:
    """Return ``(surface, meaning)`` for one KsponSpeech transcription.

    >>> parse_kspon("b/ 아/ 모+ 몬 소리야 (70%)/(칠 십 퍼센트) 확률이라니 n/")
    ('아 모 몬 소리야 칠 십 퍼센트 확률이라니', '아 모 몬 소리야 70% 확률이라니')

    Raises ValueError when a parenthesis is left over outside a well-formed pair.
    """
    meaning = _PAIR.sub(lambda m: m.group(1), text)
    surface = _PAIR.sub(lambda m: m.group(2), text)
    if any(c in meaning for c in "()") or any(c in surface for c in "()"):
        raise ValueError("parenthesis outside a (spelling)/(pronunciation) pair")
    return strip_tags(surface), strip_tags(meaning)
