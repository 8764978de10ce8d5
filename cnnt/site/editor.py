"""The form editor at `/admin/` (Sveltia CMS): its configuration, made from the JSON Schemas
(`schema`), which are made from the loader's field lists and vocabularies, and from the content kinds
(`kinds`). A field added to the content contract appears in the forms without touching this module;
`tests/test_editor.py` fails if the forms and the schemas ever disagree.

Three files are generated beside the editor's own (`vendor`):
- `config.json`: the collections and their fields, for Sveltia CMS;
- `rules.json`: how `editor.js` writes a file as a person would (field order, which lists are written
  `[a, b]`, the usual spelling of each vocabulary value);
- `index.html`: the page, never linked from buyers' pages, never indexed, outside the service worker.
"""
from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..content import kinds, load, photos
from ..content.config import SiteConfig
from ..content.model import Catalogue
from ..content.vocab import Term, Vocabularies, Vocabulary
from . import images, schema

ADMIN_DIR = "admin"  # the editor's address under the site: /admin/
SCRIPT = Path(__file__).with_name("editor.js")
LOCALES = ("vi", "en")
PHOTO_EDGE = 2 * images.WIDTHS[-1]  # px: twice the widest photo a page shows
TRANSLATED = set(load.TRANSLATION_FIELDS) - {"withdrawn"}  # `withdrawn.reason` in English is left to files
CREDENTIAL_HINT = ("Chỉ trung tâm khuyến công ghi trường này: thay đổi của cơ sở ở đây bị kiểm tra pull request từ chối"
                   " · only the centre records this: a facility's change here is refused by the pull request check")
BODY_LABEL = "Giới thiệu (Markdown) · description"


def vocabularies_by_name(vocab: Vocabularies) -> dict[str, Vocabulary]:
    return {value.name: value for value in vars(vocab).values() if isinstance(value, Vocabulary)}


def choices(vocabulary: Vocabulary) -> list[dict[str, str]]:
    """A vocabulary as the options of a select: the value files write and a label in both languages.
    Provinces are written by name (`Cà Mau`, as `new` writes them) and list their former provinces."""
    if vocabulary.name == "provinces":
        return [{"value": term.vi, "label": _province_label(term)} for term in vocabulary]
    return [{"value": term.code, "label": _label(term)} for term in vocabulary]


def _label(term: Term) -> str:
    return term.vi if term.vi == term.en else f"{term.vi} · {term.en}"


def _province_label(term: Term) -> str:
    former = [name for name in term.extra.get("former", []) if name != term.vi]
    return f"{term.vi} (gồm · incl. {', '.join(former)})" if former else term.vi


def spelling_map(vocabulary: Vocabulary) -> dict[str, str]:
    """Every usual spelling of each term → the value the select holds, so a file written `Tỉnh Cà Mau`
    or `OCOP` opens with the right option chosen."""
    value = {term.code: (term.vi if vocabulary.name == "provinces" else term.code) for term in vocabulary}
    return {spelling: value[term.code] for term in vocabulary for spelling in vocabulary.spellings(term)
            if spelling != value[term.code]}


# -- fields ----------------------------------------------------------------------------------


