"""Korean surface rules: standard pronunciation (deterministic) and learner errors (random).

Every rule is a small pure function on Hangul text. The standard rules follow the Standard
Pronunciation rules (표준 발음법) inside one spoken word and are applied in the order of
:data:`STANDARD_RULES` by :func:`standard_pronunciation`; their output is the pronunciation form
written in Hangul (학교 -> 학꾜). Learner errors take an ``rng`` and a probability ``p`` per
candidate site. Written by hand on jamo: g2pk/g2pk2 need mecab-ko or an NLTK download that these
machines lack.
"""

from __future__ import annotations

import random
from typing import Callable, Dict, List, Optional, Tuple

from dualasr.synth.hangul import Syllable, rewrite_each, rewrite_pairs

# Final consonants grouped by the stop they neutralise to (and nasalise from).
K_CLASS = {"ㄱ", "ㄲ", "ㅋ", "ㄳ", "ㄺ"}
T_CLASS = {"ㄷ", "ㅅ", "ㅆ", "ㅈ", "ㅊ", "ㅌ", "ㅎ"}
P_CLASS = {"ㅂ", "ㅍ", "ㄼ", "ㄿ", "ㅄ"}
NASAL_OF = {**{f: "ㅇ" for f in K_CLASS}, **{f: "ㄴ" for f in T_CLASS}, **{f: "ㅁ" for f in P_CLASS}}
# Two-letter finals: (stays, moves to the next syllable in liaison).
CLUSTERS = {"ㄳ": ("ㄱ", "ㅅ"), "ㄵ": ("ㄴ", "ㅈ"), "ㄶ": ("ㄴ", "ㅎ"), "ㄺ": ("ㄹ", "ㄱ"),
            "ㄻ": ("ㄹ", "ㅁ"), "ㄼ": ("ㄹ", "ㅂ"), "ㄽ": ("ㄹ", "ㅅ"), "ㄾ": ("ㄹ", "ㅌ"),
            "ㄿ": ("ㄹ", "ㅍ"), "ㅀ": ("ㄹ", "ㅎ"), "ㅄ": ("ㅂ", "ㅅ")}
# What is left of a final that ends in ㅎ once the ㅎ goes.
WITHOUT_H = {"ㅎ": "", "ㄶ": "ㄴ", "ㅀ": "ㄹ"}
ASPIRATED = {"ㄱ": "ㅋ", "ㄷ": "ㅌ", "ㅂ": "ㅍ", "ㅈ": "ㅊ"}
TENSE = {"ㄱ": "ㄲ", "ㄷ": "ㄸ", "ㅂ": "ㅃ", "ㅅ": "ㅆ", "ㅈ": "ㅉ"}
# Finals after which a plain initial becomes tense: obstruents, and the verb-stem clusters ㄵ ㄻ ㄾ.
TENSING_FINALS = (K_CLASS | T_CLASS | P_CLASS | {"ㄵ", "ㄻ", "ㄾ", "ㄽ"}) - {"ㅎ"}
NEUTRAL = {**{f: "ㄱ" for f in K_CLASS}, **{f: "ㄷ" for f in T_CLASS}, **{f: "ㅂ" for f in P_CLASS},
           "ㄵ": "ㄴ", "ㄶ": "ㄴ", "ㄻ": "ㅁ", "ㄽ": "ㄹ", "ㄾ": "ㄹ", "ㅀ": "ㄹ"}


def palatalisation(text: str) -> str:
    """구개음화: final ㄷ/ㅌ before 이 (or 히) becomes initial ㅈ/ㅊ.

    >>> palatalisation("같이"), palatalisation("굳이"), palatalisation("굳히다"), palatalisation("밭이")
    ('가치', '구지', '구치다', '바치')
    """
    def change(a: Syllable, b: Syllable) -> None:
        if a[2] in ("ㄷ", "ㅌ", "ㄾ") and b[1] == "ㅣ" and b[0] in ("ㅇ", "ㅎ"):
            b[0] = "ㅈ" if a[2] == "ㄷ" and b[0] == "ㅇ" else "ㅊ"
            a[2] = "ㄹ" if a[2] == "ㄾ" else ""
    return rewrite_pairs(text, change)


