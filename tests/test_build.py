"""The sample catalogue builds cleanly, and the build behaves as a release tool should."""
import datetime as dt
import json
import os
import re
import subprocess
import sys
import traceback
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

import jinja2
import pytest
import yaml
from conftest import BUILD_DATE, ROOT, cli
from html_inspect import parse

from cnnt.content.vocab import VOCABULARY_DIR, load_vocabularies, province_rows
from cnnt.site.render import load_strings

CONTENT = ROOT / "content"


def test_counts_are_said_in_good_english_for_one_as_for_many(make_site):
    """"1 facility", not "1 facilities", in what `check` and a build print."""
    product = "---\nname: Bánh pía\nfacility: htx-mau\ngroup: food\n---\nMô tả.\n"
    checked = make_site({"products/banh-pia.md": product}, command="check")
    assert checked.code == 0 and "| 1 product, 1 facility, 0 fairs, 0 decisions valid" in checked.out
    built = make_site({"products/banh-pia.md": product})
    assert built.code == 0 and "(1 product, 1 facility) in" in built.out and "pages" in built.out
    edited = make_site({"products/banh-pia.md": product.replace("Mô tả.", "Mô tả mới.")})
    assert re.search(r"\| \d+ changed pages? rendered, the others kept", edited.out), edited.out


def sample_slugs(kind: str) -> list[str]:
    folder = CONTENT / kind
    return sorted({p.name.split(".")[0] for p in folder.iterdir() if not p.name.endswith(".en.md")})