class Fields:
    """Turns one kind's JSON Schema into Sveltia CMS fields."""

    def __init__(self, vocab: Vocabularies, catalogue: Catalogue, entries: dict[str, Any] | None = None) -> None:
        self.vocabularies = vocabularies_by_name(vocab)
        self.build_date = catalogue.build_date  # years and days after it are refused, as `check` does
        # a kind's entries as a select's options (`editor_files` gives marks, and puts the options in after)
        self.entries = entries or {"facility": _entry_choices(catalogue.facilities.values()),
                                   "product": _entry_choices(catalogue.products.values())}
        self.credentials: tuple[str, ...] = ()  # the kind being turned into fields: its centre-only fields

    def fields(self, properties: dict, required: Iterable[str], top: bool, with_images: bool) -> list[dict]:
        required = set(required)
        result = []
        for name, prop in properties.items():
            if top and name == "images" and not with_images:
                continue
            result.append(self.field(name, prop, name in required, top))
        return result

    def field(self, name: str, prop: dict, required: bool, top: bool) -> dict[str, Any]:
        field: dict[str, Any] = {"name": name, "label": prop.get("description") or name, "required": required,
                                 **self.widget(name, prop)}
        if top:
            field["i18n"] = name in TRANSLATED
            if required and name in TRANSLATED:
                field["required"] = ["vi"]  # the English file may leave it out: the page falls back
            if name in self.credentials:
                field["hint"] = CREDENTIAL_HINT
        return field

    def widget(self, name: str, prop: dict) -> dict[str, Any]:
        if "x-vocabulary" in prop:
            return {"widget": "select", "options": choices(self.vocabularies[prop["x-vocabulary"]])}
        if "enum" in prop:
            return {"widget": "select", "options": [{"value": v, "label": v} for v in prop["enum"]]}
        if "x-entries" in prop:  # a slug of another entry: a choice among the catalogue's entries
            return {"widget": "select", "options": self.entries[prop["x-entries"]]}
        kind = prop.get("type")
        if kind == "array":
            return self.array(name, prop)
        if kind == "object":
            fields = self.fields(prop["properties"], prop.get("required", ()), top=False, with_images=False)
            return {"widget": "object", "fields": fields}
        if kind == "integer":
            return {**_number("int", prop), **({"max": self.build_date.year} if prop.get("x-past") else {})}
        if kind == "number":
            return _number("float", prop)
        if prop.get("pattern") == schema.DATE["pattern"]:
            return {"widget": "datetime", "time_format": False, "format": "YYYY-MM-DD",
                    **({"max": self.build_date.isoformat()} if prop.get("x-past") else {})}
        return _string(prop)

    def array(self, name: str, prop: dict) -> dict[str, Any]:
        item = prop["items"]
        if name == "images":  # photos beside index.md, each with a description for screen readers
            return {"widget": "list", "label_singular": "ảnh · photo", "fields": [
                {"name": "src", "label": "Ảnh · photo", "widget": "image", "required": True, "choose_url": False},
                {"name": "alt", "label": "Mô tả ảnh · alt text", "widget": "string", "required": False}]}
        if "x-vocabulary" in item or "enum" in item or "x-entries" in item:
            return {**self.widget(name, item), "multiple": True}
        if item.get("type") == "object":
            fields = self.fields(item["properties"], item.get("required", ()), top=False, with_images=False)
            return {"widget": "list", "fields": fields, "collapsed": False}
        return {"widget": "list", "field": {"name": "item", "label": prop.get("description", name),
                                            **_string(item)}}


def _entry_choices(entries: Iterable[Any]) -> list[dict[str, str]]:
    return [{"value": slug, "label": label} for label, slug in _labelled(entries)]


def _labelled(entries: Iterable[Any]) -> list[tuple[str, str]]:
    return sorted(((f"{entry.name.vi} ({entry.slug})", entry.slug) for entry in entries),
                  key=lambda choice: choice[0].casefold())


def _entry_options(entries: Iterable[Any], encoder: json.JSONEncoder) -> bytes:
    """`_entry_choices` as JSON, made a choice at a time (and a thousand at a time made UTF-8)."""
    labelled = _labelled(entries)
    return b"[" + b",".join(",".join(encoder.encode({"value": slug, "label": label}) for label, slug in
                                     labelled[at:at + 1000]).encode("utf-8")
                            for at in range(0, len(labelled), 1000)) + b"]"


def _number(value_type: str, prop: dict) -> dict[str, Any]:
    widget: dict[str, Any] = {"widget": "number", "value_type": value_type}
    if "minimum" in prop:
        widget["min"] = prop["minimum"]
    if "maximum" in prop:
        widget["max"] = prop["maximum"]
    return widget


def _string(prop: dict) -> dict[str, Any]:
    widget: dict[str, Any] = {"widget": "string"}
    if "maxLength" in prop:
        widget["maxlength"] = prop["maxLength"]
    if "pattern" in prop:
        widget["pattern"] = [prop["pattern"], f"Không đúng dạng · does not match {prop['pattern']}"]
    return widget


# -- collections -------------------------------------------------------------------------------


