"""Render stage: Jinja templates (autoescaped, StrictUndefined) turn each Page into HTML."""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import traceback
import types
from collections.abc import Callable, Iterable, Mapping
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import TypedDict
from urllib.parse import urlsplit

import jinja2
import jinja2.bccache
import jinja2.compiler
import yaml
from jinja2.utils import _PassArg, internalcode
from markupsafe import Markup, escape

try:
    from markupsafe import _escape_inner  # what escape() does to a str, without wrapping it in Markup
except ImportError:  # another markupsafe than the one tested (jinja2 is pinned, markupsafe comes with it)
    def _escape_inner(s: str, /) -> str:
        return str(escape(s))

from ..content.config import SiteConfig
from ..content.errors import BuildFailed, ContentError, OutputFailed, display_path
from ..content.model import Catalogue, Facility, Fair, Image, Product
from ..content.text import initial, place_name
from ..content.vocab import SAFE_LOADER, VOCABULARY_DIR, Vocabularies
from ..system.write import write_atomic
from . import inquiry, urls
from .exports import TABLES
from .images import PhotoSet
from .pages import Page, letter_anchor
from .qr import QRCode
from .structured import StructuredData
from .urls import lang_prefix

# Stands for "the way up to the site root" in cached cards; Unicode private-use characters, which
# escaped content cannot produce by accident in a way that matters (at worst, a link-like text).
ROOT_PLACEHOLDER = "\ue000root\ue000"
HEADING_PLACEHOLDER = "\ue000heading\ue000"  # the same kind of stand-in, for a card's heading level
MACROS_FOLDER = "macros/"
JINJA_DIR = os.path.join(os.path.dirname(jinja2.__file__), "")
STRINGS_FILE = VOCABULARY_DIR / "ui_strings.yaml"


def html_text(value: object) -> str:
    """What Jinja's autoescaping writes for `{{ value }}`: markupsafe.escape(value), as a plain str.

    A page's output is joined into one string, so the Markup object escape() wraps each piece in is
    thrown away at once; making it (a Python-level __new__) was a sixth of all rendering time."""
    kind = type(value)
    if kind is str:
        return _escape_inner(value)  # type: ignore[arg-type]  # `type(value) is str`, faster than isinstance
    if kind is Markup:  # safe already (a macro's output, a card): escape() would copy it
        return value  # type: ignore[return-value]
    return escape(value)


class _CodeGenerator(jinja2.compiler.CodeGenerator):
    """Compiles `{{ … }}` under autoescape to `html_text(…)` instead of `escape(…)`. Only output is
    affected: macros, blocks and `{% set %}` captures still return Markup, as Jinja makes them
    from the joined output. (jinja2 is pinned; tests compare with Jinja's own escaping.)"""

    def _output_child_pre(self, node: jinja2.nodes.Expr, frame: jinja2.compiler.Frame, finalize) -> None:
        if frame.eval_ctx.volatile or not frame.eval_ctx.autoescape:
            super()._output_child_pre(node, frame, finalize)
            return
        self.write("environment.html_text(")
        if finalize.src is not None:
            self.write(finalize.src)


class _Syntax(TypedDict):
    trim_blocks: bool
    lstrip_blocks: bool


# How the templates are written, for the renderer and for `check`'s reading of them (`syntax_mistakes`)
TEMPLATE_SYNTAX: _Syntax = {"trim_blocks": True, "lstrip_blocks": True}


