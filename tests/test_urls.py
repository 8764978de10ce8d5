"""Page addresses come from one module (cnnt/site/urls.py): no template, script or other module builds one
by hand. (That every link resolves is tests/test_build.py's `test_every_internal_link_resolves`.)"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import ROOT

from cnnt.site import urls

SECTION_WORDS = "|".join(re.escape(name) for name in (*urls.SECTIONS, "products", "cards", "page"))
TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))
SCRIPTS = sorted([*(ROOT / "static").glob("*.js"), *(ROOT / "cnnt").rglob("*.js")])  # the editor's editor.js too
MODULES = sorted([ROOT / "build.py", *(path for path in (ROOT / "cnnt").rglob("*.py") if path.name != "urls.py")])

# After `{{ root }}` (a language's root) only an address from urls.py may follow; after `{{ assets }}`
# (the site's root) that or a static file.
AFTER_ROOT = re.compile(r"\{\{ root \}\}(?!\{\{|[\"'])")
AFTER_ASSETS = re.compile(r"\{\{ assets \}\}(?!\{\{|static/|sw\.js|[\"'])")
# A link written out: href/src/action whose value starts with a path, not an expression or a scheme.
WRITTEN_LINK = re.compile(r"""\b(?:href|src|action)=["'](?!\{\{|\{%|https?:|mailto:|tel:|#|data:|\./["'])[^"']""")
# A path in a script or module: a string that starts with a section of the site and a slash.
PATH_LITERAL = re.compile(rf"""(?<![\w/.])(?:f|rf|fr)?["'](?:{SECTION_WORDS})/""")


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


@pytest.mark.parametrize("template", TEMPLATES, ids=relative)
def test_templates_take_addresses_from_urls(template):
    text = template.read_text(encoding="utf-8")
    for pattern in (AFTER_ROOT, AFTER_ASSETS, WRITTEN_LINK):
        found = [text[m.start(): m.start() + 60] for m in pattern.finditer(text)]
        assert not found, f"{relative(template)} builds an address by hand: {found}"
    # and inside an expression: `qr("products/" ~ product.slug ~ "/", lang)`
    written = [text[max(0, m.start() - 30): m.start() + 40] for m in PATH_LITERAL.finditer(text)]
    assert not written, f"{relative(template)} builds an address by hand: {written}"


@pytest.mark.parametrize("source", SCRIPTS + MODULES, ids=relative)
def test_scripts_and_modules_take_addresses_from_urls(source):
    text = source.read_text(encoding="utf-8")
    found = [text[max(0, m.start() - 30): m.start() + 40] for m in PATH_LITERAL.finditer(text)]
    assert not found, f"{relative(source)} writes an address by hand: {found}"


def test_the_checks_catch_what_they_are_for():
    """The patterns above find the hand-built addresses this project used to have."""
    assert AFTER_ROOT.search('<a href="{{ root }}products/{{ product.slug }}/">')
    assert AFTER_ASSETS.search('<a href="{{ assets }}data/catalogue.xlsx">')
    assert WRITTEN_LINK.search('<a href="a5/">A5</a>')
    assert PATH_LITERAL.search("escapeHtml(links + 'products/' + doc.slug + '/')")
    assert PATH_LITERAL.search('cards[f"facilities/{facility.slug}"] = card')
    assert PATH_LITERAL.search('{% set code = qr("products/" ~ product.slug ~ "/", lang) %}')
    assert not AFTER_ROOT.search('<a href="{{ root }}{{ urls.product(product) }}">')
    assert not PATH_LITERAL.search('content_dir / "products"')


def test_addresses():
    class Entry:
        slug = "keo-dua"
    assert urls.product(Entry()) == "products/keo-dua/" and urls.facility(Entry()) == "facilities/keo-dua/"
    assert urls.vcard(Entry()) == "facilities/keo-dua/keo-dua.vcf"
    assert urls.term("markets", "JP") == "markets/jp/" and urls.page("a-z/", 1) == "a-z/"
    assert urls.page("a-z/", 3) == "a-z/page/3/"
    assert urls.printed_fair(Entry()) == "print/fairs/keo-dua/" and urls.printed("groups", "food", "a5") == "print/groups/food/a5/"
    assert urls.feed("en") == "en/feed.xml" and urls.patterns()["product"] == "products/{slug}/"
    with pytest.raises(ValueError):
        urls.section("nowhere")
