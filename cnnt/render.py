"""Render stage: Jinja templates (autoescaped, StrictUndefined) turn each Page into HTML."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from urllib.parse import urlsplit

import jinja2
import yaml

from .config import SiteConfig
from .model import Catalogue, Localized
from .pages import Page, facility_path, lang_prefix, letter_anchor, product_path
from .text import initial
from .vocab import Term, Vocabularies

STRINGS_FILE = Path(__file__).resolve().parent / "vocabularies" / "ui_strings.yaml"


def load_strings(path: Path = STRINGS_FILE) -> dict[str, dict[str, str]]:
    """UI strings: key → {vi, en}. Both languages are required (a test checks every key)."""
    with path.open(encoding="utf-8") as stream:
        return yaml.safe_load(stream)


class Renderer:
    """Holds the Jinja environment and the site-wide values every template can use."""

    def __init__(self, templates_dir: Path, config: SiteConfig, vocab: Vocabularies, catalogue: Catalogue) -> None:
        self.strings = load_strings()
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(templates_dir),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.globals.update(
            config=config, vocab=vocab, catalogue=catalogue, build_date=catalogue.build_date,
            t=self.translate, url=relative_url, asset=asset_url, tr=localize, lang_prefix=lang_prefix,
            product_path=product_path, facility_path=facility_path,
        )
        self.env.filters.update(date=format_date, number=format_number, initial=initial, letter_anchor=letter_anchor)

    @jinja2.pass_context
    def translate(self, context: jinja2.runtime.Context, key: str, **values: object) -> str:
        text = self.strings[key][context["lang"]]
        return text.format(**values) if values else text

    def render(self, page: Page) -> str:
        template = self.env.get_template(page.template)
        return template.render(page=page, lang=page.lang, **page.context)


@jinja2.pass_context
def relative_url(context: jinja2.runtime.Context, target: str, lang: str | None = None) -> str:
    """A link from the current page to `target` (a root-relative path), working under any subpath."""
    page: Page = context["page"]
    prefix = lang_prefix(lang if lang is not None else context["lang"])
    if page.served_anywhere:
        return urlsplit(context["config"].base_url).path + prefix + target
    return "../" * page.url.count("/") + prefix + target or "./"


@jinja2.pass_context
def asset_url(context: jinja2.runtime.Context, target: str) -> str:
    """A link to a file shared by all languages (CSS, images), which has no language prefix."""
    return relative_url(context, target, lang="vi")


@jinja2.pass_context
def localize(context: jinja2.runtime.Context, value: Localized | Term | str | None) -> str:
    lang = context["lang"]
    if isinstance(value, Localized):
        return value.get(lang)
    if isinstance(value, Term):
        return value.name(lang)
    return value or ""


@jinja2.pass_context
def format_date(context: jinja2.runtime.Context, value: dt.date) -> str:
    return value.strftime("%d/%m/%Y") if context["lang"] == "vi" else value.strftime("%-d %b %Y")


@jinja2.pass_context
def format_number(context: jinja2.runtime.Context, value: float) -> str:
    text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
    return text.translate(str.maketrans(",.", ".,")) if context["lang"] == "vi" else text