class _Context(jinja2.runtime.Context):
    """Jinja's context, with a quicker way to call a plain function, method or macro (every call in
    the templates: `urls.term(…)`, `t(…)`, `contact(…)`, macros). Jinja's own `call` asks the callable,
    and then its `__call__`, whether it takes the context (`pass_context`) or the environment: four
    attribute lookups, about 1.7 µs a call, over a million calls at 10k products. For these kinds of
    callable the first lookup gives the answer; what is passed is then as Jinja's `call` passes it.
    Any other callable (a class, an object with `__call__`) goes Jinja's way. (jinja2 is pinned, for
    `_PassArg` too; a test renders every call both ways.)"""

    @internalcode  # (as Jinja's: left out of the traceback of a template's error)
    def call(__self, __obj: Callable[..., object], *args: object, **kwargs: object) -> object:  # (Jinja's names)
        if type(__obj) not in _PLAIN_CALLABLES:
            return super().call(__obj, *args, **kwargs)
        passed = getattr(__obj, "jinja_pass_arg", None)
        # the loop's and block's variables, which Jinja passes along for a callable that takes the context
        loop_vars = kwargs.pop("_loop_vars", None) if kwargs else None
        block_vars = kwargs.pop("_block_vars", None) if kwargs else None
        if passed is _PassArg.context:
            context: jinja2.runtime.Context = __self
            if loop_vars:
                context = context.derived(loop_vars)  # type: ignore[arg-type]  # (a dict, as Jinja passes it)
            if block_vars:
                context = context.derived(block_vars)  # type: ignore[arg-type]
            args = (context, *args)
        elif passed is _PassArg.eval_context:
            args = (__self.eval_ctx, *args)
        elif passed is _PassArg.environment:
            args = (__self.environment, *args)
        try:
            return __obj(*args, **kwargs)
        except StopIteration:  # as Jinja's does
            return __self.environment.undefined("value was undefined because a callable raised a"
                                                " StopIteration exception")


_PLAIN_CALLABLES = frozenset({types.FunctionType, types.MethodType, types.BuiltinFunctionType, jinja2.runtime.Macro})


class _Environment(jinja2.Environment):
    code_generator_class = _CodeGenerator
    context_class = _Context
    html_text = staticmethod(html_text)


class Strings(dict[str, str]):
    """A language's UI strings, which templates read as `s.key`: each is an attribute as well, so
    Jinja finds it at the first lookup. (In a plain dict, its lookup of the attribute failed first,
    an exception raised and caught, before it tried the key: 1.2 µs, 40 times a page.) A key named as
    one of a dict's own attributes (`items`, `get`…) is left out of the attributes: it would hide the
    method from the code that reads the strings, and Jinja found the method there before too."""

    def __init__(self, strings: dict[str, str]) -> None:
        super().__init__(strings)
        self.__dict__.update({key: text for key, text in strings.items() if not hasattr(dict, key)})


class CheckedBytecodeCache(jinja2.FileSystemBytecodeCache):
    """Jinja's cache of compiled templates, each file ending in a digest of the rest. Jinja checks that
    a template's source is the one compiled, not the file: a damaged file is compiled again, never run."""

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            with open(os.path.join(self.directory, self.pattern % (bucket.key,)), "rb") as stream:
                data = stream.read()
        except OSError:
            return
        body, digest = data[:-DIGEST_SIZE], data[-DIGEST_SIZE:]
        if len(data) <= DIGEST_SIZE or hashlib.blake2b(body, digest_size=DIGEST_SIZE).digest() != digest:
            return
        try:
            bucket.load_bytecode(io.BytesIO(body))
        except Exception:  # what the digest let through, or a file from another Python
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        stream = io.BytesIO()
        bucket.write_bytecode(stream)
        body = stream.getvalue()
        write_atomic(Path(self.directory, self.pattern % (bucket.key,)),
                     body + hashlib.blake2b(body, digest_size=DIGEST_SIZE).digest(), durable=False)


DIGEST_SIZE = 16


def load_strings(path: Path = STRINGS_FILE) -> dict[str, dict[str, str]]:
    """UI strings: key → {vi, en}. Both languages are required (a test checks every key)."""
    with path.open(encoding="utf-8") as stream:
        return yaml.load(stream, Loader=SAFE_LOADER)  # noqa: S506 (a safe loader)


