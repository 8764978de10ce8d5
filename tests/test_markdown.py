"""Descriptions: the plain-prose fast path must give exactly what Markdown gives, and HTML is safe."""
import random
import re
from pathlib import Path

import markdown
import pytest

from cnnt.content.markdown import plain_paragraphs, render_markdown

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = markdown.Markdown(extensions=["sane_lists", "tables"], output_format="html")


def reference(source: str) -> str:
    REFERENCE.reset()
    return REFERENCE.convert(source)


def bodies() -> list[str]:
    """Every description in the sample catalogue and a synthetic one."""
    import sys
    sys.path.insert(0, str(ROOT / "bench"))
    import generate
    texts = [path.read_text(encoding="utf-8").split("---", 2)[-1] for path in (ROOT / "content").rglob("*.md")]
    rng = random.Random(7)
    texts += [generate.description(rng, generate.SENTENCES, "Bánh phồng tôm") for _ in range(300)]
    return texts


def test_fast_path_matches_markdown_on_real_and_synthetic_text():
    taken = 0
    for text in bodies():
        fast = plain_paragraphs(text)
        if fast is not None:
            taken += 1
            assert fast == reference(text), text
    assert taken > 100  # the fast path is really used


ALPHABET = list("aăâbcdđeêghiklmnoôơpqrstuưvxyÀÁẢÃẠàáảãạ ,.;:?!'\"()/{}=~%$@^0123456789-+#>*_`[]<>&|\\\t") + ["\n", "\n\n", "  \n", "\n   \n"]


@pytest.mark.parametrize("seed", range(40))
def test_fast_path_never_disagrees_with_markdown_on_random_text(seed):
    rng = random.Random(seed)
    for _ in range(200):
        text = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 80)))
        fast = plain_paragraphs(text)
        if fast is not None:
            assert fast == reference(text), repr(text)


PROSE_PIECES = ["chữ", "đậm", "Cà Mau", "2025", " ", " ", " ", ".", ",", "(", ")", "!", "'", '"', "\n", "\n\n",
                "**tôm**", "**bánh phồng**", "**2025**", "**Cà Mau.**"]
ODD_PIECES = ["**", "*", "_", "#", "-", "** a**", "**a **", "x**y**", "`", "&", "1. ", "> ", "  \n", "[", "|"]


@pytest.mark.parametrize("seed", range(40))
def test_bold_fast_path_never_disagrees_with_markdown(seed):
    rng = random.Random(seed)
    taken = 0
    for _ in range(300):
        text = "".join(rng.choice(ODD_PIECES if rng.random() < 0.05 else PROSE_PIECES) for _ in range(rng.randint(1, 25)))
        fast = plain_paragraphs(text)
        if fast is not None:
            taken += "<strong>" in fast
            assert fast == reference(text), repr(text)
    assert taken > 3  # bold text really takes the fast path


def test_bold_words_take_the_fast_path():
    assert plain_paragraphs("Tôm **tươi** mỗi ngày (**100%**).") == "<p>Tôm <strong>tươi</strong> mỗi ngày (<strong>100%</strong>).</p>"


def test_markdown_syntax_takes_the_full_path():
    for text in ["**đậm**x", "*nghiêng*", "**a\nb**", "- một\n- hai", "1. một", "# Tiêu đề", "a & b", "x  \ny", "    mã", "a | b", "[x](y)"]:
        assert plain_paragraphs(text) is None, text


def test_headings_are_shifted_below_the_page_title():
    assert render_markdown("# A\n\n## B") == "<h2>A</h2>\n<h3>B</h3>"


def test_unsafe_html_is_removed():
    html = render_markdown('<script>alert(1)</script><img src=x onerror=alert(1)> [a](javascript:alert(1)) <b>ok</b>')
    assert "<script" not in html and "onerror" not in html and "javascript:" not in html and "<img" not in html
    assert re.search(r"<b>ok</b>", html)


PROSE = list("aăâbcdđeêghiklmnoôơpqrstuưvxyÀÁẢÃẠàáảãạ ,.;:?!'\"()/{}=~%$@^0123456789-+#") + ["\n", "\n\n"]


@pytest.mark.parametrize("seed", range(40))
def test_fast_path_matches_markdown_on_random_prose(seed):
    rng = random.Random(1000 + seed)
    taken = 0
    for _ in range(200):
        text = "".join(rng.choice(PROSE) for _ in range(rng.randint(1, 120)))
        fast = plain_paragraphs(text)
        if fast is not None:
            taken += 1
            assert fast == reference(text), repr(text)
    assert taken > 20


def test_plain_text_keeps_words_and_drops_markup():
    from cnnt.content.markdown import plain_text
    html = render_markdown("**Tôm** & [cá](https://example.com/p?q=1) <b>x</b>")
    assert plain_text(html).split() == ["Tôm", "&", "cá", "x"]
