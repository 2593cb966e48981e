"""Korean surface rules of the embedded corpus: every rule on known examples, plus properties."""

import doctest
import random

import pytest

from dualasr.synth import hangul, rules_ko
from dualasr.synth.rules_ko import (LEARNER_RULES, STANDARD_RULES, aspiration, coda_neutralisation,
                                    drop_final, h_deletion, lateralisation, liaison, nasalisation,
                                    palatalisation, standard_pronunciation, surface_ko,
                                    tense_aspirated_to_plain, tensing, vowel_merger)


@pytest.mark.parametrize("module", [hangul, rules_ko])
def test_doctests(module):
    result = doctest.testmod(module)
    assert result.attempted >= 3 and result.failed == 0


def test_every_rule_has_examples():
    for rule in STANDARD_RULES + [r for r, _ in LEARNER_RULES]:
        assert ">>>" in (rule.__doc__ or ""), rule.__name__


def test_syllable_round_trip():
    for code in range(0xAC00, 0xD7A4):
        assert hangul.compose(*hangul.decompose(chr(code))) == chr(code)
    assert hangul.decompose("ㄱ") is None and hangul.decompose(" ") is None


@pytest.mark.parametrize("rule, spelling, pronounced", [
    (liaison, "먹어", "머거"), (liaison, "옷이", "오시"), (liaison, "앉아요", "안자요"), (liaison, "밖에", "바께"),
    (nasalisation, "국물", "궁물"), (nasalisation, "먹는", "멍는"), (nasalisation, "없는", "엄는"),
    (nasalisation, "협력", "혐녁"), (nasalisation, "심리", "심니"),
    (palatalisation, "같이", "가치"), (palatalisation, "굳이", "구지"), (palatalisation, "해돋이", "해도지"),
    (tensing, "학교", "학꾜"), (tensing, "먹고", "먹꼬"), (tensing, "옷가게", "옷까게"), (tensing, "넓다", "넓따"),
    (aspiration, "축하", "추카"), (aspiration, "좋고", "조코"), (aspiration, "못해요", "모태요"),
    (aspiration, "싫다", "실타"), (aspiration, "급히", "그피"),
    (h_deletion, "좋아", "조아"), (h_deletion, "많아", "만아"), (h_deletion, "많습니다", "만씁니다"),
    (lateralisation, "신라", "실라"), (lateralisation, "일년", "일련"), (lateralisation, "난로", "날로"),
    (coda_neutralisation, "부엌", "부억"), (coda_neutralisation, "앞", "압"), (coda_neutralisation, "값", "갑"),
])
def test_standard_rule(rule, spelling, pronounced):
    assert rule(spelling) == pronounced


@pytest.mark.parametrize("spelling, pronounced", [
    ("먹어요", "머거요"), ("국물", "궁물"), ("먹는", "멍는"), ("같이", "가치"), ("굳이", "구지"),
    ("학교", "학꾜"), ("축하", "추카"), ("좋고", "조코"), ("좋아", "조아"), ("신라", "실라"),
    ("없어요", "업써요"), ("읽었어요", "일거써요"), ("괜찮아요", "괜차나요"), ("좋습니다", "조씀니다"),
    ("닭고기", "닥꼬기"), ("떡볶이", "떡뽀끼"), ("생각해요", "생가캐요"), ("박물관", "방물관"),
    ("싫네요", "실레요"), ("맑아요", "말가요"), ("꽃이", "꼬치"), ("있습니다", "읻씀니다"), ("종로에", "종노에"),
    ("한국어를 공부합니다", "한구거를 공부함니다"),
])
def test_standard_pronunciation(spelling, pronounced):
    assert standard_pronunciation(spelling) == pronounced


def test_rules_stay_inside_a_word():
    # liaison and nasalisation do not cross a space; non-Hangul text passes through untouched
    assert standard_pronunciation("먹 어요 국 물") == "먹 어요 국 물"
    assert standard_pronunciation("abc 123") == "abc 123"


def test_standard_rules_are_idempotent_on_their_output():
    for text in ["저는 학교에서 국물을 먹었습니다", "친구와 같이 설날에 떡볶이를 먹어요", "날씨가 정말 좋네요"]:
        once = standard_pronunciation(text)
        assert standard_pronunciation(once) == once


@pytest.mark.parametrize("rule, text, expected", [
    (tense_aspirated_to_plain, "까따빠싸짜카타파차", "가다바사자가다바자"),
    (drop_final, "각난닫", "가나다"),
    (vowel_merger, "어오애에으우여요얘예의", "오어에애우으요여예얘이"),
])
def test_learner_errors_at_p1_and_p0(rule, text, expected):
    assert rule(text, random.Random(0), 1.0) == expected
    assert rule(text, random.Random(0), 0.0) == text


def test_learner_error_rate_follows_p():
    text = "까" * 2000
    changed = tense_aspirated_to_plain(text, random.Random(3), 0.3).count("가")
    assert 500 < changed < 700


def test_surface_is_deterministic_and_grows_with_rate():
    text = "외국인 학생들은 가끔 도서관에서 잡지를 샀어요"
    assert surface_ko(text, 0.7, random.Random(5)) == surface_ko(text, 0.7, random.Random(5))
    assert surface_ko(text, 0.0, random.Random(5)) == standard_pronunciation(text)
    assert surface_ko(text, 1.0, random.Random(5)) != standard_pronunciation(text)


class _OneSite:
    """An rng whose draws make an error at the ``i``-th candidate site only."""

    def __init__(self, i: int):
        self.i, self.n = i, 0

    def random(self) -> float:
        self.n += 1
        return 0.0 if self.n - 1 == self.i else 0.999


def test_espeak_ng_voices_every_learner_error():
    # each learner error of sampled sentences, made alone, must change espeak-ng's phonemes: a surface
    # label that the audio does not carry cannot be learned (학세 is spoken as 학쎄)
    import shutil
    import subprocess

    from dualasr.synth.sentences import sample_sentences

    espeak = shutil.which("espeak-ng")
    assert espeak, "espeak-ng is not installed (the install step adds it)"
    pairs = []
    for meaning in sample_sentences("ko", 300, random.Random(5)):
        standard = standard_pronunciation(meaning)
        for rule, _ in LEARNER_RULES:
            i = 0
            while True:
                rng = _OneSite(i)
                erred = rule(standard, rng, 0.5)
                if i >= rng.n:
                    break
                if erred != standard:
                    pairs.append((rule.__name__, standard, erred))
                i += 1
    assert len(pairs) > 1000

    def phonemes(texts):
        out = subprocess.run([espeak, "-v", "ko", "-q", "-x"], input="\n".join(texts) + "\n",
                             capture_output=True, text=True, check=True).stdout
        return out.rstrip("\n").split("\n")

    before, after = phonemes([p[1] for p in pairs]), phonemes([p[2] for p in pairs])
    assert len(before) == len(after) == len(pairs)
    silent = [(name, a, b) for (name, a, b), x, y in zip(pairs, before, after) if x == y]
    assert not silent, f"{len(silent)} of {len(pairs)} learner errors espeak-ng does not voice, e.g. {silent[:3]}"