class Renderer:
    """Holds the Jinja environment and the site-wide values every template can use."""

    def __init__(self, templates_dir: Path, config: SiteConfig, vocab: Vocabularies, catalogue: Catalogue,
                 photos: dict[str, PhotoSet] | None = None, codes: Mapping[str, QRCode] | None = None,
                 reuse: Renderer | None = None, drawn: dict[str, str] | None = None,
                 compiled: Path | None = None) -> None:
        """`reuse`: a renderer of the same templates whose compiled templates this one takes over
        (the preview makes a renderer per edit; compiling every template again would cost more).
        `compiled`: a folder where compiled templates are kept between processes (a build renders a
        few dozen pages after an edit, and compiling the templates they use took a fifth of a second)."""
        strings: dict[str, dict[str, str]] = reuse.strings if reuse else load_strings()
        self.strings: dict[str, dict[str, str]] = strings
        self.catalogue = catalogue
        self.languages = config.languages
        self.photos = photos or {}
        self.codes = codes or {}
        self.drawn = drawn or {}
        # A 10k-product site shows over 100k cards, and every page the same navigation and footer.
        # Each is rendered once per language with a placeholder where the way up to the site root
        # goes, and each page fills it in at the end.
        # Kept as UTF-8: a card's Vietnamese words make the whole string two bytes a character, and
        # the cards of 50k products were some 200 MB of a build's peak memory; a page decodes the
        # few dozen it shows.
        self._reusable: dict[tuple, bytes] = {}
        self._fragments: dict[tuple[str, str], Markup] = {}
        self.template_errors = TemplateErrors(templates_dir)
        self.env: _Environment = reuse.env if reuse else _Environment(
            loader=jinja2.FileSystemLoader(templates_dir),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            **TEMPLATE_SYNTAX,
            auto_reload=False,  # a build renders with one set of templates: no stat() per page
            bytecode_cache=CheckedBytecodeCache(str(compiled)) if compiled else None,
        )
        self.strings_by_lang: dict[str, dict[str, str]] = {
            lang: Strings({key: texts[lang] for key, texts in strings.items()}) for lang in config.languages}
        self.site_path = urlsplit(config.base_url).path
        self.config_base_url = config.base_url
        self.env.globals.update(
            config=config, vocab=vocab, catalogue=catalogue, build_date=catalogue.build_date,
            t=self.translate, card=self.card, cards=self.cards, contact=self.contact, fragment=self.fragment, picture=self.picture,
            preview=self.preview,
            url=relative_url, urls=urls, lang_prefix=lang_prefix, qr=self.qr_code, date_in=date_in,
            quote_message=inquiry.quote_message, encoded=inquiry.encoded, sms_link=inquiry.sms_link,
            mail_link=inquiry.mail_link,
            structured_data=self.structured_data, data_tables=TABLES,
        )
        self.structured = StructuredData(config, catalogue, vocab, self.strings_by_lang, self.preview)
        self.env.filters.update(date=format_date, number=format_number, initial=initial, letter_anchor=letter_anchor,
                                unit=jinja2.pass_context(lambda context, text: vocab.unit_in(text, context["lang"])),
                                place=jinja2.pass_context(lambda context, name: place_name(name, context["lang"])))
        with self.template_errors:
            self.env.globals.update(macros(self.env))

    @jinja2.pass_context
    def translate(self, context: jinja2.runtime.Context, key: str, **values: object) -> str:
        strings = self.strings_by_lang[context["lang"]]
        if values.get("count") == 1 and f"{key}_one" in strings:  # `1 facility`, not `1 facilities`
            key = f"{key}_one"
        text = strings[key]
        return text.format(**values) if values else text

    @jinja2.pass_context
    def card(self, context: jinja2.runtime.Context, product: Product, heading: str = "h3") -> Markup:
        """The card of a product in listings (templates/partials/card.html), rendered once per
        language; its heading level (h2 or h3, by where the card sits) is filled in here."""
        return Markup(self._card(context["page"], product, heading))

    @jinja2.pass_context
    def cards(self, context: jinja2.runtime.Context, products: Iterable[Product], heading: str = "h3") -> Markup:
        """`card()` of each product, one after another: a listing shows 48, and calling `card()` from
        the template for each was about a third of a listing page's time."""
        page = context["page"]
        joined = "".join([self._card_with_placeholder(page, product) for product in products])
        return Markup(str.replace(joined, HEADING_PLACEHOLDER, heading))  # once for all the cards

    def _card(self, page: Page, product: Product, heading: str) -> str:
        html = self._card_with_placeholder(page, product)
        return str.replace(html, HEADING_PLACEHOLDER, heading)  # (Markup.replace would escape, slowly)

    def _card_with_placeholder(self, page: Page, product: Product) -> str:
        """A product's card as kept, its heading level a placeholder: looked up directly, as a
        listing page asks for 48 (`_reused` makes it the first time)."""
        found = self._reusable.get(("card", page.lang, product.slug))
        if found is None:
            return self._reused(page, "card", (product.slug,), product=product, heading=HEADING_PLACEHOLDER)
        return found.decode("utf-8")

    @jinja2.pass_context
    def contact(self, context: jinja2.runtime.Context, facility: Facility) -> Markup:
        """A facility's contact buttons (templates/partials/contact.html): shown on its page and twice
        on each of its products' pages, so rendered once per language."""
        return self._reused(context["page"], "contact", (facility.slug,), facility=facility)

    def card_html(self, product: Product, lang: str) -> str:
        """A product's card in one language as `card()` keeps it: for rendering cards ahead."""
        with self.template_errors:
            return self._reused(Page("", lang, "partials/card.html"), "card", (product.slug,), product=product,
                                heading=HEADING_PLACEHOLDER)

    def keep_unchanged(self, other: Renderer, products: AbstractSet[str], facilities: AbstractSet[str]) -> None:
        """Take over what `other` rendered once for many pages (cards, contact buttons, the parts
        every page shows) but for these products and facilities, which an edit changed (the preview's
        quick path; a card shows its product's maker, so an edited facility's products go too).
        Rendering the cards again took most of the time of a rename that moves a product."""
        changed = {"card": products, "contact": facilities}  # by what `_reused` keys each partial
        self._reusable.update((key, html) for key, html in other._reusable.items()
                              if key[0] in changed and key[2] not in changed[key[0]])
        self._fragments.update(other._fragments)

    def has_card(self, slug: str, lang: str) -> bool:
        return ("card", lang, slug) in self._reusable

    def keep_cards(self, cards: dict[tuple[str, str], bytes]) -> None:
        """Cards rendered ahead (elsewhere), by (product slug, language), as UTF-8 (`card_html` encoded)."""
        self._reusable.update((("card", lang, slug), html) for (slug, lang), html in cards.items())

    def forget_reused(self) -> None:
        """Drop the cards and contact buttons kept for pages: a build that has rendered its pages needs
        them no more (57 MB at 50k products)."""
        self._reusable.clear()

    def _reused(self, page: Page, partial: str, key: tuple, **values: object) -> Markup:
        """templates/partials/<partial>.html for one entry, rendered the first time a page in this
        language asks for it, with links from the placeholder root, and reused after that."""
        key = (partial, page.lang, *key)
        found = self._reusable.get(key)
        if found is not None:
            return Markup(found.decode("utf-8"))
        html = self.env.get_template(f"partials/{partial}.html").render(**self.shared_values(page), **values)
        self._reusable[key] = html.encode("utf-8")
        return Markup(html)

    @jinja2.pass_context
    def fragment(self, context: jinja2.runtime.Context, name: str) -> Markup:
        """A part of every page that depends only on the language (templates/partials/<name>.html)."""
        page: Page = context["page"]
        if page.served_anywhere:  # the 404 page links from the site's absolute path instead
            return Markup(self.env.get_template(f"partials/{name}.html").render(**self.page_values(page)))
        key = (name, page.lang)
        if key not in self._fragments:
            template = self.env.get_template(f"partials/{name}.html")
            self._fragments[key] = Markup(template.render(**self.shared_values(page)))
        return self._fragments[key]

    @jinja2.pass_context
    def picture(self, context: jinja2.runtime.Context, image: Image, alt: str, sizes: str, eager: bool = False) -> Markup:
        """A responsive <picture>: WebP with a JPEG fallback, explicit size (no layout shift), lazy below the fold."""
        photo = self.photos[image.file]
        assets = context["assets"]
        webp = ", ".join(f"{assets}{r.url} {r.width}w" for r in photo.webp)
        jpeg = ", ".join(f"{assets}{r.url} {r.width}w" for r in photo.jpeg)
        fallback = photo.fallback
        return Markup(
            f'<picture><source type="image/webp" srcset="{webp}" sizes="{sizes}">'
            f'<img src="{assets}{fallback.url}" srcset="{jpeg}" sizes="{sizes}" width="{fallback.width}" '
            f'height="{fallback.height}" alt="{escape(alt)}" loading="{"eager" if eager else "lazy"}" decoding="async">'
            f'</picture>')

    def qr_code(self, path: str, lang: str) -> QRCode:
        """The code of a page's absolute address (made in the QR stage for every permanent page)."""
        return self.codes[self.config_base_url + lang_prefix(lang) + path]

    @jinja2.pass_context
    def structured_data(self, context: jinja2.runtime.Context) -> Markup:
        """The page's JSON-LD (schema.org), for entry pages."""
        return self.structured.script(context["page"])

    def preview(self, entry: object) -> str | None:
        """The absolute address of an entry's link-preview image (OpenGraph): its first photo, cropped,
        or the image drawn for it (`previews`)."""
        images = getattr(entry, "images", ())
        if images:
            return self.config_base_url + self.photos[images[0].file].preview.url
        path = (urls.product(entry) if isinstance(entry, Product) else urls.facility(entry) if isinstance(entry, Facility)
                else urls.fair(entry) if isinstance(entry, Fair) else None)
        drawn = self.drawn.get(path) if path else None  # drawn link previews are keyed by page path
        return self.config_base_url + drawn if drawn else None

    def page_values(self, page: Page) -> dict[str, object]:
        """What every template knows about its page. Links are written `{{ root }}products/x/`:
        plain text joins, because a function call per link was most of the rendering time."""
        up = self.site_path if page.served_anywhere else "../" * page.url.count("/")
        return {"page": page, "lang": page.lang, "s": self.strings_by_lang[page.lang], "up": up,
                "root": (up + lang_prefix(page.lang)) or "./", "assets": up or "./"}

    def shared_values(self, page: Page) -> dict[str, object]:
        """Page values for HTML reused on pages at any depth: links start from the placeholder."""
        return {**self.page_values(page), "root": ROOT_PLACEHOLDER + lang_prefix(page.lang), "assets": ROOT_PLACEHOLDER}

    def render(self, page: Page) -> str:
        with self.template_errors:
            template = self.env.get_template(page.template)
            values = self.page_values(page)
            # What Template.render() does, with one difference: globals and page values go in as one
            # plain dict, shared rather than copied (render() copies its globals ChainMap key by key in
            # Python for every page, 13% of rendering time). jinja2 is pinned in requirements.txt.
            context = template.new_context({**self.env.globals, **values, **page.context}, shared=True)
            try:
                html = self.env.concat(template.root_render_func(context))
            except Exception:
                self.env.handle_exception()  # re-raised with template file and line, as render() does
        return html.replace(ROOT_PLACEHOLDER, str(values["up"]))


