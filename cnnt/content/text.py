"""Vietnamese text handling, in one place: NFC, search folding, vocabulary keys, slugs, sort order."""
from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache

# Combining marks that carry a tone (huyền, sắc, hỏi, ngã, nặng) versus those that make a
# different letter (ă, â, ê, ô, ơ, ư). Tone placement differs between the old and new styles
# (hoà/hòa, thuỷ/thủy); letters never do.
TONE_MARKS = {"\u0300": 1, "\u0301": 2, "\u0309": 3, "\u0303": 4, "\u0323": 5}
LETTER_MARKS = {"\u0302", "\u0306", "\u031b"}

# Vietnamese alphabetical order, with the Latin letters Vietnamese lacks slotted in where
# a reader expects them, and digits first.
_ORDER = "0123456789aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
_RANK = {letter: rank for rank, letter in enumerate(_ORDER)}

_SPACES = re.compile(r"\s+")
# Spelled out rather than `\s`, which means different characters in Python and in JavaScript:
# static/search.js folds with exactly this class, and tests/fold_vectors.json keeps the two in step.
_FOLD_SPACES = re.compile("[\t\n\v\f\r \x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]+")
_WORDS = re.compile(r"[^\W_]+")  # letters and digits, as JavaScript's [\p{L}\p{N}]+
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def nfc(text: str) -> str:
    """Return text in Unicode NFC, the form pages show."""
    return unicodedata.normalize("NFC", text)


def fold(text: str) -> str:
    """Fold for search and loose matching: no marks, đ → d, lower case, single spaces.

    The browser's search does the same in static/search.js (`fold`); keep the two in step."""
    return _FOLD_SPACES.sub(" ", unmarked(text).lower()).strip(" ")


def unmarked(text: str) -> str:
    """The text without its marks, đ and Đ as d and D; case and spaces as they were."""
    decomposed = unicodedata.normalize("NFD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.category(ch).startswith("M"))
    return bare.replace("đ", "d").replace("Đ", "D")


def place_name(name: str, lang: str) -> str:
    """A Vietnamese place's name as a page in `lang` writes it: on English pages without marks, as the
    English names of provinces and communes are (`Bến Tre` → `Ben Tre`, `Đắk Nông` → `Dak Nong`)."""
    return unmarked(name) if lang == "en" else name


def search_words(text: str) -> list[str]:
    """The folded words of a text, as search indexes and matches them (`words` in search.js)."""
    # Folded piece by piece, remembering each piece: descriptions repeat their words, and folding
    # character by character is the slow part. A space never belongs to a word, so the words come
    # out the same as from folding the whole text.
    return [word for piece in text.split() for word in _piece_words(piece)]


def distinct_words(text: str) -> set[str]:
    """The set of `search_words(text)`, faster for long texts (each piece folded once)."""
    return {word for piece in set(text.split()) for word in _piece_words(piece)}


@lru_cache(maxsize=200_000)
def _piece_words(piece: str) -> tuple[str, ...]:
    return tuple(_WORDS.findall(fold(piece)))


def _syllable_key(syllable: str) -> str:
    """One word with its tone mark moved to the end, so both placements compare equal."""
    tone = ""
    letters = []
    for ch in unicodedata.normalize("NFD", syllable):
        if ch in TONE_MARKS:
            tone = ch
        else:
            letters.append(ch)
    return unicodedata.normalize("NFC", "".join(letters)) + tone


_PLACEMENT_PAIRS = {
    old: new
    for first, second, marked_first, marked_second in (("o", "a", "òóỏõọ", "àáảãạ"), ("o", "e", "òóỏõọ", "èéẻẽẹ"),
                                                      ("u", "y", "ùúủũụ", "ỳýỷỹỵ"))
    for old, new in ((f"{m1}{second}", f"{first}{m2}") for m1, m2 in zip(marked_first, marked_second))
}
_PLACEMENT_PAIRS.update({new: old for old, new in list(_PLACEMENT_PAIRS.items())})
_PLACEMENT = re.compile("|".join(sorted(_PLACEMENT_PAIRS)))


def other_tone_placement(text: str) -> str:
    """The same words with the tone mark on the other vowel of oa, oe, uy (Hòa ↔ Hoà, Thủy ↔ Thuỷ)."""
    return _PLACEMENT.sub(lambda match: _PLACEMENT_PAIRS[match.group(0)], nfc(text))


def match_key(text: str) -> str:
    """Key for exact vocabulary matching: case, NFC/NFD and tone placement do not matter."""
    words = _SPACES.sub(" ", text.strip().lower()).split(" ")
    return " ".join(_syllable_key(word) for word in words)


@lru_cache(maxsize=1 << 16)  # the same channel, province and place names are slugged for every product
def slugify(text: str) -> str:
    """ASCII slug: `Cà Mau` → `ca-mau`."""
    return _NOT_SLUG.sub("-", fold(text)).strip("-")


SortKey = tuple[tuple[int, ...], tuple[int, ...]]


@cache  # listings sort the same names again and again, in both languages
def sort_key(text: str) -> SortKey:
    """Vietnamese dictionary order: letters first (a < ă < â < b …), then tones (a < à < á < ả < ã < ạ)."""
    # Word by word, each word's key kept: names share most of their words, and decomposing them
    # character by character took 18 µs a name (0.18 s for 10,000 product names; 7 µs now). A mark
    # changes only the letter before it, and a space is never marked, so the words' keys joined
    # by the space's are the key of the whole text, except where a word starts with a mark.
    lowered = text.lower()
    letters: list[int] = []
    tones: list[int] = []
    for number, word in enumerate(lowered.split(" ")):
        if number:
            letters += _SPACE_KEY[0]
            tones += _SPACE_KEY[1]
        part = _word_key(word)
        if part is None:
            return _key_of_lowered(lowered)
        letters += part[0]
        tones += part[1]
    return tuple(letters), tuple(tones)


@lru_cache(maxsize=1 << 16)
def _word_key(word: str) -> SortKey | None:
    """A word's part of `sort_key`, or None when it starts with a combining mark (which would belong
    to the space before)."""
    first = unicodedata.normalize("NFD", word[:1])[:1]
    return None if first and unicodedata.combining(first) else _key_of_lowered(word)


def _key_of_lowered(lowered: str) -> SortKey:
    letters: list[int] = []
    tones: list[int] = []
    for ch in unicodedata.normalize("NFD", lowered):
        if ch in TONE_MARKS:
            tones[-1:] = [TONE_MARKS[ch]]
        elif ch in LETTER_MARKS and letters:
            base = _ORDER[letters[-1]] if 0 <= letters[-1] < len(_ORDER) else ""
            composed = unicodedata.normalize("NFC", base + ch)
            letters[-1] = _RANK.get(composed, letters[-1])
        elif unicodedata.combining(ch):
            continue
        else:
            letters.append(_RANK.get(ch, len(_ORDER) + ord(ch)))
            tones.append(0)
    return tuple(letters), tuple(tones)


_SPACE_KEY = _key_of_lowered(" ")


@lru_cache(maxsize=1 << 16)  # each A–Z page asks for the letter of every name on it, in each language
def initial(text: str) -> str:
    """The letter a name is filed under in an A–Z list (Đ apart from D; tones dropped)."""
    for ch in nfc(text).strip():
        if ch.isalnum():
            letter = _syllable_key(ch.upper())[0]
            return letter if letter.isalpha() else "#"
    return "#"
