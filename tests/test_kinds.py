"""The registry of content kinds (cnnt/content/kinds.py) is the one list: loading, schemas, `new`, `remove`,
ownership and pages follow it, and each kind has its parser."""
from __future__ import annotations

from conftest import BUILD_DATE, ROOT

from cnnt.content import kinds, load
from cnnt.content.vocab import load_vocabularies
from cnnt.contribute import ownership, removal, scaffold
from cnnt.site import exports, schema
from cnnt.site.pages import PERMANENT_TEMPLATES


def test_every_kind_has_a_parser_and_no_parser_is_left_over():
    assert set(load.PARSERS) == set(kinds.BY_NAME)
    assert tuple(kind.folder for kind in kinds.KINDS) == load.KINDS


def test_each_kind_is_declared_consistently():
    for kind in kinds.KINDS:
        assert set(kind.required) <= set(kind.fields), kind.name
        assert len(set(kind.fields)) == len(kind.fields), kind.name
        assert (ROOT / "templates" / kind.template).is_file(), kind.name
        assert set(kind.credentials) <= set(kind.fields), kind.name


def test_the_modules_read_the_registry():
    made = schema.schemas(load_vocabularies())
    for kind in kinds.KINDS:
        assert list(made[kind.name]["properties"]) == list(kind.fields)
        assert made[kind.name].get("required", []) == list(kind.required)
    assert set(scaffold.FOLDERS) == {k.name for k in kinds.KINDS if k.scaffold}
    assert set(removal.FOLDERS) == {k.name for k in kinds.KINDS if k.removable}
    assert set(ownership.FACILITY_KINDS) == {"facilities", "products"}
    assert ownership.CREDENTIALS == {"products": ("awards", "certifications", "facility"), "facilities": ("support",)}
    assert set(PERMANENT_TEMPLATES) == {"product.html", "facility.html", "fair.html"}
    assert {kind.folder for kind in kinds.KINDS} <= {table.name for table in exports.TABLES}  # the open data


def test_no_module_names_a_kind_s_template_again():
    """An entry's page and template come from the registry: a module that wrote "product.html" again
    would go on without what a change to kinds.py says."""
    templates = [f'"{kind.template}"' for kind in kinds.KINDS] + [f"'{kind.template}'" for kind in kinds.KINDS]
    for module in sorted((ROOT / "cnnt").rglob("*.py")):
        if module.name == "kinds.py":
            continue
        text = module.read_text(encoding="utf-8")
        assert not [name for name in templates if name in text], module


def test_the_sample_loads_into_the_declared_models(sample_site):
    import datetime as dt

    from cnnt.content.load import LoadOptions, load_catalogue
    catalogue = load_catalogue(LoadOptions(ROOT / "content", ROOT, dt.date.fromisoformat(BUILD_DATE), load_vocabularies()))
    for kind in kinds.KINDS:
        entries = catalogue.every(kind.folder)
        assert entries and all(isinstance(entry, kind.model) for entry in entries.values()), kind.name
        entry = next(iter(entries.values()))
        assert (sample_site / kind.path(entry) / "index.html").is_file(), kind.name