class TemplateErrors:
    """Turns a mistake in a template into an error with the template's file and line, reported like
    a content file's (the centre edits templates; a traceback or "internal error" told it nothing):
    a Jinja error (syntax, a misspelt name, a missing template), or an error raised by a template's
    own code (`{{ 1 // 0 }}`). An error raised in the generator's code is left as it is: a bug to
    report. (A class, not @contextmanager: it is entered once per page, 0.5 µs a time against 2.7.)"""

    def __init__(self, templates_dir: Path) -> None:
        self.folder = os.path.join(os.path.abspath(templates_dir), "")

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        if isinstance(exc, Exception) and not isinstance(exc, BuildFailed):
            failure = self.failure(exc)
            if failure is not None:
                raise failure from None

    def failure(self, exc: Exception) -> OutputFailed | None:
        every = traceback.extract_tb(exc.__traceback__)
        frames = [frame for frame in every if os.path.abspath(frame.filename).startswith(self.folder)]
        # raised by the template's code or by Jinja's own filters and tests that it called
        ours = [frame for frame in every if not frame.filename.startswith(JINJA_DIR)]
        raised_in_template = bool(frames) and frames[-1] is ours[-1]
        line: int | None
        if isinstance(exc, jinja2.TemplateSyntaxError) and exc.filename:
            where, line = exc.filename, exc.lineno
        elif frames and (raised_in_template or isinstance(exc, jinja2.TemplateError)):
            where, line = frames[-1].filename, frames[-1].lineno
        elif isinstance(exc, jinja2.TemplateError):
            where, line = self.folder, None
        else:
            return None
        vi, en = template_mistake(exc)
        return OutputFailed([ContentError(display_path(Path(os.path.abspath(where)), Path.cwd()), line, None,
                                          f"lỗi trong mẫu trang (template): {vi}; trang cũ vẫn giữ nguyên",
                                          f"error in the template: {en}; the previous site is untouched")])


