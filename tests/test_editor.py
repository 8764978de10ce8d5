"""The form editor at /admin/ (Sveltia CMS): its configuration follows the schemas, buyers never meet
it, and, driven in Chromium on a copy of the sample catalogue, it writes files that pass `check`, read
as a person writes them, and still go through the pull request check."""
from __future__ import annotations

import base64
import datetime as dt
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import jsonschema
import pytest
from browser import require_chromium, serve_folder
from conftest import BUILD_DATE, ROOT
from PIL import Image

import build as cli
from cnnt.content import kinds
from cnnt.content.config import load_config
from cnnt.content.load import LoadOptions, load_catalogue
from cnnt.content.text import slugify
from cnnt.content.vocab import load_vocabularies
from cnnt.site import editor, schema

SVELTIA_SCHEMA = ROOT / "node_modules/@sveltia/cms/schema/sveltia-cms.json"
GIT = ["git", "-c", "user.name=test", "-c", "user.email=test@example.org", "-c", "commit.gpgsign=false"]


@pytest.fixture(scope="module")
def generated():
    vocab = load_vocabularies()
    config = load_config(ROOT / "site.yaml", dt.date.fromisoformat(BUILD_DATE), ROOT)
    catalogue = load_catalogue(LoadOptions(ROOT / "content", ROOT, dt.date.fromisoformat(BUILD_DATE), vocab))
    return vocab, config, catalogue, editor.editor_config(vocab, config, catalogue)


def collection(config: dict, name: str) -> dict:
    return next(c for c in config["collections"] if c["name"] == name)