def aspiration(text: str) -> str:
    """격음화: ㅎ next to ㄱ/ㄷ/ㅂ/ㅈ (either order) merges into ㅋ/ㅌ/ㅍ/ㅊ.

    >>> aspiration("축하"), aspiration("좋고"), aspiration("많다"), aspiration("입학")
    ('추카', '조코', '만타', '이팍')
    >>> aspiration("생각해요"), aspiration("깨끗해요"), aspiration("밝히다"), aspiration("앉히다")
    ('생가캐요', '깨끄태요', '발키다', '안치다')
    """
    def change(a: Syllable, b: Syllable) -> None:
        if a[2] in WITHOUT_H and b[0] in ("ㄱ", "ㄷ", "ㅈ"):
            a[2], b[0] = WITHOUT_H[a[2]], ASPIRATED[b[0]]
        elif b[0] == "ㅎ" and a[2]:
            stays, last = CLUSTERS.get(a[2], ("", a[2]))
            if last != "ㅈ":  # ㅈ+ㅎ -> ㅊ; other finals first reduce to their stop (ㅅ+ㅎ -> ㅌ)
                last = NEUTRAL.get(last, last)
            if last in ASPIRATED:
                a[2], b[0] = stays, ASPIRATED[last]
    return rewrite_pairs(text, change)


def h_deletion(text: str) -> str:
    """ㅎ 탈락: final ㅎ (ㄶ, ㅀ) is silent before a vowel, makes ㅅ tense, and turns to ㄴ before ㄴ.

    >>> h_deletion("좋아"), h_deletion("싫어"), h_deletion("좋습니다"), h_deletion("놓는"), h_deletion("않네")
    ('조아', '실어', '조씁니다', '논는', '안네')
    """
    def change(a: Syllable, b: Syllable) -> None:
        if a[2] not in WITHOUT_H:
            return
        if b[0] == "ㅇ":
            a[2] = WITHOUT_H[a[2]]
        elif b[0] == "ㅅ":
            a[2], b[0] = WITHOUT_H[a[2]], "ㅆ"
        elif b[0] == "ㄴ":
            a[2] = "ㄴ" if a[2] == "ㅎ" else WITHOUT_H[a[2]]
    return rewrite_pairs(text, change)


def liaison(text: str) -> str:
    """연음: a final consonant moves to a following vowel-initial syllable (ㅇ stays; ㅎ is left
    to :func:`h_deletion`). Of a two-letter final only the second letter moves.

    >>> liaison("먹어요"), liaison("있어요"), liaison("읽어요"), liaison("없어요"), liaison("강아지")
    ('머거요', '이써요', '일거요', '업서요', '강아지')
    """
    def change(a: Syllable, b: Syllable) -> None:
        if b[0] == "ㅇ" and a[2] not in ("", "ㅇ", "ㅎ", "ㄶ", "ㅀ"):
            a[2], b[0] = CLUSTERS.get(a[2], ("", a[2]))
    return rewrite_pairs(text, change)


def tensing(text: str) -> str:
    """경음화: a plain ㄱ/ㄷ/ㅂ/ㅅ/ㅈ after an obstruent final becomes tense.

    >>> tensing("학교"), tensing("업서요"), tensing("꽃집"), tensing("앉고")
    ('학꾜', '업써요', '꽃찝', '앉꼬')
    """
    def change(a: Syllable, b: Syllable) -> None:
        if a[2] in TENSING_FINALS and b[0] in TENSE:
            b[0] = TENSE[b[0]]
    return rewrite_pairs(text, change)


