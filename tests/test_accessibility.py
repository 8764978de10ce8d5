"""Colour contrast of every text/background pair the stylesheet uses meets WCAG AA (4.5:1)."""
import re
from pathlib import Path

import pytest

CSS = (Path(__file__).resolve().parent.parent / "static" / "style.css").read_text()
VARIABLES = dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})", CSS))

# (text, background, where)
PAIRS = [
    ("ink", "paper", "body text"),
    ("muted", "paper", "notes, card details"),
    ("muted", "soft", "footer, contact box notes"),
    ("link", "paper", "links"),
    ("link", "soft", "links in the footer"),
    ("brand-ink", "brand", "header and buttons"),
    ("#ffffff", "national", "national badge"),
    ("#ffffff", "regional", "regional badge"),
    ("#ffffff", "provincial", "provincial badge"),
    ("#ffffff", "commune", "commune badge"),
    ("#ffffff", "expired", "expired badge"),
    ("muted", "soft", "no-award badge"),
    ("ink", "paper", "declared award badge"),
    ("#16632f", "paper", "verified award note"),
    ("#ffffff", "#0a5bc4", "Zalo button"),
    ("#8a5a00", "paper", "OCOP stars"),
    ("brand", "soft", "figures on the home page"),
]


def colour(name: str) -> str:
    return name if name.startswith("#") else VARIABLES[name]


def luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_pairs_are_the_stylesheets_own():
    for text, background, _ in PAIRS:
        for name in (text, background):
            assert name.startswith("#") and name.lower() in CSS.lower() or name in VARIABLES, name


@pytest.mark.parametrize("text,background,where", PAIRS)
def test_contrast_meets_wcag_aa(text, background, where):
    assert contrast(colour(text), colour(background)) >= 4.5, where