def test_sample_catalogue_checks_clean(capsys):
    assert cli.main(["check", "--date", BUILD_DATE]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and "37 products, 19 facilities, 2 fairs, 24 decisions valid" in captured.out


def test_sample_meets_the_catalogue_brief():
    catalogue = cli.pipeline.check(cli.options_from(cli.parse_args(["check", "--date", BUILD_DATE])))
    products, facilities = catalogue.products.values(), catalogue.facilities.values()
    assert len(facilities) >= 12 and len(products) >= 30
    assert {p.group.code for p in products} == {"handicraft", "food", "machinery", "other"}
    levels = {a.level.code for p in products for a in p.awards}
    assert levels == {"commune", "provincial", "regional", "national"}
    assert any(not a.is_valid(catalogue.build_date) for p in products for a in p.awards)
    assert sum(1 for f in facilities if f.province.former) >= 3
    assert len({m.code for p in products for m in p.export_markets}) >= 5
    translated = sum(1 for e in [*products, *facilities] if e.name.en or e.description.en)
    assert translated * 3 >= len(products) + len(facilities)


def test_every_entry_has_a_page_in_both_languages(sample_site):
    for kind in ("products", "facilities"):
        for slug in sample_slugs(kind):
            for prefix in ("", "en/"):
                assert (sample_site / prefix / kind / slug / "index.html").is_file(), (prefix, kind, slug)


def test_every_internal_link_resolves(sample_site):
    pages = [p for p in sample_site.rglob("*.html") if p.name != "404.html"]
    assert len(pages) > 150
    for page in pages:
        for link in parse(page).links() + parse(page).assets():
            if urlsplit(link).scheme:
                continue
            target_url, fragment = urldefrag(link)
            target = (page.parent / target_url).resolve()
            if target.is_dir():
                target = target / "index.html"
            assert target.is_file(), f"{page.relative_to(sample_site)} → {link}"
            if fragment:
                assert fragment in parse(target).ids, f"{page} → {link}"


def test_lang_and_hreflang(sample_site):
    vi, en = parse(sample_site / "products/kho-muc-my-thuyen/index.html"), parse(sample_site / "en/products/kho-muc-my-thuyen/index.html")
    assert vi.lang == "vi" and en.lang == "en"
    expected = {"vi": "https://catalogue.example.org/products/kho-muc-my-thuyen/",
                "en": "https://catalogue.example.org/en/products/kho-muc-my-thuyen/",
                "x-default": "https://catalogue.example.org/products/kho-muc-my-thuyen/"}
    assert vi.hreflang == expected and en.hreflang == expected


def test_no_remote_assets(sample_site):
    for page in sample_site.rglob("*.html"):
        for url in parse(page).assets():
            if url.startswith(("data:image/svg+xml,", "data:image/png;base64,")):  # QR codes, made by the build
                continue
            assert not urlsplit(url).netloc and not urlsplit(url).scheme, (page, url)


def test_expired_awards_are_shown_and_not_counted(sample_site):
    # Bánh in's only award (provincial 2020) expired on 31/12/2023.
    page = (sample_site / "products/banh-in/index.html").read_text()
    assert "badge-expired" in page and "Hết hiệu lực" in page
    assert "products/banh-in/" not in (sample_site / "awards/provincial/index.html").read_text()
    # Khô mực: national 2024 is its level; its expired provincial 2020 is listed as expired.
    assert "products/kho-muc-my-thuyen/" in (sample_site / "awards/national/index.html").read_text()
    assert "products/kho-muc-my-thuyen/" not in (sample_site / "awards/provincial/index.html").read_text()


def test_listings_have_counts_and_vietnamese_order(sample_site):
    az = (sample_site / "a-z/index.html").read_text()
    names = re.findall(r'<h3 class="card-title"><a href="[^"]+">([^<]+)</a>', az)
    from cnnt.content.text import sort_key
    assert len(names) == 37 and names == sorted(names, key=sort_key)
    assert names.index("Đũa tre Mai Châu") > names.index("Cà phê rang xay Đắk Mil")
    provinces = (sample_site / "en/provinces/index.html").read_text()
    assert re.search(r'Ca Mau</a>\s*<span class="count">1[0-9]</span>', provinces)


def test_the_provinces_index_names_the_former_provinces_each_took_in(sample_site):
    """A buyer who looks for Bến Tre among the 34 units finds it under Vĩnh Long; a unit that took
    in none (Cao Bằng) says nothing, nor does Hà Nội of Hà Tây (joined in 2008, not in 2025)."""
    for path, said in (("provinces/index.html", "gồm cả Bến Tre, Trà Vinh từ 1/7/2025"),
                       ("en/provinces/index.html", "includes Ben Tre, Tra Vinh since 1 July 2025")):
        listing = (sample_site / path).read_text().split('<ul class="term-list">', 1)[1].split("</ul>", 1)[0]
        items = re.findall(r"<li>(.*?)</li>", listing, re.S)
        assert len(items) == 34
        (vinh_long,) = [item for item in items if "vinh-long/" in item]
        assert said in vinh_long, path
        quiet = [item for item in items if re.search(r"Cao B|Hà Nội|Hanoi", item)]
        assert len(quiet) == 2 and not any('class="note"' in item for item in quiet)
        assert sum('class="note"' in item for item in items) == 23  # of the 34, 11 took in no province


def test_a_province_page_names_the_former_provinces_it_took_in(sample_site):
    """A buyer who arrives at Lâm Đồng's page from a link, looking for Đắk Nông's coffee, learns there
    that it is now in Lâm Đồng; a province that took in none says nothing of it, and no other listing does."""
    for path, said in (("provinces/lam-dong/index.html", "Từ 1/7/2025, Lâm Đồng gồm cả Bình Thuận, Đắk Nông."),
                       ("en/provinces/lam-dong/index.html", "Since 1 July 2025, Lam Dong includes Binh Thuan, Dak Nong."),
                       ("provinces/vinh-long/index.html", "Từ 1/7/2025, Vĩnh Long gồm cả Bến Tre, Trà Vinh.")):
        page = (sample_site / path).read_text()
        assert f'<p class="lead joined">{said}</p>' in page.split("</h1>", 1)[1].split('class="cards"', 1)[0], path
    for path in ("provinces/ha-noi/index.html", "provinces/hue/index.html", "groups/food/index.html",
                 "awards/national/index.html", "en/awards/national/index.html"):
        assert 'class="lead joined"' not in (sample_site / path).read_text(), path


@pytest.mark.parametrize("moment, national_listed", [
    (dt.datetime(2025, 12, 31, 12, tzinfo=dt.timezone.utc), True),   # last day of the 2022 award
    (dt.datetime(2026, 1, 1, 12, tzinfo=dt.timezone.utc), False),    # the day after: expired
])
def test_build_date_comes_from_source_date_epoch(tmp_path, moment, national_listed):
    from conftest import FACILITY
    product = "---\nname: Bánh\nfacility: htx-mau\ngroup: food\nawards:\n  - {level: national, year: 2022}\n---\n"
    (tmp_path / "content/products").mkdir(parents=True)
    (tmp_path / "content/facilities").mkdir()
    (tmp_path / "content/products/banh.md").write_text(product, encoding="utf-8")
    (tmp_path / "content/facilities/htx-mau.md").write_text(FACILITY, encoding="utf-8")
    (tmp_path / "content/decisions").mkdir()  # a registered decision: the award counts toward the level
    (tmp_path / "content/decisions/qg-2022.md").write_text(
        "---\nnumber: 1/QĐ-BCT\ndate: 2022-06-01\nissuer: Bộ Công Thương\nlevel: national\nproducts: [banh]\n---\n")
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(int(moment.timestamp()))}
    subprocess.run([sys.executable, str(ROOT / "build.py"), "--content", str(tmp_path / "content"),
                    "--out", str(tmp_path / "site")], check=True, env=env, capture_output=True)
    assert (tmp_path / "site/awards/national/index.html").is_file() == national_listed


def test_failed_build_leaves_previous_site_untouched(make_site):
    good = make_site({"products/banh.md": "---\nname: Bánh\nfacility: htx-mau\ngroup: food\n---\n"})
    assert good.code == 0
    before = {p: p.read_bytes() for p in good.site.rglob("*") if p.is_file()}
    bad = make_site({"products/banh.md": "---\nname: Bánh\nfacility: htx-mau\ngroup: fod\n---\n"})
    assert bad.code == 1
    after = {p: p.read_bytes() for p in good.site.rglob("*") if p.is_file()}
    assert after == before
    assert not [p for p in good.site.parent.iterdir() if p.name.startswith(".site.")]


