"""Hangul syllables <-> jamo by Unicode arithmetic, and helpers that rewrite syllables.

A precomposed syllable is ``0xAC00 + (initial * 21 + medial) * 28 + final``. Jamo are kept as
compatibility letters (``"ㄱ"``, ``"ㅏ"``; ``""`` for no final), which makes the rules readable.
Written by hand because it is 20 lines; the ``jamo`` package is not needed for this.
"""

from __future__ import annotations

from typing import Callable, List, Optional

INITIALS = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
MEDIALS = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ"
FINALS = ("",) + tuple("ㄱㄲㄳㄴㄵㄶㄷㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅄㅅㅆㅇㅈㅊㅋㅌㅍㅎ")
BASE = 0xAC00

Syllable = List[str]  # [initial, medial, final]


def decompose(ch: str) -> Optional[Syllable]:
    """Split one precomposed Hangul syllable into ``[initial, medial, final]``; None otherwise.

    >>> decompose("닭"), decompose("가"), decompose("a")
    (['ㄷ', 'ㅏ', 'ㄺ'], ['ㄱ', 'ㅏ', ''], None)
    """
    code = ord(ch) - BASE
    if not 0 <= code < 19 * 21 * 28:
        return None
    return [INITIALS[code // 588], MEDIALS[(code // 28) % 21], FINALS[code % 28]]


def compose(initial: str, medial: str, final: str = "") -> str:
    """Build one syllable from its jamo.

    >>> compose("ㄷ", "ㅏ", "ㄺ") + compose("ㄱ", "ㅏ")
    '닭가'
    """
    return chr(BASE + (INITIALS.index(initial) * 21 + MEDIALS.index(medial)) * 28 + FINALS.index(final))


def has_final(word: str) -> bool:
    """True when the last syllable of ``word`` has a final consonant (choose 을/를, 이/가, 은/는).

    >>> has_final("책"), has_final("사과")
    (True, False)
    """
    syl = decompose(word[-1])
    return bool(syl and syl[2])


def rewrite_pairs(text: str, change: Callable[[Syllable, Syllable], None]) -> str:
    """Call ``change(a, b)`` on each pair of adjacent syllables, left to right, and recompose.

    ``change`` edits the two ``[initial, medial, final]`` lists in place. Pairs never span a
    space or any other non-Hangul character, so the rules act inside one spoken word (eojeol).
    Left-to-right order lets one change feed the next (읽었어 -> 일걷어 -> 일거써).
    """
    syls = [decompose(c) for c in text]
    for a, b in zip(syls, syls[1:]):
        if a is not None and b is not None:
            change(a, b)
    return "".join(compose(*s) if s is not None else c for s, c in zip(syls, text))


def rewrite_each(text: str,
                 change: Callable[[Optional[Syllable], Syllable, Optional[Syllable]], None]) -> str:
    """Call ``change(prev_syl, syl, next_syl)`` on every syllable, left to right (``prev_syl`` is None at a
    word start, ``next_syl`` at a word end; ``prev_syl`` as its own call left it)."""
    syls = [decompose(c) for c in text]
    for i, s in enumerate(syls):
        if s is not None:
            change(syls[i - 1] if i > 0 else None, s, syls[i + 1] if i + 1 < len(syls) else None)
    return "".join(compose(*s) if s is not None else c for s, c in zip(syls, text))