def test_the_configuration_file_is_the_configuration_with_every_entry_choice(generated):
    """The entries' choices are put into config.json as JSON made a choice at a time (at 50k products,
    as objects, they held 45 MB at once); the file is what encoding the whole configuration gives,
    even where an entry's name looks like what stands for the choices until they are put in."""
    vocab, config, catalogue, configuration = generated
    some = next(iter(catalogue.products.values()))
    object.__setattr__(some.name, "vi", "\0product\0")  # (frozen: a copy's name, for this test alone)
    try:
        files = editor.editor_files(vocab, config, catalogue, {})
        expected = editor.editor_config(vocab, config, catalogue)
    finally:
        catalogue_again = load_catalogue(LoadOptions(ROOT / "content", ROOT, dt.date.fromisoformat(BUILD_DATE), vocab))
        object.__setattr__(some.name, "vi", catalogue_again.products[some.slug].name.vi)
    assert files[f"{editor.ADMIN_DIR}/config.json"] == (
        json.dumps(expected, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n")
    decisions = collection(json.loads(files[f"{editor.ADMIN_DIR}/config.json"]), "decisions")
    assert any(len(field.get("options", ())) == len(catalogue.products) for field in decisions["fields"])


def test_entry_choices_made_json_a_thousand_at_a_time_are_the_choices_as_json():
    from types import SimpleNamespace
    entries = [SimpleNamespace(slug=f"co-so-{number}", name=SimpleNamespace(vi=f"Cơ sở {number % 7} \"ấy\""))
               for number in range(2500)]
    encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
    for count in (0, 1, 1000, 1001, 2500):
        assert editor._entry_options(entries[:count], encoder) == encoder.encode(
            editor._entry_choices(entries[:count])).encode("utf-8")


def test_every_schema_field_is_in_the_form_and_nothing_else(generated):
    vocab, _, _, config = generated
    for kind in kinds.KINDS:
        document = schema.schemas(vocab)[kind.name]
        fields = {f["name"]: f for f in collection(config, kind.folder)["fields"]}
        assert list(fields) == [*document["properties"], "body"], kind.name
        for name in document.get("required", ()):
            assert fields[name]["required"] in (True, ["vi"]), (kind.name, name)
        for name in kind.credentials:
            assert "trung tâm" in fields[name]["hint"], (kind.name, name)
        if "images" in kind.fields:  # single files: the same fields but photos, which need a folder
            single = [f["name"] for f in collection(config, f"{kind.folder}-single")["fields"]]
            assert single == [name for name in fields if name != "images"]


def test_every_vocabulary_is_a_select_of_its_terms(generated):
    vocab, _, catalogue, config = generated
    fields = {f["name"]: f for f in collection(config, "products")["fields"]}
    assert [o["value"] for o in fields["group"]["options"]] == [t.code for t in vocab.product_groups]
    awards = {f["name"]: f for f in fields["awards"]["fields"]}
    assert [o["value"] for o in awards["level"]["options"]] == [t.code for t in vocab.award_levels]
    assert [o["value"] for o in awards["region"]["options"]] == [t.code for t in vocab.regions]
    assert fields["export_markets"]["multiple"] and len(fields["export_markets"]["options"]) == len(vocab.countries)
    schemes = {f["name"]: f for f in fields["certifications"]["fields"]}["scheme"]
    assert [o["value"] for o in schemes["options"]] == [t.code for t in vocab.certification_schemes]
    # the facility is chosen among the catalogue's facilities
    assert {o["value"] for o in fields["facility"]["options"]} == set(catalogue.facilities)
    facility = {f["name"]: f for f in collection(config, "facilities")["fields"]}
    provinces = facility["province"]["options"]
    assert [o["value"] for o in provinces] == [t.vi for t in vocab.provinces]
    assert any("Bạc Liêu" in o["label"] for o in provinces if o["value"] == "Cà Mau")  # former provinces named
    assert [o["value"] for o in facility["kind"]["options"]] == [t.code for t in vocab.facility_kinds]
    # years and days after the build date are refused in the form, as `check` refuses them
    assert {f["name"]: f for f in fields["awards"]["fields"]}["year"]["max"] == catalogue.build_date.year
    assert facility["founded"]["max"] == catalogue.build_date.year
    decision = {f["name"]: f for f in collection(config, "decisions")["fields"]}
    assert decision["date"]["max"] == catalogue.build_date.isoformat()


def test_a_field_added_to_the_contract_appears_in_the_form(generated, monkeypatch):
    vocab, site, catalogue, _ = generated
    original = schema.schemas

    def with_new_field(vocabularies):
        documents = original(vocabularies)
        documents["product"]["properties"]["brand"] = schema.text(100, "Nhãn hiệu · brand")
        return documents
    monkeypatch.setattr(schema, "schemas", with_new_field)
    fields = {f["name"]: f for f in collection(editor.editor_config(vocab, site, catalogue), "products")["fields"]}
    assert fields["brand"]["widget"] == "string" and fields["brand"]["maxlength"] == 100


def test_translations_and_layout_follow_the_content_contract(generated):
    _, _, _, config = generated
    assert config["i18n"]["omit_default_locale_from_file_path"] is True  # slug.md and slug.en.md
    products = collection(config, "products")
    assert products["path"] == "{{slug}}/index" and products["media_folder"] == ""  # photos beside index.md
    translated = {f["name"] for f in products["fields"] if f["i18n"] is True}
    assert translated == editor.TRANSLATED & {f["name"] for f in products["fields"]} | {"body"}
    assert config["media_libraries"]["stock_assets"] is False


def test_configuration_is_valid_for_sveltia(generated):
    if not SVELTIA_SCHEMA.exists():
        if os.environ.get("CI"):
            raise RuntimeError(f"{SVELTIA_SCHEMA} missing: .ci/run installs it (npm ci)")
        pytest.skip("Sveltia CMS not installed (npm ci)")
    *_, config = generated
    jsonschema.validate(config, json.loads(SVELTIA_SCHEMA.read_text(encoding="utf-8")))


def test_buyers_never_meet_the_editor(sample_site):
    page = (sample_site / "admin/index.html").read_text(encoding="utf-8")
    assert '<meta name="robots" content="noindex, nofollow">' in page
    assert "https://" not in page and "//cdn" not in page  # every file from the site itself
    assert "admin/" not in (sample_site / "sitemap.xml").read_text(encoding="utf-8")
    worker = (sample_site / "sw.js").read_text(encoding="utf-8")
    assert 'new URL("admin/", self.registration.scope)' in worker and "url.pathname.startsWith(ADMIN)" in worker
    assert "admin/" not in json.loads(worker.split("const PRECACHE = ")[1].split(";\n")[0]).__repr__()
    for html in sample_site.rglob("*.html"):
        if "admin" not in html.relative_to(sample_site).parts:
            text = html.read_text(encoding="utf-8")
            assert "/admin" not in text and "sveltia" not in text.lower(), html
    script = (sample_site / "admin/sveltia/npm/index.js").read_bytes()
    assert b"cdn.jsdelivr.net/fontsource" not in script and b"sveltia/npm/assets/source-sans-3-" in script


# -- in Chromium, on a copy of the sample --------------------------------------------------------------

POPULATE = """async (files) => {
  const root = await navigator.storage.getDirectory();
  for await (const name of root.keys()) await root.removeEntry(name, {recursive: true});
  for (const [path, data] of Object.entries(files)) {
    const parts = path.split('/'); let dir = root;
    for (const part of parts.slice(0, -1)) dir = await dir.getDirectoryHandle(part, {create: true});
    const writable = await (await dir.getFileHandle(parts.at(-1), {create: true})).createWritable();
    await writable.write(Uint8Array.from(atob(data), c => c.charCodeAt(0))); await writable.close();
  }
}"""
READ_BACK = """async () => { const files = {};
  const walk = async (dir, prefix) => { for await (const [name, handle] of dir.entries()) {
    if (handle.kind === 'directory') await walk(handle, prefix + name + '/');
    else { const bytes = new Uint8Array(await (await handle.getFile()).arrayBuffer()); let text = '';
           for (const b of bytes) text += String.fromCharCode(b); files[prefix + name] = btoa(text); } } };
  await walk(await navigator.storage.getDirectory(), ''); return files; }"""
# The editor draws only the fields in view: scroll every pane through so that all are there.
SCROLL = """async () => { for (const el of document.querySelectorAll('*')) {
  const s = getComputedStyle(el); if (!/(auto|scroll)/.test(s.overflowY) || el.scrollHeight <= el.clientHeight + 10) continue;
  for (let y = 0; y <= el.scrollHeight; y += 300) { el.scrollTop = y; await new Promise(r => setTimeout(r, 20)); }
  el.scrollTop = 0; } }"""


class Editor:
    """The editor in one page, with its local-repository mode on the page's own private file system
    (Chromium's origin-private storage stands in for the folder a person picks)."""

    def __init__(self, page) -> None:
        self.page = page

    def control(self, label: str):
        ident = None
        for _ in range(20):  # the form is drawn a little after it opens
            self.page.evaluate(SCROLL)
            ident = self.page.evaluate("(t) => [...document.querySelectorAll('[id$=-label]')]"
                                       ".find(e => e.textContent.trim() === t)?.id", label)
            if ident:
                break
            time.sleep(0.25)
        assert ident, f"no field labelled {label!r}"
        found = self.page.locator(f'[aria-labelledby~="{ident}"]').first
        found.scroll_into_view_if_needed()
        return found

    def fill(self, label: str, value: str) -> None:
        self.control(label).fill(value)

    def choose(self, label: str, option: str) -> None:
        self.control(label).click()
        self.page.get_by_role("option", name=option).first.click()

    def pick(self, option: str) -> None:  # a radio button: a vocabulary of a few terms
        self.control(option).click()

    def add(self, label: str) -> None:
        self.page.evaluate(SCROLL)
        button = self.page.locator("button").filter(has_text=f"Thêm ⁨{label}⁩").first
        button.scroll_into_view_if_needed()
        button.click()

    def open(self, collection_label: str, entry: str | None = None) -> None:
        self.page.get_by_text(collection_label, exact=True).first.click()
        if entry is None:
            self.page.get_by_role("button", name="Tạo bài viết mới").click()
        else:
            self.page.get_by_text(entry, exact=True).first.click()
        self.page.get_by_role("button", name="Lưu", exact=True).wait_for()

    def save(self) -> None:
        self.page.get_by_role("button", name="Lưu", exact=True).click()
        self.page.get_by_text("Đã lưu bài viết.").first.wait_for(timeout=20_000)
        time.sleep(0.5)


NEW_PRODUCT = "Mắm tôm đất chua Tân Phát Lợi"


def label(options: list[dict], value: str) -> str:
    return next(o["label"] for o in options if o["value"] == value)


@pytest.fixture
def catalogue_repo(tmp_path) -> Path:
    """The sample catalogue in a git repository of its own: the pull request's base."""
    top = tmp_path / "catalogue"
    shutil.copytree(ROOT / "content", top / "content")
    shutil.copy(ROOT / "site.yaml", top / "site.yaml")
    shutil.copytree(ROOT / "cnnt/content/vocabularies", top / "cnnt/content/vocabularies")
    subprocess.run([*GIT, "init", "-q"], cwd=top, check=True)
    subprocess.run([*GIT, "add", "-A"], cwd=top, check=True)
    subprocess.run([*GIT, "commit", "-qm", "base"], cwd=top, check=True)
    return top


def owners(top: Path, author: str, capsys, monkeypatch) -> tuple[int, str]:
    subprocess.run([*GIT, "add", "-A"], cwd=top, check=True)
    subprocess.run([*GIT, "commit", "-qm", "editor"], cwd=top, check=True)
    base = subprocess.run([*GIT, "rev-list", "--max-parents=0", "HEAD"], cwd=top, check=True, capture_output=True,
                          text=True).stdout.strip()
    monkeypatch.chdir(top)
    capsys.readouterr()
    code = cli.main(["owners", "--author", author, "--base", base, "--content", str(top / "content"),
                     "--config", str(top / "site.yaml")])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_the_editor_writes_files_that_pass_check_and_review(sample_site, catalogue_repo, generated, browser,
                                                            capsys, monkeypatch):
    require_chromium()
    *_, config = generated
    products = {f["name"]: f for f in collection(config, "products")["fields"]}
    food = label(products["group"]["options"], "food")
    provincial = label({f["name"]: f for f in products["awards"]["fields"]}["level"]["options"], "provincial")
    ocop = label({f["name"]: f for f in products["certifications"]["fields"]}["scheme"]["options"], "ocop")
    files = {path.relative_to(catalogue_repo).as_posix(): base64.b64encode(path.read_bytes()).decode()
             for path in catalogue_repo.rglob("*") if path.is_file() and ".git" not in path.parts}
    files[".git/HEAD"] = base64.b64encode(b"ref: refs/heads/main\n").decode()  # what marks a repository root
    phone_before = (catalogue_repo / "content/facilities/tan-phat-loi/index.md").read_text(encoding="utf-8")
    big_photo = catalogue_repo.parent / "hu-mam.jpg"  # as a phone takes it: 12 megapixels
    with Image.open(ROOT / "content/facilities/tan-phat-loi/xuong.jpg") as sample:
        sample.convert("RGB").resize((4000, 3000)).save(big_photo, quality=95)

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    context.add_init_script("window.showDirectoryPicker = async () => navigator.storage.getDirectory();")
    page = context.new_page()
    errors: list[str] = []
    # the editor asks githubstatus.com whether GitHub is up: the only other host, and not an asset
    page.on("request", lambda r: errors.append(f"another host: {r.url}") if not r.url.startswith(
        ("http://127.0.0.1:", "data:", "blob:")) and "githubstatus.com" not in r.url else None)
    page.on("requestfailed", lambda r: errors.append(r.url) if "githubstatus.com" not in r.url else None)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400
            and not r.url.endswith("/favicon.ico") else None)
    page.on("pageerror", lambda e: errors.append(str(e)) if "Cannot convert undefined or null" not in str(e) else None)
    with serve_folder(sample_site) as address:
        page.goto(address + "robots.txt")
        page.evaluate(POPULATE, files)
        page.goto(address + "admin/")
        page.get_by_text("Làm việc với kho mã nguồn cục bộ").click()
        form = Editor(page)

        # 1. a facility's phone number
        form.open("Cơ sở · Facilities", "HTX Tân Phát Lợi")
        form.fill("Điện thoại · phone", "0290 3 888 999")
        form.save()
        page.get_by_role("button", name="Hủy chỉnh sửa").click() if page.get_by_role(
            "button", name="Hủy chỉnh sửa").count() else None

        # 2. a new product with an award, a certification and a photo
        form.open("Sản phẩm · Products")
        form.fill("Tên · name", NEW_PRODUCT)
        form.choose(products["facility"]["label"], "HTX Tân Phát Lợi (tan-phat-loi)")
        form.pick(food)
        form.add(products["awards"]["label"])
        form.pick(provincial)
        form.fill("Năm công nhận · year of the decision", "2025")
        form.add(products["certifications"]["label"])
        form.choose("Chứng nhận · scheme", ocop)
        form.fill("Hạng (OCOP: số sao 3–5) · grade (OCOP: stars)", "4")
        form.fill("Năm cấp · year issued", "2024")
        form.add("ảnh · photo")
        page.evaluate(SCROLL)
        browse = page.locator("button:has-text('Duyệt tệp')").last
        browse.scroll_into_view_if_needed()
        browse.click()
        page.locator("[role=dialog] input[type=file]").set_input_files(str(big_photo))
        page.get_by_role("dialog").get_by_role("button", name="Chèn").click()
        form.fill("Mô tả ảnh · alt text", "Hũ mắm tôm chua")
        form.fill("Một câu giới thiệu · one sentence", "Mắm tôm chua làm từ tôm đất tươi.")
        form.save()

        # 3. an English translation of a product that had none
        form.open("Sản phẩm, tệp đơn · Products, single file", "Bánh phồng tôm Tân Phát Lợi")
        page.get_by_role("radio", name="Tiếng Anh").first.click()
        page.locator("button").filter(has_text="Bật").filter(has_text="Tiếng Anh").first.click()
        form.fill("Tên · name", "Tan Phat Loi shrimp crackers")
        form.fill("Một câu giới thiệu · one sentence", "Crackers made with 40% fresh shrimp.")
        form.save()
        written = {path: base64.b64decode(data) for path, data in page.evaluate(READ_BACK).items()}
    context.close()
    assert not errors, errors

    for path, data in written.items():
        if path.startswith("content/"):
            (catalogue_repo / path).parent.mkdir(parents=True, exist_ok=True)
            (catalogue_repo / path).write_bytes(data)

    # one field edited, one line changed
    phone_after = (catalogue_repo / "content/facilities/tan-phat-loi/index.md").read_text(encoding="utf-8")
    assert phone_after == phone_before.replace("  phone: 0900 000 101\n", "  phone: 0290 3 888 999\n")
    # a new entry reads as `python build.py new` writes one, its photo beside it, made WebP in the browser
    product = catalogue_repo / "content/products" / slugify(NEW_PRODUCT)  # named as `new` would name it
    assert (product / "index.md").read_text(encoding="utf-8") == (
        f"---\nname: {NEW_PRODUCT}\nfacility: tan-phat-loi\ngroup: food\n"
        "awards:\n  - {level: provincial, year: 2025}\ncertifications:\n  - {scheme: ocop, grade: 4, year: 2024}\n"
        "summary: Mắm tôm chua làm từ tôm đất tươi.\nimages:\n  - {src: hu-mam.webp, alt: Hũ mắm tôm chua}\n---\n")
    with Image.open(product / "hu-mam.webp") as photo:  # made smaller in the browser, before it was sent
        assert photo.format == "WEBP" and photo.size == (editor.PHOTO_EDGE, editor.PHOTO_EDGE * 3 // 4)
    # the translation in its own file, as the content contract has it
    assert (catalogue_repo / "content/products/banh-phong-tom-tan-phat-loi.en.md").read_text(encoding="utf-8") == (
        "---\nname: Tan Phat Loi shrimp crackers\nsummary: Crackers made with 40% fresh shrimp.\n---\n")
    assert not [p for p in written if p.startswith("content/") and p.endswith(".vi.md")]

    monkeypatch.chdir(catalogue_repo)
    assert cli.main(["check", "--content", str(catalogue_repo / "content"), "--config",
                     str(catalogue_repo / "site.yaml"), "--date", BUILD_DATE]) == 0, capsys.readouterr().err

    # the pull request check judges what the editor saved like any other change: the facility's
    # maintainer may change its phone, but not give its new product an award or a certification
    code, said = owners(catalogue_repo, "tanphatloi", capsys, monkeypatch)
    assert code == 1 and "awards" in said and "certifications" in said, said
    assert "contact" not in said and "banh-phong-tom-tan-phat-loi.en.md" not in said, said


# -- the editor's file format, on its own ------------------------------------------------------------

HAND_WRITTEN = {
    "products/viet-tay.md": ('---\n# yaml-language-server: $schema=../../schemas/product.schema.json\n'
                             'name: Kẹo dừa "Bến Tre"\nfacility: htx-mau\ngroup: Thực phẩm  # any usual spelling\n'
                             'export_markets: [kr, JP]\nhs_code: "1704.90"\n\ntags:\n  - kẹo\n  - quà biếu\n'
                             '---\nKẹo dừa nấu tay.  \n\n- nguyên liệu: dừa\n'),
    "facilities/cu.md": ("---\nname: HTX Cũ\nkind: HTX\nprovince: Bạc Liêu\ncontact: {phone: 0900 000 001}\n"
                         "founded: 2010\n---\nMô tả.\n"),
    "decisions/qd-1.md": ("---\nnumber: 12/QĐ-UBND\ndate: 2025-06-01\nissuer: UBND tỉnh Cà Mau\nlevel: provincial\n"
                          "products: [keo-a]\n---\n"),
    "products/ban-dich.en.md": "---\nname: Coconut candy\n---\nMade by hand.\n",
}
# (file, field path, new value) → the file as it must read after
EDITS = [
    ("facilities/cu.md", "contact.phone", "0290 3 888 999",
     "---\nname: HTX Cũ\nkind: HTX\nprovince: Bạc Liêu\ncontact: {phone: 0290 3 888 999}\nfounded: 2010\n---\nMô tả.\n"),
    ("products/viet-tay.md", "summary", "Kẹo dừa Bến Tre.",  # a new field goes where the contract puts it
     HAND_WRITTEN["products/viet-tay.md"].replace('hs_code: "1704.90"\n', 'summary: Kẹo dừa Bến Tre.\nhs_code: "1704.90"\n')),
    ("products/viet-tay.md", "tags", ["kẹo", "quà biếu", "Tết"],
     HAND_WRITTEN["products/viet-tay.md"].replace("  - quà biếu\n", "  - quà biếu\n  - Tết\n")),
    ("products/viet-tay.md", "hs_code", "",  # a field emptied in the form leaves the file
     HAND_WRITTEN["products/viet-tay.md"].replace('hs_code: "1704.90"\n', "")),
    ("decisions/qd-1.md", "products", ["keo-a", "keo-b"],
     "---\nnumber: 12/QĐ-UBND\ndate: 2025-06-01\nissuer: UBND tỉnh Cà Mau\nlevel: provincial\n"
     "products: [keo-a, keo-b]\n---\n"),
    ("products/ban-dich.en.md", "body", "Made by hand in Ben Tre.",
     "---\nname: Coconut candy\n---\nMade by hand in Ben Tre.\n"),
    ("products/viet-tay.md", "body", "Kẹo dừa nấu tay, gói lá chuối.",  # the blank line after `---` stays
     HAND_WRITTEN["products/viet-tay.md"].split("---\nKẹo")[0] + "---\nKẹo dừa nấu tay, gói lá chuối.\n"),
]
# new files, from the form's values (in the form's order, with its empty fields) → as `new` writes them
CREATED = [
    ("decisions", {"number": "7/QĐ-UBND", "date": "2026-01-05", "issuer": "UBND tỉnh Cà Mau", "level": "provincial",
                   "region": "", "products": ["keo-a", "keo-b"], "document": "", "summary": "", "body": ""},
     "---\nnumber: 7/QĐ-UBND\ndate: 2026-01-05\nissuer: UBND tỉnh Cà Mau\nlevel: provincial\n"
     "products: [keo-a, keo-b]\n---\n"),
    ("facilities", {"name": "Hộ Ba Sáu", "kind": "household", "province": "Cà Mau", "founded": 2019,
                    "contact": {"phone": "0900 000 036", "zalo": "", "email": "", "website": ""},
                    "support": [{"year": 2024, "programme": "local", "activity": "Máy đóng gói", "amount_vnd": 90000000}],
                    "images": [{"src": "xuong.webp", "alt": ""}], "body": "Cơ sở làm **mắm**."},
     "---\nname: Hộ Ba Sáu\nkind: household\nprovince: Cà Mau\nfounded: 2019\ncontact:\n  phone: 0900 000 036\n"
     "support:\n  - {year: 2024, programme: local, activity: Máy đóng gói, amount_vnd: 90000000}\n"
     "images: [xuong.webp]\n---\nCơ sở làm **mắm**.\n"),
]
ROUND_TRIP = """([rules, files, edits, created]) => {
  const { fromText, toText } = window.cnntEditor;
  const kind = (path) => rules[path.split('/')[0]];
  const same = Object.fromEntries(Object.entries(files).map(([path, text]) =>
    [path, toText(kind(path))(fromText(kind(path))(text))]));
  const edited = edits.map(([path, field, value]) => {
    const data = fromText(kind(path))(files[path]);
    const keys = field.split('.'); let at = data;
    for (const key of keys.slice(0, -1)) at = at[key];
    at[keys.at(-1)] = value;
    return toText(kind(path))(data);
  });
  const made = created.map(([folder, values]) => toText(rules[folder])(values));
  let refused = '';
  try { fromText(rules.products)('---\\nname: [unclosed\\n---\\n'); } catch (error) { refused = error.message; }
  return { same, edited, made, refused };
}"""


def test_the_editor_keeps_files_as_written(sample_site, browser):
    require_chromium()
    rules = json.loads((sample_site / "admin/rules.json").read_text(encoding="utf-8"))
    files = {path.relative_to(ROOT / "content").as_posix(): path.read_text(encoding="utf-8")
             for path in sorted((ROOT / "content").rglob("*.md"))}
    files.update(HAND_WRITTEN)
    page = browser.new_page()
    with serve_folder(sample_site) as address:
        page.goto(address + "admin/")
        page.wait_for_function("window.cnntEditor !== undefined")
        result = page.evaluate(ROUND_TRIP, [rules, files, [edit[:3] for edit in EDITS],
                                            [made[:2] for made in CREATED]])
    page.close()
    # opened and saved without a change: every file byte for byte, the sample's and odd hand-written ones
    assert {path: text for path, text in result["same"].items() if text != files[path]} == {}
    for (path, field, _, expected), got in zip(EDITS, result["edited"]):
        assert got == expected, (path, field)
    for (folder, _, expected), got in zip(CREATED, result["made"]):
        assert got == expected, folder
    assert result["refused"].startswith("YAML: ")  # a file it cannot read whole is never edited


# -- set-up problems ----------------------------------------------------------------------------------

def test_without_the_editor_files_the_build_goes_on_and_says_how_to_get_them(make_site, monkeypatch):
    from cnnt.site import vendor

    def offline(cache: Path) -> dict[str, bytes]:
        raise OSError("registry.npmjs.org: network is unreachable")
    monkeypatch.setattr(vendor, "editor_assets", offline)
    run = make_site({})
    assert run.code == 0, run.err
    page = (run.site / "admin/index.html").read_text(encoding="utf-8")
    assert "npm ci" in page and "network is unreachable" in page and "noindex" in page
    assert "cảnh báo · warning: admin/" in run.err


def test_a_repository_that_is_not_owner_slash_name_is_refused(make_site, tmp_path):
    settings = tmp_path / "site.yaml"
    settings.write_text((ROOT / "site.yaml").read_text(encoding="utf-8").replace(
        "repo: khuyencong-mau/danh-muc-cnnt", "repo: https://github.com/khuyencong-mau"), encoding="utf-8")
    run = make_site({}, command="check", extra=("--config", str(settings)))
    assert run.code == 1 and "editor.repo: phải là `chủ/kho` trên GitHub" in run.err