def test_unchanged_rebuild_is_skipped_and_a_change_rebuilds(make_site):
    files = {"products/banh.md": "---\nname: Bánh\nfacility: htx-mau\ngroup: food\n---\n"}
    assert make_site(files).code == 0
    again = make_site(files)
    assert again.code == 0 and "Nothing changed" in again.out
    changed = make_site({"products/banh.md": files["products/banh.md"].replace("Bánh", "Bánh mới")})
    assert "pages" in changed.out and "Bánh mới" in (changed.site / "products/banh/index.html").read_text()
    later = make_site(files, date="2027-01-01")
    assert "pages" in later.out, "a different build date must rebuild: award validity depends on it"


def test_content_and_out_flags_build_another_tree(make_site, tmp_path):
    run = make_site({"products/banh.md": "---\nname: Bánh\nfacility: htx-mau\ngroup: food\n---\n"})
    assert run.code == 0 and (tmp_path / "site/products/banh/index.html").is_file()
    assert not (tmp_path / "site/products/kho-muc-my-thuyen").exists()


XSS = """---
name: "<script>alert('name')</script>"
facility: htx-mau
group: food
summary: "<img src=x onerror=alert(1)>"
domestic_channels: ["<b onmouseover=alert(1)>shop</b>"]
---
Hello <script>alert('body')</script> <a href="javascript:alert(1)">click</a>
<iframe src="https://evil.example"></iframe> <img src=x onerror="alert(2)">
[link](javascript:alert(3)) <a href="https://ok.example" onclick="alert(4)">ok</a>
"""


def test_content_cannot_run_script(make_site):
    run = make_site({"products/xss.md": XSS})
    assert run.code == 0, run.err
    # the editor's page is the editor's own scripts; the entries reach it only as JSON data
    admin = parse(run.site / "admin/index.html")
    assert admin.all("script") == [{"type": "importmap"}, {"type": "module", "src": "editor.js"}]
    assert "alert" not in (run.site / "admin/index.html").read_text(encoding="utf-8")
    for page in run.site.rglob("*.html"):
        if page.parent == run.site / "admin":
            continue
        parsed = parse(page)
        # the only scripts: the project's own (search; asking for quotes on product pages and the inquiry
        # list), their strings as JSON, and structured data (never run)
        scripts = [attrs for attrs in parsed.all("script") if attrs != {"type": "application/ld+json"}]
        allowed = [{"src": up + f"static/{name}.js", "defer": ""} for up in ("../", "../../", "../../../")
                   for name in ("search", "inquiry")] + [{"type": "application/json", "data-strings": ""}]
        assert all(attrs in allowed for attrs in scripts), (page, scripts)
        expected = {"search": 2, "shortlist": 2}.get(page.parent.name, 1 if page.parent.parent.name == "products" else 0)
        assert len(scripts) == expected and not parsed.all("iframe"), page
        for data in re.findall(r'<script type="application/ld\+json">(.*?)</script>', page.read_text(), re.S):
            assert "<" not in data and ">" not in data  # written as \u003c: no way out of the element
            json.loads(data)
        for tag, attrs in parsed.elements:
            assert not [name for name in attrs if name.startswith("on")], (page, tag, attrs)
            assert not any(attrs.get(name, "").strip().lower().startswith("javascript:") for name in ("href", "src"))
    product = (run.site / "products/xss/index.html").read_text()
    assert "&lt;script&gt;alert(&#39;name&#39;)&lt;/script&gt;" in product
    assert 'href="https://ok.example"' in product


def test_vocabulary_files_are_well_formed():
    vocab = load_vocabularies()
    assert len(vocab.provinces) == 34
    for name in ("provinces", "countries", "award_levels", "regions", "product_groups", "facility_kinds",
                 "certification_schemes", "support_activities", "support_statuses"):
        rows = yaml.safe_load((VOCABULARY_DIR / f"{name}.yaml").read_text(encoding="utf-8"))
        if name == "provinces":  # the Vietnamese names come from the official list (test_places.py)
            rows = province_rows(rows)
        for code, row in rows.items():
            assert isinstance(row.get("vi"), str) and isinstance(row.get("en"), str), (name, code)
            assert all(value is not None for value in row.values()), (name, code, row)
    former = [f for term in vocab.provinces for f in term.extra.get("former", [])]
    # the provinces merged into others in 2025, Thừa Thiên Huế (now Huế) and Hà Tây (merged in 2008)
    assert len({f for f in former if "-" not in f and "–" not in f}) == 30
    assert len(vocab.countries) == 249 and vocab.countries.by_code["VN"].vi == "Việt Nam"


def test_every_ui_string_has_both_languages():
    for key, texts in load_strings().items():
        assert set(texts) == {"vi", "en"}, key
        assert isinstance(texts["vi"], str) and isinstance(texts["en"], str), key


def test_replaced_site_is_kept_as_the_spare_and_nothing_else_is_left(make_site):
    import time
    first = make_site({"products/banh.md": "---\nname: Bánh\nfacility: htx-mau\ngroup: food\n---\n"})
    second = make_site({"products/banh.md": "---\nname: Bánh hai\nfacility: htx-mau\ngroup: food\n---\n"})
    assert first.code == second.code == 0
    assert "Bánh hai" in (second.site / "products/banh/index.html").read_text()
    spare = second.site.parent / ".site.spare"  # the next build's starting point (engine/incremental.py)
    assert "Bánh hai" not in (spare / "products/banh/index.html").read_text()

    def leftovers() -> list[Path]:
        return [p for p in second.site.parent.iterdir() if p.name.startswith(".site.") and p != spare]
    deadline = time.monotonic() + 20
    while leftovers() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not leftovers()