def syntax_mistakes(templates_dir: Path) -> list[ContentError]:
    """Every syntax mistake in the templates, each at its file and line: what `check` reports, and
    the preview after a template is saved. (A build stops at the first mistake it meets while
    rendering; reading every template takes 0.05 s on a fast machine and up to a quarter of a second
    on a slow one, too much to add to every build.)"""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(templates_dir), **TEMPLATE_SYNTAX)
    assert env.loader is not None
    mistakes = []
    for name in env.list_templates(filter_func=is_template):
        where = display_path(Path(templates_dir, name).absolute(), Path.cwd())
        try:
            source, filename, _ = env.loader.get_source(env, name)
        except UnicodeDecodeError:
            mistakes.append(ContentError(where, None, None, "mẫu trang (template) phải là văn bản UTF-8",
                                         "a template must be UTF-8 text"))
            continue
        except jinja2.TemplateNotFound:  # listed, but not a regular file (a named pipe): the loader reads none
            mistakes.append(ContentError(where, None, None, "mẫu trang (template) phải là một tệp thường",
                                         "a template must be a regular file"))
            continue
        try:
            env.parse(source, name, filename)
        except jinja2.TemplateSyntaxError as exc:
            failure = TemplateErrors(templates_dir).failure(exc)
            assert failure is not None, "a syntax error is always the template's"
            mistakes.extend(failure.errors)
    return mistakes


