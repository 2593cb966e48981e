"""English surface rules: a Korean learner's English, respelled in ordinary letters.

Input is lowercase words separated by single spaces. Each rule fires at each candidate site with
probability ``p`` drawn from ``rng``; with ``p = 1`` it is deterministic, which the examples use.
The rules work on spelling, not phones (no dictionary is needed, and the result stays readable
for espeak-ng): "i think so" -> "i sink so".
"""

from __future__ import annotations

import random
import re
from typing import Callable, List, Tuple

ARTICLES = {"a", "an", "the"}
# Words whose "th" is voiced (-> d); every other "th" is voiceless (-> s).
VOICED_TH = {
    "the", "this", "that", "these", "those", "they", "them", "their", "there", "then", "than",
    "though", "with", "mother", "father", "brother", "other", "others", "weather", "together",
    "feather", "leather", "rather", "either", "neither", "smooth", "clothes", "southern",
    "northern", "bathe", "breathe", "without", "grandmother", "grandfather", "brothers",
}
# Short grammatical words never get an epenthetic vowel.
FUNCTION_WORDS = {"is", "was", "has", "his", "its", "it", "at", "but", "and", "did", "had",
                  "of", "off", "if", "that", "with", "as", "us", "yes", "not", "got", "let", "get"}


def _per_match(pattern: str, text: str, rng: random.Random, p: float, repl: Callable[[re.Match], str]) -> str:
    """Replace each match of ``pattern`` by ``repl(match)`` with probability ``p``."""
    return re.sub(pattern, lambda m: repl(m) if rng.random() < p else m.group(0), text)


def drop_articles(text: str, rng: random.Random, p: float) -> str:
    """Drop each article (a, an, the) with probability ``p``; a sentence never becomes empty.

    >>> drop_articles("the farmer fed a zebra", random.Random(0), 1.0)
    'farmer fed zebra'
    """
    words = text.split(" ")
    kept = [w for w in words if not (w in ARTICLES and rng.random() < p)]
    return " ".join(kept) if kept else text


def th_stopping(text: str, rng: random.Random, p: float) -> str:
    """th -> s (voiceless: think -> sink) or d (voiced: the -> de), with probability ``p`` each.

    >>> th_stopping("i think the bath is there", random.Random(0), 1.0)
    'i sink de bas is dere'
    """
    def word(m: re.Match) -> str:
        w = m.group(0)
        to = "d" if w in VOICED_TH else "s"
        return _per_match("th", w, rng, p, lambda _m: to)
    return re.sub(r"[a-z]+", word, text)


def f_to_p(text: str, rng: random.Random, p: float) -> str:
    """f (and ph) -> p, with probability ``p`` each: "coffee" -> "coppee", "phone" -> "pone".

    >>> f_to_p("five fresh coffee phones", random.Random(0), 1.0)
    'pive presh coppee pones'
    """
    return _per_match("ph|f", text, rng, p, lambda _m: "p")


def v_to_b(text: str, rng: random.Random, p: float) -> str:
    """v -> b with probability ``p`` each: "very" -> "bery".

    >>> v_to_b("a very heavy van", random.Random(0), 1.0)
    'a bery heaby ban'
    """
    return _per_match("v", text, rng, p, lambda _m: "b")


def z_to_j(text: str, rng: random.Random, p: float) -> str:
    """z -> j with probability ``p`` each: "zoo" -> "joo".

    >>> z_to_j("the lazy zebra", random.Random(0), 1.0)
    'the lajy jebra'
    """
    return _per_match("z", text, rng, p, lambda _m: "j")


def r_l_confusion(text: str, rng: random.Random, p: float) -> str:
    """r -> l and l -> r (one pass, so a swap is never undone), with probability ``p`` each.

    >>> r_l_confusion("really light rice", random.Random(0), 1.0)
    'learry right lice'
    """
    return _per_match("[rl]", text, rng, p, lambda m: "l" if m.group(0) == "r" else "r")


def epenthetic_vowel(text: str, rng: random.Random, p: float) -> str:
    """Add a vowel after a content word's final obstruent: "bag" -> "baggu" (a short vowel doubles
    the consonant), "desk" -> "desku", "fish" -> "fishi", "box" -> "boksu". Probability ``p`` per word.

    >>> epenthetic_vowel("the big dog ate fish at the desk", random.Random(0), 1.0)
    'the biggu doggu ate fishi at the desku'
    """
    def word(m: re.Match) -> str:
        w = m.group(0)
        if len(w) < 3 or w in FUNCTION_WORDS or w in VOICED_TH:
            return w
        if w.endswith(("ch", "sh", "j", "dge")):
            new = w + "i"
        elif w.endswith("x"):
            new = w[:-1] + "ksu"
        elif re.search(r"(^|[^aeiou])[aeiou][bdgpt]$", w) and not (len(w) > 4 and w.endswith("ed")):
            new = w + w[-1] + "u"
        elif w[-1] in "bdgkpts":
            new = w + "u"
        else:
            return w
        return new if rng.random() < p else w
    return re.sub(r"[a-z]+", word, text)


# (rule, share of the utterance's error rate used as its probability), applied in this order.
LEARNER_RULES: List[Tuple[Callable[[str, random.Random, float], str], float]] = [
    (drop_articles, 0.8), (th_stopping, 1.0), (f_to_p, 1.0), (v_to_b, 1.0), (z_to_j, 1.0),
    (r_l_confusion, 0.5), (epenthetic_vowel, 0.5),
]


def surface_en(meaning: str, rate: float, rng: random.Random) -> str:
    """Surface form of an English sentence with every learner rule at ``rate`` times its share.

    >>> surface_en("i think so", 1.0, random.Random(0))
    'i sink so'
    >>> surface_en("i think so", 0.0, random.Random(0))
    'i think so'
    """
    text = meaning
    for rule, share in LEARNER_RULES:
        text = rule(text, rng, rate * share)
    return text