def nasalisation(text: str) -> str:
    """비음화: an obstruent final before ㄴ/ㅁ becomes ㅇ/ㄴ/ㅁ; ㄹ after ㅁ/ㅇ (and after ㄱ/ㅂ,
    which then nasalise too) becomes ㄴ.

    >>> nasalisation("국물"), nasalisation("먹는"), nasalisation("합니다"), nasalisation("종로"), nasalisation("국립")
    ('궁물', '멍는', '함니다', '종노', '궁닙')
    """
    def change(a: Syllable, b: Syllable) -> None:
        if b[0] in ("ㄴ", "ㅁ") and a[2] in NASAL_OF:
            a[2] = NASAL_OF[a[2]]
        elif b[0] == "ㄹ" and a[2] in ("ㅁ", "ㅇ"):
            b[0] = "ㄴ"
        elif b[0] == "ㄹ" and a[2] in K_CLASS | P_CLASS:
            a[2], b[0] = NASAL_OF[a[2]], "ㄴ"
    return rewrite_pairs(text, change)


def lateralisation(text: str) -> str:
    """유음화: ㄴ next to ㄹ (either order) is pronounced ㄹ.

    >>> lateralisation("신라"), lateralisation("설날"), lateralisation("연락"), lateralisation("핥네")
    ('실라', '설랄', '열락', '할레')
    """
    def change(a: Syllable, b: Syllable) -> None:
        if a[2] == "ㄴ" and b[0] == "ㄹ":
            a[2] = "ㄹ"
        elif a[2] in ("ㄹ", "ㄾ", "ㅀ") and b[0] == "ㄴ":
            a[2], b[0] = "ㄹ", "ㄹ"
    return rewrite_pairs(text, change)


def coda_neutralisation(text: str) -> str:
    """음절의 끝소리 규칙: a final not followed by a vowel is one of ㄱㄴㄷㄹㅁㅂㅇ (clusters keep one).

    >>> coda_neutralisation("꽃"), coda_neutralisation("닭꼬기"), coda_neutralisation("있따"), coda_neutralisation("옷이")
    ('꼳', '닥꼬기', '읻따', '옷이')
    """
    def change(_prev: Optional[Syllable], s: Syllable, nxt: Optional[Syllable]) -> None:
        if nxt is None or nxt[0] != "ㅇ":
            s[2] = NEUTRAL.get(s[2], s[2])
    return rewrite_each(text, change)


STANDARD_RULES: List[Callable[[str], str]] = [
    palatalisation, aspiration, h_deletion, liaison, tensing, nasalisation, lateralisation,
    coda_neutralisation,
]


def standard_pronunciation(text: str) -> str:
    """Apply all standard rules in order: spelling -> pronunciation form.

    >>> standard_pronunciation("저는 학교에서 국물을 먹었습니다")
    '저는 학꾜에서 궁무를 머걷씀니다'
    >>> standard_pronunciation("친구와 같이 설날에 떡볶이를 먹어요")
    '친구와 가치 설라레 떡뽀끼를 머거요'
    """
    for rule in STANDARD_RULES:
        text = rule(text)
    return text


PLAIN_OF = {"ㄲ": "ㄱ", "ㄸ": "ㄷ", "ㅃ": "ㅂ", "ㅆ": "ㅅ", "ㅉ": "ㅈ",
            "ㅋ": "ㄱ", "ㅌ": "ㄷ", "ㅍ": "ㅂ", "ㅊ": "ㅈ"}
VOWEL_MERGERS: Dict[str, str] = {}
for _x, _y in [("ㅓ", "ㅗ"), ("ㅐ", "ㅔ"), ("ㅡ", "ㅜ"), ("ㅕ", "ㅛ"), ("ㅒ", "ㅖ"), ("ㅙ", "ㅞ")]:
    VOWEL_MERGERS[_x], VOWEL_MERGERS[_y] = _y, _x
VOWEL_MERGERS.update({"ㅢ": "ㅣ", "ㅚ": "ㅞ"})