def is_template(name: str) -> bool:
    """Whether a file in templates/ is a template: an `.html` file, not hidden. What editors leave
    beside the file they edit (vim's `.footer.html.swp`, a backup `footer.html~`, emacs's
    `#footer.html#`) is not: read as one, a swap file stopped every build and preview."""
    return name.endswith(".html") and not any(part.startswith(".") for part in name.split("/"))


def template_mistake(exc: Exception) -> tuple[str, str]:
    """What went wrong in a template, in Vietnamese and English."""
    if isinstance(exc, jinja2.TemplateNotFound):
        return f"không có mẫu `{exc.name}`", f"there is no template `{exc.name}`"
    detail = exc.message if isinstance(exc, jinja2.TemplateError) and exc.message else f"{type(exc).__name__}: {exc}"
    detail = detail.rstrip(".")  # the message goes on after it
    return detail, detail


def macros(env: jinja2.Environment) -> dict[str, jinja2.runtime.Macro]:
    """Every macro in templates/macros/, by name, for every template to call without importing it.
    (A Jinja import runs again on every page render: 30 imports a product page, a twentieth of its time.)"""
    found: dict[str, jinja2.runtime.Macro] = {}
    for name in env.list_templates(filter_func=lambda name: name.startswith(MACROS_FOLDER) and is_template(name)):
        module = env.get_template(name).module
        for macro_name, macro in vars(module).items():
            if isinstance(macro, jinja2.runtime.Macro):
                if macro_name in found:
                    raise jinja2.TemplateRuntimeError(f"{name}: macro `{macro_name}` is defined twice in {MACROS_FOLDER}")
                found[macro_name] = macro
    return found


@jinja2.pass_context
def relative_url(context: jinja2.runtime.Context, target: str, lang: str) -> str:
    """A link to `target` in another language (the language switch)."""
    return (context["up"] + lang_prefix(lang) + target) or "./"


@jinja2.pass_context
def format_date(context: jinja2.runtime.Context, value: dt.date) -> str:
    return date_in(value, context["lang"])


def date_in(value: dt.date, lang: str) -> str:
    """A day as each language writes it: 10/12/2026, 10 Dec 2026."""
    return value.strftime("%d/%m/%Y") if lang == "vi" else value.strftime("%-d %b %Y")


@jinja2.pass_context
def format_number(context: jinja2.runtime.Context, value: float) -> str:
    text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
    return text.translate(str.maketrans(",.", ".,")) if context["lang"] == "vi" else text