@pytest.mark.parametrize("flag, value, message", [
    ("--content", "missing-folder", "this content folder does not exist"),
    ("--content", ".", "the content folder must contain `facilities/` or `products/`"),
    ("--templates", "missing-folder", "template is missing"),
])
def test_wrong_folders_are_errors_not_empty_sites(tmp_path, capsys, monkeypatch, flag, value, message):
    monkeypatch.chdir(tmp_path)
    for command in ("check", "build"):
        code = cli.main([command, flag, str(tmp_path / value), "--out", str(tmp_path / "site"), "--date", BUILD_DATE])
        err = capsys.readouterr().err
        assert code == 1 and message in err and "Traceback" not in err
        assert not (tmp_path / "site").exists()


def test_bad_jobs_flag_is_explained(capsys):
    for value in ("0", "-2", "two"):
        with pytest.raises(SystemExit):
            cli.parse_args(["--jobs", value])
        assert "a whole number of 1 or more is needed" in capsys.readouterr().err


def test_bad_date_flag_is_explained(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.parse_args(["--date", "2026-13-01"])
    assert exit_info.value.code == 2
    assert "the date must be YYYY-MM-DD" in capsys.readouterr().err


@pytest.fixture(scope="module")
def earlier_sample_site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("earlier") / "site"
    assert cli.main(["build", "--out", str(out), "--date", BUILD_DATE, "--force"]) == 0
    return out


@pytest.mark.parametrize("template, old, new, message", [
    ("product.html", "{{ product.name[lang] }}</h1>", "{{ prodcut.name }}</h1>", "'prodcut' is undefined"),
    ("product.html", "{% block main %}", "{% block main %}\n{% blok %}", "unknown tag 'blok'"),
    ("product.html", "{% block main %}", "{% block main %}\n{% include 'nope.html' %}", "there is no template `nope.html`"),
    ("product.html", "{% block main %}", "{% block main %}\n{{ 1 + 'a' }}", "TypeError: unsupported operand"),
    ("product.html", "{% block main %}", "{% block main %}\n{{ [3, 'a'] | sort }}", "TypeError: '<' not supported"),
    # cards are rendered ahead in worker processes; macros are read when the renderer starts
    ("partials/card.html", "<article class=\"card\">", "<article class=\"card\">{{ product.nope }}", "has no attribute 'nope'"),
    ("macros/award.html", "{% endmacro %}", "{% endmacro %}\n{% macro broken( %}", "expected token 'name'"),
])
def test_a_mistake_in_a_template_is_an_error_at_its_line_and_the_site_is_kept(
        tmp_path, capsys, monkeypatch, earlier_sample_site, template, old, new, message):
    """Templates are the centre's to edit: a mistake in one names the template's file and line, as a
    content error does, with exit code 1, no traceback and no "internal error"; the last site stays."""
    import filecmp
    import shutil
    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", templates)
    site = tmp_path / "site"
    shutil.copytree(earlier_sample_site, site)
    before = sorted(path.relative_to(site) for path in site.rglob("*"))
    text = (templates / template).read_text()
    assert old in text
    text = text.replace(old, new, 1)
    (templates / template).write_text(text)
    line = text[:text.index(new) + len(new)].count("\n") + 1  # the line of the mistake: the last of `new`
    monkeypatch.chdir(tmp_path)
    code = cli.main(["build", "--content", str(CONTENT), "--templates", str(templates), "--out", str(site),
                     "--date", BUILD_DATE, "--force", "--jobs", "2"])
    err = capsys.readouterr().err
    assert code == 1, err
    assert f"templates/{template}:{line}: lỗi trong mẫu trang (template): " in err and message in err
    assert "error in the template" in err and "Traceback" not in err and "Internal error" not in err
    assert sorted(path.relative_to(site) for path in site.rglob("*")) == before
    assert filecmp.cmp(site / "index.html", earlier_sample_site / "index.html", shallow=False)


def test_check_lists_every_mistake_in_the_templates_with_the_contents(tmp_path, capsys, monkeypatch):
    """`check` reads every template as well as the content: each syntax mistake at its file and line,
    all of them at once with the content's errors, exit code 1; a file that is not UTF-8 is named.
    What an editor leaves beside a template (a vim swap file) is no template: `check` and the build
    pass with it there (a swap file in macros/ stopped every build)."""
    import shutil
    templates, content = tmp_path / "templates", tmp_path / "content"
    shutil.copytree(ROOT / "templates", templates)
    shutil.copytree(CONTENT, content)
    product = (templates / "product.html").read_text().replace("{% block main %}", "{% block main %}\n{% blok %}", 1)
    (templates / "product.html").write_text(product)
    line = product[:product.index("{% blok %}")].count("\n") + 1
    macros = (templates / "macros/award.html").read_text() + "{% macro broken( %}\n"
    (templates / "macros/award.html").write_text(macros)
    (templates / "partials/latin1.html").write_bytes("<p>Bánh</p>".encode("latin-1"))
    os.mkfifo(templates / "partials/pipe.html")  # not a regular file: named (it stopped `check` as a bug)
    entry = content / "products/ong-hut-tre.md"
    entry.write_text(entry.read_text().replace("group: handicraft", "group: khong-co"))
    monkeypatch.chdir(tmp_path)
    code = cli.main(["check", "--content", str(content), "--templates", str(templates), "--date", BUILD_DATE])
    err = capsys.readouterr().err
    assert code == 1, err
    assert f"templates/product.html:{line}: lỗi trong mẫu trang (template): " in err and "unknown tag 'blok'" in err
    assert f"templates/macros/award.html:{macros.count(chr(10))}: " in err and "expected token 'name'" in err
    assert "templates/partials/latin1.html: " in err and "a template must be UTF-8 text" in err
    assert "templates/partials/pipe.html: " in err and "a template must be a regular file" in err
    assert "products/ong-hut-tre.md:" in err and "Traceback" not in err
    (templates / "product.html").write_text((ROOT / "templates/product.html").read_text())
    (templates / "macros/award.html").write_text((ROOT / "templates/macros/award.html").read_text())
    (templates / "partials/latin1.html").unlink()
    (templates / "partials/pipe.html").unlink()
    entry.write_text((CONTENT / "products/ong-hut-tre.md").read_text())
    # what editors leave beside a template is not one: a swap file, a backup, an autosave
    (templates / "macros/.award.html.swp").write_bytes(b"b0VIM 9.0\x00\xff\xfe\x80")
    (templates / "partials/footer.html~").write_bytes(b"\xff{% if %}")
    (templates / "macros/#award.html#").write_text("{% macro level_badge() %}{% endmacro %}")  # defined twice if read
    assert cli.main(["check", "--content", str(content), "--templates", str(templates), "--date", BUILD_DATE]) == 0
    out = tmp_path / "site"
    assert cli.main(["--content", str(content), "--templates", str(templates), "--out", str(out),
                     "--date", BUILD_DATE]) == 0, capsys.readouterr().err


def test_what_editors_keep_beside_the_files_they_edit_is_never_read_nor_published(tmp_path, capsys):
    """Emacs marks a file it edits with a link to nothing beside it (`.#ong-hut-tre.md`); a build run
    meanwhile read it to fingerprint the inputs and stopped with a disk error, and in static/ it
    failed to be copied. A swap file or a backup in static/ was published. The build passes, and
    publishes none of them; an unrelated link to nothing is still read as what it says."""
    import shutil
    templates, content, static = tmp_path / "templates", tmp_path / "content", tmp_path / "static"
    shutil.copytree(ROOT / "templates", templates)
    shutil.copytree(CONTENT, content)
    shutil.copytree(ROOT / "static", static)
    lock = "root@host.4242:1700000000"
    (content / "products/.#ong-hut-tre.md").symlink_to(lock)
    (templates / "partials/.#footer.html").symlink_to(lock)
    (static / ".#style.css").symlink_to(lock)
    (static / ".style.css.swp").write_bytes(b"b0VIM 9.0\x00 a price list being typed")
    (static / "style.css~").write_text("/* yesterday's */")
    (static / "#style.css#").write_text("/* autosaved */")
    (static / "gone.css").symlink_to(static / "nowhere.css")  # not an editor's: a link to nothing
    args = ["--content", str(content), "--templates", str(templates), "--static", str(static), "--date", BUILD_DATE]
    assert cli.main([*args, "--out", str(tmp_path / "site")]) == 1  # the link to nothing cannot be copied
    assert "gone.css" in capsys.readouterr().err
    (static / "gone.css").unlink()
    assert cli.main([*args, "--out", str(tmp_path / "site")]) == 0, capsys.readouterr().err
    assert cli.main(["check", *args]) == 0
    assert (tmp_path / "site/products/ong-hut-tre/index.html").is_file()
    published = [path.name for path in (tmp_path / "site").rglob("*")]
    assert "style.css" in published and not [name for name in published if "#" in name or name.endswith((".swp", "~"))]
    worker = (tmp_path / "site/sw.js").read_text(encoding="utf-8")  # nothing it would fail to fetch
    assert "static/style.css" in worker and ".swp" not in worker and "css~" not in worker and "css#" not in worker


def test_a_photo_that_is_a_link_to_nothing_is_named_at_its_entry_not_taken_for_a_full_disk(tmp_path, capsys):
    """The build's fingerprint of its inputs read every file, and a link to nothing there stopped the
    build with "cannot write the file", before the checks that name the photo at its entry's line."""
    import shutil
    content = tmp_path / "content"
    shutil.copytree(CONTENT, content)
    photo = content / "facilities/tan-phat-loi/xuong.jpg"
    photo.unlink()
    photo.symlink_to(tmp_path / "moved-away.jpg")
    assert cli.main(["--content", str(content), "--out", str(tmp_path / "site"), "--date", BUILD_DATE]) == 1
    err = capsys.readouterr().err
    assert "tan-phat-loi/index.md:" in err and "not a regular file" in err and "không ghi được" not in err


def test_a_bug_in_code_a_template_calls_is_an_internal_error_not_the_templates(make_site, monkeypatch):
    """Only what a template itself does wrong is blamed on it: an error raised in the generator's own
    code, called from a template (here the date filter), stays an internal error to report."""
    import jinja2

    import cnnt.site.render
    monkeypatch.setattr(cnnt.site.render, "format_date", jinja2.pass_context(lambda context, value: {}["missing"]))
    run = make_site({"products/banh.md": "---\nname: Bánh\nfacility: htx-mau\ngroup: food\n---\n"})
    assert run.code == 2 and "Internal error" in run.err and "KeyError" in run.err
    assert "error in the template" not in run.err and not run.site.exists()


def test_build_failures_cross_from_worker_processes_with_their_errors():
    import pickle

    from cnnt.content.errors import BuildFailed, ContentError, OutputFailed
    errors = [ContentError("templates/a.html", 3, None, "lỗi", "error")]
    for kind in (BuildFailed, OutputFailed):
        again = pickle.loads(pickle.dumps(kind(errors, errors)))
        assert type(again) is kind and again.errors == errors and again.warnings == errors


@pytest.mark.parametrize("existing", ["folder of other files", "a file", "the project itself"])
def test_output_never_replaces_what_the_build_did_not_make(tmp_path, capsys, monkeypatch, existing):
    monkeypatch.chdir(tmp_path)
    if existing == "folder of other files":
        out = tmp_path / "precious"
        out.mkdir()
        (out / "notes.txt").write_text("keep me")
    elif existing == "a file":
        out = tmp_path / "notes.txt"
        out.write_text("keep me")
    else:
        out = ROOT
    before = sorted(p.name for p in out.iterdir()) if out.is_dir() else out.read_text()
    code = cli.main(["build", "--out", str(out), "--date", BUILD_DATE, "--force"])
    err = capsys.readouterr().err
    assert code == 1 and "--out" in err and "Traceback" not in err
    assert (sorted(p.name for p in out.iterdir()) if out.is_dir() else out.read_text()) == before


@pytest.mark.parametrize("place", ["static/site", "templates/site", "content/site", "."])
def test_output_lies_apart_from_everything_the_build_reads(tmp_path, capsys, place):
    """Inside `static/`, the site was copied into itself at every build (hundreds of megabytes, then a
    name too long); inside the content, each build read the last one's output as input; holding the
    inputs, it would replace them. Each is refused before anything is written."""
    import shutil
    for folder in ("content", "templates", "static"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    shutil.copyfile(ROOT / "site.yaml", tmp_path / "site.yaml")
    before = sorted(path.relative_to(tmp_path) for path in tmp_path.rglob("*"))
    code = cli.main(["build", "--out", str(tmp_path / place), "--content", str(tmp_path / "content"),
                     "--templates", str(tmp_path / "templates"), "--static", str(tmp_path / "static"),
                     "--config", str(tmp_path / "site.yaml"), "--date", BUILD_DATE])
    err = capsys.readouterr().err
    assert code == 1 and "--out" in err and "the output folder must lie outside" in err and "Traceback" not in err
    assert sorted(path.relative_to(tmp_path) for path in tmp_path.rglob("*")) == before


def test_output_may_be_an_empty_folder_or_an_earlier_build(make_site, tmp_path):
    (tmp_path / "site").mkdir()
    files = {"products/banh.md": "---\nname: Bánh\nfacility: htx-mau\ngroup: food\n---\n"}
    assert make_site(files).code == 0
    assert make_site(files, extra=("--force",)).code == 0


def test_macros_are_shared_by_name_and_a_name_defined_twice_is_an_error():
    import jinja2

    from cnnt.site.render import macros

    env = jinja2.Environment(loader=jinja2.DictLoader({
        "macros/a.html": "{% macro hello(name) %}Xin chào {{ name }}{% endmacro %}",
        "macros/b.html": "{% macro bye() %}Tạm biệt{% endmacro %}",
        "partials/not-macros.html": "{{ undefined_here.attribute }}",
    }), undefined=jinja2.StrictUndefined)
    found = macros(env)
    assert sorted(found) == ["bye", "hello"] and found["hello"]("Mẫu") == "Xin chào Mẫu"
    env.loader.mapping["macros/c.html"] = "{% macro hello() %}again{% endmacro %}"
    with pytest.raises(jinja2.TemplateRuntimeError, match="hello"):
        macros(env)


HOSTILE_VALUES = ["<script>alert('x')</script>", 'a "quoted" & <b>bold</b>', "Cà Mau → Hà Nội", "", 42, 2.5, None,
                  ["<li>"], "\ue000root\ue000<"]
ESCAPING_TEMPLATES = {
    "page.html": ("{% from 'm.html' import wrap %}{{ value }}|{{ safe }}|{{ wrap(value) }}|{{ value ~ '<i>' }}|"
                  "{% set captured %}<p>{{ value }}</p>{% endset %}{{ captured }}|{{ captured|upper }}|"
                  "{% filter lower %}{{ value }}<B>{% endfilter %}|{{ object }}|{{ value|e }}|"
                  "{% autoescape false %}{{ value }}{% endautoescape %}|{{ value }}"),
    "m.html": "{% macro wrap(x) %}<em>{{ x }}</em>{% endmacro %}",
}


@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_fast_escaping_writes_what_jinja_writes(value):
    """Autoescaped output goes through html_text (no Markup per piece): byte for byte what Jinja's
    own escaping writes, in output, macros, captures, filters and autoescape blocks."""
    import jinja2
    from markupsafe import Markup, escape

    from cnnt.site.render import _Environment, html_text

    class Html:
        def __html__(self):
            return "<b>already safe</b>"

    values = {"value": value, "safe": Markup("<b>safe</b>"), "object": Html()}
    jinja = jinja2.Environment(loader=jinja2.DictLoader(ESCAPING_TEMPLATES), autoescape=True)
    ours = _Environment(loader=jinja2.DictLoader(ESCAPING_TEMPLATES), autoescape=True)
    expected = jinja.get_template("page.html").render(values)
    assert ours.get_template("page.html").render(values) == expected
    assert "&lt;" in expected or "<" not in str(value)  # the comparison is of escaped text
    assert html_text(value) == str(escape(value)) and type(html_text("<")) is str
    assert html_text(Markup("<b>")) == "<b>" and html_text(Html()) == "<b>already safe</b>"


class _Greeter:
    """A callable object that takes the context, for `test_quick_calls_pass_what_jinja_passes`."""

    @jinja2.pass_context
    def __call__(self, context, greeting):
        return f"{greeting}, {context.get('mark', context['who'])}"


class _Shop:
    def price(self, amount):
        return f"{amount:,} ₫"


def _ends():
    raise StopIteration


CALL_TEMPLATES = {
    "page.html": ("{% from 'm.html' import row %}{{ plain(1, b=2) }}|{{ shop.price(12000) }}|{{ len(items) }}|"
                  "{{ lang_of() }}|{{ autoescaping() }}|{{ env_kind() }}|{{ greet('Chào') }}|{{ row('x') }}|"
                  "{{ dict(a=1) }}|{{ ends() is undefined }}|"
                  "{% for item in items %}{% set mark = item ~ '!' %}{{ lang_of() }}:{{ seen() }}:{{ greet('Hi') }}:{{ row(item) }};"
                  "{% endfor %}|"
                  "{% block body %}{% set inner = 'in block' %}{{ seen_block() }}{% endblock %}"),
    "m.html": "{% macro row(x) %}<td>{{ x }}</td>{% endmacro %}",
}


def test_quick_calls_pass_what_jinja_passes():
    """Templates call functions, methods, built-ins and macros through `_Context.call`, which asks
    one attribute where Jinja asks four: each callable gets what Jinja's `call` gives it (the context,
    the loop's and block's variables in it, the evaluation context, the environment), and the output
    is byte for byte Jinja's. A test that fails if the quick way passed the wrong thing or nothing."""
    from cnnt.site.render import _Context, _Environment

    values = {
        "plain": lambda a, b: f"{a}+{b}", "shop": _Shop(), "len": len, "items": ["<a>", "b"], "who": "khách",
        "lang_of": jinja2.pass_context(lambda context: context["lang"]), "lang": "vi",
        "seen": jinja2.pass_context(lambda context: context.get("mark", "none")),
        "seen_block": jinja2.pass_context(lambda context: context.get("inner", "none")),
        "autoescaping": jinja2.pass_eval_context(lambda eval_context: eval_context.autoescape),
        "env_kind": jinja2.pass_environment(lambda environment: type(environment).__name__.strip("_")),
        "greet": _Greeter(), "dict": dict, "ends": _ends,
    }
    jinja = jinja2.Environment(loader=jinja2.DictLoader(CALL_TEMPLATES), autoescape=True)
    ours = _Environment(loader=jinja2.DictLoader(CALL_TEMPLATES), autoescape=True)
    expected = jinja.get_template("page.html").render(values)
    assert ours.context_class is _Context
    assert ours.get_template("page.html").render(values) == expected
    # what the comparison covers: each kind of callable gave its answer
    assert expected.startswith("1+2|12,000 ₫|2|vi|True|Environment|Chào, khách|<td>x</td>|{&#39;a&#39;: 1}|True|")
    assert "vi:&lt;a&gt;!:Hi, &lt;a&gt;!:<td>&lt;a&gt;</td>;vi:b!:Hi, b!:<td>b</td>;" in expected
    assert expected.endswith("|in block")

    def boom():
        raise ValueError("boom")

    with pytest.raises(ValueError) as raised:  # an error keeps pointing at its template's line, not at the call
        _Environment(loader=jinja2.DictLoader({"p.html": "first line\n{{ boom() }}"})).get_template("p.html").render(
            boom=boom)
    frames = [(frame.name, frame.lineno) for frame in traceback.extract_tb(raised.tb)]
    assert ("top-level template code", 2) in frames and "call" not in [name for name, _ in frames]


def test_strings_read_as_attributes_are_the_strings():
    """Templates read UI strings as `s.key`, and as `s[key]`: the same text both ways, in both languages,
    and found as an attribute at once (Jinja then tries nothing else: see `Strings`)."""
    from cnnt.site.render import Strings, load_strings

    strings = load_strings()
    for lang in ("vi", "en"):
        texts = Strings({key: both[lang] for key, both in strings.items()})
        env = jinja2.Environment()
        for key in strings:
            assert getattr(texts, key) == env.getattr(texts, key) == texts[key] == strings[key][lang], key



def test_a_string_keyed_as_a_dict_method_leaves_the_method_alone():
    """A UI string whose key is also a dict's method (`items`, `get`) stays a key: as an attribute it
    would hide the method from the code that reads the strings."""
    from cnnt.site.render import Strings

    texts = Strings({"items": "Mục", "get": "Lấy", "search": "Tìm"})
    assert dict(texts.items()) == {"items": "Mục", "get": "Lấy", "search": "Tìm"}
    assert texts.get("search") == "Tìm" == texts.search and texts["items"] == "Mục"

def test_worker_processes_build_what_one_process_builds(tmp_path):
    """Entries parsed, cards rendered and pages written by worker processes give the very bytes
    that one process gives: 250 products are enough for workers."""
    sys.path.insert(0, str(ROOT / "bench"))
    from generate import generate

    content = tmp_path / "content"
    generate(250, content)
    sites = {}
    for jobs in ("1", "2"):
        sites[jobs] = tmp_path / f"site-{jobs}"
        assert cli.main(["build", "--content", str(content), "--out", str(sites[jobs]), "--date", BUILD_DATE,
                         "--jobs", jobs]) == 0
    files = {jobs: sorted(p.relative_to(site) for p in site.rglob("*") if p.is_file()) for jobs, site in sites.items()}
    assert files["1"] == files["2"] and len(files["1"]) > 700
    different = [f for f in files["1"] if (sites["1"] / f).read_bytes() != (sites["2"] / f).read_bytes()]
    assert not different, different[:5]


def test_a_vocabulary_written_wrong_is_named_at_its_file_and_line(make_site, vocabularies):
    """The centre edits the vocabularies: a mistake in one stops the build with its file and line, as
    a mistake in an entry does, not as an error in the generator; every file's mistake at once."""
    groups, units = vocabularies / "product_groups.yaml", vocabularies / "units.yaml"
    text, units_text = groups.read_text(encoding="utf-8"), units.read_text(encoding="utf-8")
    groups.write_text(text.replace('food:       {vi: "', 'food:       {vi: ["', 1), encoding="utf-8")
    units.write_text(units_text + "[\n", encoding="utf-8")
    run = make_site({})
    assert run.code == 1 and "Traceback" not in run.err and "internal error" not in run.err, run.err
    assert re.search(r"vocabularies/product_groups\.yaml:3: .*YAML syntax error", run.err), run.err
    assert "vocabularies/units.yaml:" in run.err
    units.write_text(units_text, encoding="utf-8")
    groups.write_text(text.replace('other:      {vi: "Sản phẩm khác", en:', 'other:      {vi: "Sản phẩm khác", english:'),
                      encoding="utf-8")
    run = make_site({})
    assert run.code == 1 and re.search(r"vocabularies/product_groups\.yaml:5: .*`vi` and `en`", run.err), run.err
    groups.write_text(text, encoding="utf-8")
    # a province code the official list does not have, and one without its English name: each at its line
    provinces = vocabularies / "provinces.yaml"
    provinces_text = provinces.read_text(encoding="utf-8")
    provinces.write_text(provinces_text.replace("lai-chau:          {en: Lai Chau}", "lai-chua:          {en: Lai Chau}"),
                         encoding="utf-8")
    run = make_site({})
    line = provinces_text.splitlines().index("lai-chau:          {en: Lai Chau}") + 1
    assert run.code == 1 and "Traceback" not in run.err, run.err
    assert f"vocabularies/provinces.yaml:{line}: lai-chua: không phải mã của một tỉnh" in run.err, run.err
    assert "not the code of a province in the official list" in run.err and "did you mean `lai-chau`?" in run.err
    provinces.write_text(provinces_text.replace("son-la:            {en: Son La}", "son-la:            {vi: Sơn La}"),
                         encoding="utf-8")
    run = make_site({})
    assert run.code == 1 and f"vocabularies/provinces.yaml:{line + 2}: son-la: " in run.err, run.err
    provinces.write_text(provinces_text, encoding="utf-8")
    assert make_site({}).code == 0


def test_more_jobs_than_two_a_core_are_named_and_not_used(tmp_path, capsys, monkeypatch):
    from cnnt.system import parallel
    monkeypatch.setattr(parallel, "default_jobs", lambda: 2)
    assert cli.main(["build", "--out", str(tmp_path / "site"), "--date", BUILD_DATE, "--jobs", "1000"]) == 0
    err = capsys.readouterr().err
    assert "--jobs 1000: máy này có 2 lõi, dùng tối đa 4 tiến trình" in err
    assert "this machine has 2 cores: at most 4 worker processes are used" in err
    assert cli.main(["build", "--out", str(tmp_path / "site"), "--date", BUILD_DATE, "--jobs", "4"]) == 0
    assert "warning" not in capsys.readouterr().err