def editor_config(vocab: Vocabularies, config: SiteConfig, catalogue: Catalogue,
                  documents: dict[str, dict] | None = None, entries: dict[str, Any] | None = None) -> dict[str, Any]:
    """Sveltia CMS's configuration: the repository, the workflow, and a collection per kind (two for
    kinds with photos: entries in their own folder, where photos go, and single-file entries).
    `documents`: the JSON Schemas, when the caller has them already; `entries`: what stands for each
    kind's entries as a select's options, if not the options themselves."""
    documents = documents or schema.schemas(vocab)
    fields = Fields(vocab, catalogue, entries)
    collections = []
    for kind in kinds.KINDS:
        if "images" in kind.fields:
            collections.append(_collection(kind, documents[kind.name], fields, folder=True))
        collections.append(_collection(kind, documents[kind.name], fields, folder=False))
    return {
        "load_config_file": False,
        "backend": _backend(config),
        "publish_mode": "editorial_workflow",
        "app_title": f"{config.title.vi} · biên tập",
        "site_url": config.base_url,
        "media_folder": "content",
        "show_preview_links": False,
        "slug": {"encoding": "ascii", "clean_accents": True, "sanitize_replacement": "-", "lowercase": True},
        "i18n": {"structure": "multiple_files", "locales": list(LOCALES), "default_locale": "vi",
                 "omit_default_locale_from_file_path": True, "initial_locales": "default"},
        "output": {"omit_empty_optional_fields": True, "yaml": {"quote": "none"}},
        # photos from a phone are made WebP of at most PHOTO_EDGE px in the browser, before upload; no stock
        # photo services (a facility shows its own products) and no photos from other hosts
        "media_libraries": {"all": {"max_file_size": photos.MAX_BYTES, "slugify_filename": True, "transformations": {
            "raster_image": {"format": "webp", "quality": 85, "width": PHOTO_EDGE, "height": PHOTO_EDGE}}},
            "stock_assets": False},
        "collections": collections,
    }


def _backend(config: SiteConfig) -> dict[str, Any]:
    editor = config.editor
    backend: dict[str, Any] = {"name": "github", "repo": editor.repo, "branch": editor.branch,
                               # a facility without write access saves in its fork and opens a pull request
                               "open_authoring": True, "auth_scope": "public_repo"}
    if editor.auth_url:
        backend["base_url"] = editor.auth_url
    else:
        backend["auth_methods"] = ["token"]  # no OAuth client yet: sign in with a personal access token
    return backend


def _collection(kind: kinds.Kind, document: dict, maker: Fields, folder: bool) -> dict[str, Any]:
    vi, en = kind.label
    # entries in a folder of their own can hold photos; single files cannot until the centre moves them
    single = not folder and "images" in kind.fields
    maker.credentials = kind.credentials
    fields = maker.fields(document["properties"], document.get("required", ()), top=True, with_images=folder)
    fields.append({"name": "body", "label": BODY_LABEL, "widget": "markdown", "required": False, "i18n": True})
    collection: dict[str, Any] = {
        "name": f"{kind.folder}-single" if single else kind.folder,
        "label": f"{vi}, tệp đơn · {en}, single file" if single else f"{vi} · {en}",
        "folder": f"content/{kind.folder}",
        # editor.js registers this file format for the kind: front matter as people write it
        "format": f"cnnt-{kind.folder}-frontmatter", "extension": "md", "i18n": True,
        # new entries go into folders, where photos can follow; nothing is deleted: printed QR codes lead
        # to every page, so an entry is withdrawn instead (`withdrawn`)
        "create": not single, "delete": False,
        "identifier_field": "number" if "name" not in kind.fields else "name",
        "summary": "{{number}}" if "name" not in kind.fields else "{{name}}",
        "slug": "{{number}}" if "name" not in kind.fields else "{{name}}",
        "fields": fields,
    }
    if folder:  # index.md in the entry's folder, photos beside it
        collection.update({"path": "{{slug}}/index", "media_folder": "", "public_folder": ""})
    else:
        collection["path"] = "{{slug}}"
    return collection


# -- how editor.js writes files ------------------------------------------------------------------