# Learner errors that espeak-ng would not voice: the audio would say the standard form while the surface
# label says the error, a label no model can learn from the sound. Found by rendering every single
# learner error of 300 sampled sentences with `espeak-ng -v ko -q -x` (phonemes) beside the sentence
# without it; tests/test_synth_rules_ko.py repeats that check. The error is still drawn at such a site,
# only not made, so a corpus seed draws the same errors everywhere else.
# - espeak-ng tenses a plain ㄷ/ㅂ/ㅅ after a final ㄱ/ㄷ/ㅂ inside a word (학세 and 학쎄 are both h'aqs-e;
#   ㄱ/ㅈ after those finals and every initial after other finals or across a space it reads as written);
RETENSING_FINALS = {"ㄱ", "ㄷ", "ㅂ"}
RETENSED = {"ㄸ", "ㅃ", "ㅆ"}
# - ㅚ and ㅞ are both [we], in espeak-ng as in today's standard Korean.
UNVOICED_VOWEL_ERRORS = {"ㅚ"}


def tense_aspirated_to_plain(text: str, rng: random.Random, p: float) -> str:
    """Learner error: each tense or aspirated initial becomes plain with probability ``p``, except a
    tense ㄸ/ㅃ/ㅆ after a final ㄱ/ㄷ/ㅂ of the same word, which espeak-ng tenses again (above).

    >>> tense_aspirated_to_plain("학꾜에서 추카해요", random.Random(0), 1.0)
    '학교에서 주가해요'
    >>> tense_aspirated_to_plain("학꾜", random.Random(0), 0.0)
    '학꾜'
    >>> tense_aspirated_to_plain("학쌩 싸요 읻따", random.Random(0), 1.0)
    '학쌩 사요 읻따'
    """
    def change(prev: Optional[Syllable], s: Syllable, _nxt: Optional[Syllable]) -> None:
        if s[0] in PLAIN_OF and rng.random() < p:
            if not (prev is not None and prev[2] in RETENSING_FINALS and s[0] in RETENSED):
                s[0] = PLAIN_OF[s[0]]
    return rewrite_each(text, change)


def drop_final(text: str, rng: random.Random, p: float) -> str:
    """Learner error: each final consonant is dropped with probability ``p``.

    >>> drop_final("궁물 먹꼬", random.Random(0), 1.0)
    '구무 머꼬'
    """
    def change(_prev: Optional[Syllable], s: Syllable, _nxt: Optional[Syllable]) -> None:
        if s[2] and rng.random() < p:
            s[2] = ""
    return rewrite_each(text, change)


def vowel_merger(text: str, rng: random.Random, p: float) -> str:
    """Learner error: confusable vowels swap (ㅓ/ㅗ, ㅐ/ㅔ, ㅡ/ㅜ, ㅕ/ㅛ, ㅒ/ㅖ, ㅙ/ㅞ; ㅢ->ㅣ) with
    probability ``p`` each. ㅚ->ㅞ is drawn but not made: both are [we] (above).

    >>> vowel_merger("거기 개 그림 의사 외", random.Random(0), 1.0)
    '고기 게 구림 이사 외'
    """
    def change(_prev: Optional[Syllable], s: Syllable, _nxt: Optional[Syllable]) -> None:
        if s[1] in VOWEL_MERGERS and rng.random() < p and s[1] not in UNVOICED_VOWEL_ERRORS:
            s[1] = VOWEL_MERGERS[s[1]]
    return rewrite_each(text, change)


# (rule, share of the utterance's error rate used as its probability)
LEARNER_RULES: List[Tuple[Callable[[str, random.Random, float], str], float]] = [
    (tense_aspirated_to_plain, 1.0), (drop_final, 0.6), (vowel_merger, 0.6),
]


def surface_ko(meaning: str, rate: float, rng: random.Random) -> str:
    """Surface form of a Korean sentence: standard pronunciation, then learner errors at ``rate``.

    >>> surface_ko("같이 먹어요", 0.0, random.Random(0))
    '가치 머거요'
    """
    text = standard_pronunciation(meaning)
    for rule, share in LEARNER_RULES:
        text = rule(text, rng, rate * share)
    return text
