"""Light text clean-up shared by the real-corpus preparations (``local/``).

Both outputs of a corpus go through the same function, so surface and meaning differ only in what
was said, never in punctuation or case.
"""

from __future__ import annotations

import re
import unicodedata

# A period or comma is kept between two digits (3.5, 1,000); elsewhere it is punctuation.
_KO_PUNCT = re.compile(r"(?<!\d)[.,]|[.,](?!\d)|[?!\"“”‘’'…·~;:「」『』]")
_EN_NOT_WORD = re.compile(r"[^\w\s']|_")
_EN_QUOTE = re.compile(r"(?<!\w)'|'(?!\w)")


def collapse(text: str) -> str:
    """Collapse runs of whitespace to one space and strip the ends."""
    return " ".join(text.split())


def normalize_ko(text: str) -> str:
    """Korean: NFC, drop sentence punctuation and quotes; digits, ``%`` and Latin letters stay."""
    return collapse(_KO_PUNCT.sub(" ", unicodedata.normalize("NFC", text)))


def normalize_en(text: str) -> str:
    """English: NFKC, lowercase, punctuation and hyphens to spaces; apostrophes inside words stay.

    ``"Don't -- it's Philip's!"`` becomes ``"don't it's philip's"``.
    """
    text = unicodedata.normalize("NFKC", text).lower().replace("\u2019", "'")
    return collapse(_EN_QUOTE.sub(" ", _EN_NOT_WORD.sub(" ", text)))