def format_rules(vocab: Vocabularies, documents: dict[str, dict] | None = None) -> dict[str, Any]:
    """Per folder: the order of fields (nested ones as `awards.level`), the lists written on one line
    `[a, b]`, the fields whose digits are numbers (`grade: 4`), and each vocabulary field's spellings."""
    documents = documents or schema.schemas(vocab)
    vocabularies = vocabularies_by_name(vocab)
    rules: dict[str, Any] = {}
    for kind in kinds.KINDS:
        order: dict[str, list[str]] = {}
        flow: list[str] = []
        numeric: list[str] = []
        spellings: dict[str, dict[str, str]] = {}
        _walk(documents[kind.name], "", order, flow, numeric, spellings, vocabularies)
        rules[kind.folder] = {"order": order, "flow": flow, "numeric": numeric, "spellings": spellings}
    return rules


def _walk(prop: dict, path: str, order: dict, flow: list, numeric: list, spellings: dict,
          vocabularies: dict[str, Vocabulary]) -> None:
    if prop.get("type") == "object":
        order[path] = list(prop["properties"])
        for name, child in prop["properties"].items():
            _walk(child, f"{path}.{name}" if path else name, order, flow, numeric, spellings, vocabularies)
    elif prop.get("type") == "array":
        item = prop["items"]
        if item.get("type") != "object":
            flow.append(path)
        _walk(item, path, order, flow, numeric, spellings, vocabularies)
    elif prop.get("type") == ["string", "integer"]:
        numeric.append(path)
    if "x-vocabulary" in prop:
        spellings[path] = spelling_map(vocabularies[prop["x-vocabulary"]])


# -- the page ---------------------------------------------------------------------------------


def admin_page(config: SiteConfig, imports: dict[str, str]) -> str:
    """`admin/index.html`: no link to it anywhere, `noindex`, and its scripts load only here."""
    import_map = json.dumps({"imports": imports}, ensure_ascii=False, indent=1)
    return f"""<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>Biên tập · Editor — {_escape(config.title.vi)}</title>
<script type="importmap">
{import_map}
</script>
<link rel="icon" href="../static/favicon.svg" type="image/svg+xml">
<script type="module" src="editor.js"></script>
</head>
<body>
<noscript>Trình biên tập cần JavaScript · the editor needs JavaScript.</noscript>
</body>
</html>
"""


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def missing_page(problem: str) -> str:
    """`admin/index.html` when the editor's files could not be had."""
    return f"""<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><meta name="robots" content="noindex, nofollow">
<title>Biên tập · Editor</title></head><body>
<p>Chưa cài trình biên tập: chạy <code>npm ci</code> rồi dựng lại trang.
· The editor is not installed: run <code>npm ci</code>, then build again.</p>
<p><small>{_escape(problem)}</small></p>
</body></html>
"""


def editor_files(vocab: Vocabularies, config: SiteConfig, catalogue: Catalogue,
                 imports: dict[str, str]) -> dict[str, bytes]:
    """`admin/…` → content: the page, the configuration, the writing rules and editor.js."""
    # compact: read by the editor, not people; Python's C encoder only runs without indentation
    # (indented, the configuration of a 10k-product catalogue took three to five times as long)
    encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))

    def as_json(value: object) -> bytes:
        return encoder.encode(value).encode("utf-8") + b"\n"
    documents = schema.schemas(vocab)
    # Each kind's entries (a select's options) are made JSON a choice at a time and put in where a mark
    # stands for them: made as objects and then text, the 60,000 choices of 50k products held 45 MB
    # at once. (The marks cannot be met in an entry: they hold a NUL and a number drawn now.)
    listed = {"facility": catalogue.facilities.values(), "product": catalogue.products.values()}
    marks = {kind: f"\0{kind} {secrets.token_hex(16)}\0" for kind in listed}
    options = {encoder.encode(marks[kind]).encode("utf-8"): _entry_options(entries, encoder)
               for kind, entries in listed.items()}
    configuration = re.sub(b"|".join(map(re.escape, options)), lambda found: options[found.group()],
                           as_json(editor_config(vocab, config, catalogue, documents, entries=marks)))
    return {
        f"{ADMIN_DIR}/index.html": admin_page(config, imports).encode("utf-8"),
        f"{ADMIN_DIR}/config.json": configuration,
        f"{ADMIN_DIR}/rules.json": as_json(format_rules(vocab, documents)),
        f"{ADMIN_DIR}/editor.js": SCRIPT.read_bytes(),
    }
