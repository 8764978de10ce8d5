"""The preview: an edit rebuilds only what it affects, gives the same site a full build gives, keeps the
last good site while an edit has errors, and reloads a real browser."""
from __future__ import annotations

import filecmp
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import BUILD_DATE, ROOT, snapshot, warm_caches

import build as cli
from cnnt.engine.preview import Preview
from cnnt.serve import ThreadedServer, site_app


@pytest.fixture(autouse=True)
def warm(tmp_path):
    """Every preview here writes to `tmp_path/site`, most of them of a copy of the sample: it starts
    with the photo derivatives, link previews and QR codes a build of the sample left (none of these
    tests is about what a first build makes)."""
    warm_caches(tmp_path / "site")


@pytest.fixture
def preview(tmp_path):
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    args = cli.parse_args(["serve", "--content", str(content), "--out", str(tmp_path / "site"), "--date", BUILD_DATE])
    preview = Preview(cli.options_from(args))
    assert "trang" in preview.rebuild() and not preview.errors
    return preview


def edit(path: Path, old: str, new: str) -> Path:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def same_as_full_build(preview: Preview, tmp_path: Path) -> None:
    """The preview's folder, once the work after the reload is done (as `serve` does it after every
    edit), holds exactly what a fresh build of the same content makes."""
    preview.finish()
    fresh = tmp_path / "fresh"
    args = cli.parse_args(["serve", "--content", str(preview.options.content_dir), "--out", str(fresh),
                           "--config", str(preview.options.config_file), "--date", BUILD_DATE, "--force",
                           "--templates", str(preview.options.templates_dir), "--static", str(preview.options.static_dir)])
    from cnnt.engine import pipeline
    pipeline.build(cli.options_from(args))
    served = preview.options.out_dir
    mine = {p.relative_to(served) for p in served.rglob("*") if p.is_file()} - {Path(".build-fingerprint")}
    theirs = {p.relative_to(fresh) for p in fresh.rglob("*") if p.is_file()} - {Path(".build-fingerprint")}
    assert mine == theirs
    differing = [str(p) for p in sorted(mine) if not filecmp.cmp(served / p, fresh / p, shallow=False)]
    assert differing == []


def rendered(preview: Preview, line: str) -> int:
    return int(re.match(r"(\d+) trang", line).group(1))


def test_an_edit_rebuilds_only_what_it_affects_and_matches_a_full_build(preview, tmp_path):
    content = preview.options.content_dir
    total = len(preview.pages)
    line = preview.rebuild([edit(content / "products/muoi-tom-tan-phat-loi.md", "group: food",
                                 "group: food\nsummary: Muối tôm Tây Ninh kiểu Cà Mau, cay nồng.")])
    preview.finish()
    count = rendered(preview, line)
    assert 0 < count < total / 5, (count, total)  # the product, its facility, siblings, listings, home…
    assert "cay nồng" in (preview.options.out_dir / "products/muoi-tom-tan-phat-loi/index.html").read_text()
    assert "cay nồng" in (preview.options.out_dir / "groups/food/index.html").read_text()  # its card
    describer = preview._describer(preview.last)  # the search pages name the new search data
    searches = [(output, page) for output, page in preview.pages.items() if page.template == "search.html"]
    assert searches and all(preview.signatures[output] == describer.describe(page) for output, page in searches)
    same_as_full_build(preview, tmp_path)

    # a facility's phone: its page, its products' pages and booth cards, the fair's cards
    preview.rebuild([edit(content / "facilities/my-thuyen.md", "0900 000 102", "0900 000 999")])
    preview.finish()
    assert "0900 000 999" in (preview.options.out_dir / "products/kho-muc-my-thuyen/index.html").read_text()
    assert "0900 000 999" in (preview.options.out_dir / "fairs/hoi-cho-cnnt-ca-mau-2026/cards/index.html").read_text()
    same_as_full_build(preview, tmp_path)


def test_edits_that_move_pages_rebuild_listings(preview, tmp_path):
    content = preview.options.content_dir
    # a new name moves the product in A–Z and in search; a new level moves it between listings
    preview.rebuild([edit(content / "products/muoi-tom-tan-phat-loi.md", "name: Muối tôm", "name: Ớt muối tôm")])
    preview.rebuild([edit(content / "products/ong-hut-tre.md", "level: commune", "level: provincial")])
    new = content / "products/tuong-ot-moi.md"
    new.write_text("---\nname: Tương ớt mới\nfacility: my-thuyen\ngroup: food\n---\nMới.\n", encoding="utf-8")
    preview.rebuild([new])
    assert not preview.errors
    same_as_full_build(preview, tmp_path)
    new.unlink()
    preview.rebuild([new])
    same_as_full_build(preview, tmp_path)


def test_an_edit_that_moves_a_product_between_listings_lays_out_the_pages_again_without_planning(tmp_path, monkeypatch):
    """A new level, group or market moves a product between listings: the pages are laid out again and
    those that changed rendered, without planning the site again; the site is a full build's, the
    product's link preview (which shows its level) drawn again."""
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    config = tmp_path / "site.yaml"  # awards count without a registered decision: a level in the file moves it
    config.write_text((ROOT / "site.yaml").read_text(encoding="utf-8").replace("declared_awards: show",
                                                                               "declared_awards: count"), encoding="utf-8")
    args = cli.parse_args(["serve", "--content", str(content), "--out", str(tmp_path / "site"), "--config", str(config),
                           "--date", BUILD_DATE])
    preview = Preview(cli.options_from(args))
    preview.rebuild()
    slow = []
    real = Preview._update
    monkeypatch.setattr(Preview, "_update", lambda self: slow.append(1) or real(self))
    out = preview.options.out_dir
    product = content / "products/ong-hut-tre.md"
    assert "ong-hut-tre" not in (out / "awards/provincial/index.html").read_text(encoding="utf-8")
    drawn = preview.last.drawn["products/ong-hut-tre/"]
    preview.rebuild([edit(product, "level: commune", "level: provincial")])
    assert not preview.errors and slow == []
    assert "ong-hut-tre" in (out / "awards/provincial/index.html").read_text(encoding="utf-8")
    assert preview.last.drawn["products/ong-hut-tre/"] != drawn
    same_as_full_build(preview, tmp_path)
    preview.rebuild([edit(product, "group: handicraft", "group: other")])
    preview.rebuild([edit(product, "export_markets: [DE]", "export_markets: [DE, JP]")])
    assert not preview.errors and slow == []
    assert "ong-hut-tre" in (out / "groups/other/index.html").read_text(encoding="utf-8")
    assert "ong-hut-tre" not in (out / "groups/handicraft/index.html").read_text(encoding="utf-8")
    same_as_full_build(preview, tmp_path)
    preview.rebuild([edit(product, "facility: tre-mai-chau", "facility: my-thuyen")])  # another maker's pages
    assert slow == [1]


def test_an_edit_that_moves_many_pages_renders_them_on_every_core_and_matches_a_full_build(preview, tmp_path,
                                                                                          monkeypatch):
    """A rename that moves a product to another initial changes every listing page after it (1,500
    pages at 10k products): the preview renders them as a build does, in forked workers. Here the
    threshold is lowered so the sample catalogue takes that path, and the workers are counted."""
    from cnnt.engine import pipeline
    from cnnt.system import parallel

    monkeypatch.setattr(parallel, "MIN_ITEMS_PER_WORKER", 2)
    monkeypatch.setattr(parallel, "default_jobs", lambda: 2)  # however many cores the machine has
    writers = tmp_path / "writers.txt"  # which process wrote each page: workers cannot send it back
    real = pipeline.write_bytes

    def recorded(root: Path, output: str, data: bytes) -> None:
        with writers.open("a", encoding="utf-8") as record:
            record.write(f"{os.getpid()} {output}\n")
        real(root, output, data)

    monkeypatch.setattr(pipeline, "write_bytes", recorded)
    content = preview.options.content_dir
    line = preview.rebuild([edit(content / "products/muoi-tom-tan-phat-loi.md", "name: Muối tôm", "name: Ớt muối tôm")])
    count = rendered(preview, line)
    assert count >= 4 * parallel.MIN_ITEMS_PER_WORKER and not preview.errors
    written = [line.split(" ", 1) for line in writers.read_text(encoding="utf-8").splitlines()]
    by_workers = {output for pid, output in written if pid != str(os.getpid())}
    assert len(by_workers) == count, "every page rendered by a worker process"
    same_as_full_build(preview, tmp_path)


def test_the_pages_showing_each_entry_stay_known_through_moving_edits(preview, tmp_path):
    """After an edit that moves pages, only the pages whose signature changed are walked again for the
    entries they show; what the preview then knows is what walking every page would give, so the next
    in-place edit re-renders every page it must."""
    content = preview.options.content_dir
    product = content / "products/muoi-tom-tan-phat-loi.md"
    preview.rebuild([edit(product, "name: Muối tôm", "name: Ớt muối tôm")])
    preview.rebuild([edit(product, "group: food", "group: handicraft")])  # off the food pages
    preview.settle()  # as `serve` does once the browser has reloaded (else the next rebuild does it)
    assert "groups/food/index.html" not in preview.containing[("product", "muoi-tom-tan-phat-loi")]
    described = preview._describer(preview.last).signatures(preview.last.pages)
    assert preview.signatures == {output: signature for output, (signature, _) in described.items()}
    walked: dict[tuple[str, str], set[str]] = {}
    for output, (_, shown) in described.items():
        for key in shown:
            walked.setdefault(key, set()).add(output)
    assert {key: outputs for key, outputs in preview.containing.items() if outputs} == walked
    line = preview.rebuild([edit(product, "group: handicraft", "group: handicraft\nsummary: Cay nồng, mặn mà.")])
    assert 0 < rendered(preview, line) < len(preview.pages) / 5  # the quick path
    same_as_full_build(preview, tmp_path)


def test_an_in_place_edit_keeps_what_the_preview_worked_out_with_the_edited_entries_in_it(preview, tmp_path):
    """The quick path keeps the catalogue's orders and groupings and what the describer worked out
    of each entry, with the edited entries in them: the same as working all of it out again."""
    from dataclasses import fields, replace

    content = preview.options.content_dir
    facility = content / "facilities/tan-phat-loi/index.md"
    product = content / "products/muoi-tom-tan-phat-loi.md"
    preview.rebuild([edit(product, "group: food", "group: food\nsummary: Cay nồng.")])
    assert preview.last.catalogue.sorted_products  # worked out before the next edit, so it is kept
    line = preview.rebuild([edit(facility, "employees: 35", "employees: 36"),
                            edit(product, "Cay nồng.", "Cay nồng, mặn mà.")])
    assert 0 < rendered(preview, line) < len(preview.pages) / 5  # the quick path
    catalogue = preview.last.catalogue
    again = replace(catalogue, **{f.name: getattr(catalogue, f.name) for f in fields(catalogue)})
    for name in ("sorted_products", "products_by_facility", "every_product", "every_facility"):
        assert name in vars(catalogue), name
        assert repr(getattr(catalogue, name)) == repr(getattr(again, name)), name
    assert catalogue.products_by_facility["tan-phat-loi"][0] is catalogue.products[
        catalogue.products_by_facility["tan-phat-loi"][0].slug]
    assert catalogue.every_facility["tan-phat-loi"] is catalogue.facilities["tan-phat-loi"]
    describer = preview._describer(preview.last)
    shown = preview.containing[("facility", "tan-phat-loi")] | preview.containing[("product", "muoi-tom-tan-phat-loi")]
    for output in shown:  # a product's card shows its facility's name: what stood for it was dropped
        assert preview.signatures[output] == describer.describe(preview.pages[output]), output
    same_as_full_build(preview, tmp_path)


def test_a_new_name_that_keeps_the_entrys_place_is_a_quick_edit_with_new_link_previews(preview, tmp_path, monkeypatch):
    """A product or facility renamed without leaving its place in any order by name takes the quick
    path (nothing is planned again), yet its link preview is drawn again (a facility's products' too:
    their cards name it), every page that shows it changes, and the site is a full build's. An edit
    to a withdrawn product is planned again."""
    planned: list[int] = []  # the preview's edits that planned the catalogue again
    real_update = Preview._update
    monkeypatch.setattr(Preview, "_update", lambda self: planned.append(1) or real_update(self))
    content, out = preview.options.content_dir, preview.options.out_dir

    def image_of(page: str) -> str:
        return re.search(r'property="og:image" content="[^"]*/(media/[^"]+)"', (out / page).read_text()).group(1)

    product_page, facility_page = "products/ca-chi-vang-kho/index.html", "facilities/my-thuyen/index.html"
    before = image_of(product_page), image_of(facility_page)
    line = preview.rebuild([edit(content / "facilities/my-thuyen.md", "name: Công ty TNHH Mỹ Thuyền",
                                 "name: Công ty TNHH Mỹ Thuyền Cà Mau")])
    assert planned == [] and not preview.errors and 0 < rendered(preview, line) < len(preview.pages) / 5
    assert image_of(product_page) != before[0] and image_of(facility_page) != before[1]
    assert (out / image_of(product_page)).is_file() and not (out / before[0]).exists()
    assert "Mỹ Thuyền Cà Mau" in (out / "groups/food/index.html").read_text()  # its products' cards
    preview.finish()  # after the reload: the search data, the sitemap, the editor's choice of facility
    assert "Mỹ Thuyền Cà Mau" in (out / "admin/config.json").read_text()
    withdrawn = "products/keo-dua-la-dua/index.html"  # a withdrawn product's page keeps a card naming its maker
    before = image_of(withdrawn)
    preview.rebuild([edit(content / "facilities/keo-dua-mo-cay.md", "name: Cơ sở Kẹo dừa Thanh Long",
                          "name: Cơ sở Kẹo dừa Thanh Long Mỏ Cày")])
    assert planned == [] and not preview.errors and image_of(withdrawn) != before
    same_as_full_build(preview, tmp_path)

    product = content / "products/kho-muc-my-thuyen/index.md"
    preview.rebuild([edit(product, "name: Khô mực Mỹ Thuyền", "name: Khô mực Mỹ Thuyền loại một")])
    preview.rebuild([edit(content / "products/keo-dua-la-dua.en.md", "name: Pandan coconut candy",
                          "name: Pandan leaf coconut candy")])  # a withdrawn product: planned again
    assert planned == [1] and not preview.errors
    assert "Khô mực Mỹ Thuyền loại một" in (out / "groups/food/index.html").read_text()
    same_as_full_build(preview, tmp_path)

    preview.rebuild([edit(content / "products/ong-hut-tre.md", "name: Ống hút tre", "name: Ống hút tre tự nhiên")])
    assert planned == [1] and not preview.errors
    same_as_full_build(preview, tmp_path)


def test_a_new_name_that_moves_the_entry_lays_out_the_pages_again_without_planning(tmp_path, monkeypatch):
    """A product or facility renamed to another place in the orders by name (under another letter,
    past a withdrawn entry's name, or equal to another's name) is not planned again: the pages are
    laid out again from the edited catalogue and those that changed are rendered. With six products
    a page, its listings' products move from page to page. After each edit the site is a full
    build's, and an edit in place after them is still quick."""
    content, config = tmp_path / "content", tmp_path / "site.yaml"
    shutil.copytree(ROOT / "content", content)
    config.write_text((ROOT / "site.yaml").read_text(encoding="utf-8").replace("per_page: 48", "per_page: 6"),
                      encoding="utf-8")
    args = cli.parse_args(["serve", "--content", str(content), "--out", str(tmp_path / "site"), "--config", str(config),
                           "--date", BUILD_DATE])
    preview = Preview(cli.options_from(args))
    preview.rebuild()
    out = preview.options.out_dir
    planned: list[int] = []
    real_update = Preview._update
    monkeypatch.setattr(Preview, "_update", lambda self: planned.append(1) or real_update(self))

    def listed_on(name: str) -> list[str]:
        """The A–Z listing pages (in Vietnamese) that show this name."""
        return sorted(str(page.relative_to(out / "a-z")) for page in (out / "a-z").rglob("index.html")
                      if name in page.read_text(encoding="utf-8"))

    assert listed_on("Bánh in Công Thành Tâm") == ["index.html"]
    line = preview.rebuild([edit(content / "products/banh-in.md", "name: Bánh in Công Thành Tâm",
                                 "name: Xôi bánh in Công Thành Tâm")])  # from the first A–Z page to the last
    assert planned == [] and not preview.errors, preview.errors
    assert listed_on("Bánh in Công Thành Tâm") == [] and listed_on("Xôi bánh in") == ["page/7/index.html"]
    assert 0 < rendered(preview, line) < len(preview.pages) / 2
    same_as_full_build(preview, tmp_path)

    preview.rebuild([edit(content / "facilities/my-thuyen.md", "name: Công ty TNHH Mỹ Thuyền",
                          "name: Xưởng Mỹ Thuyền")])  # its products' cards name it
    preview.rebuild([edit(content / "products/khan-bong.md", "name: Khăn bông cotton", "name: Muối tôm")])  # a tie
    # past a withdrawn product's name (Kẹo dừa lá dứa)
    preview.rebuild([edit(content / "products/keo-dua-sau-rieng.md", "name: Kẹo dừa sầu riêng", "name: Kẹo dừa bơ")])
    assert planned == [] and not preview.errors, preview.errors
    assert "Xưởng Mỹ Thuyền" in (out / "groups/food/index.html").read_text(encoding="utf-8")
    same_as_full_build(preview, tmp_path)

    preview.rebuild([edit(content / "products/banh-in.md", "name: Xôi bánh in", "name: Bánh in")])
    preview.rebuild([edit(content / "products/muoi-tom-tan-phat-loi.md", "group: food",
                          "group: food\nsummary: Muối tôm cay nồng.")])  # in place
    assert planned == [] and not preview.errors, preview.errors
    same_as_full_build(preview, tmp_path)


def test_a_page_laid_out_again_is_the_same_only_with_the_same_template_and_an_equal_context():
    """After a rename that moves an entry, a page is rendered again unless it is the same as before:
    the same template, entries in the same order, and for a printable selection the same products
    too, wherever it is in the page's context."""
    from cnnt.engine.preview import _same_page
    from cnnt.site.pages import Page, Selection

    def page(products: list[str], template: str = "print.html") -> Page:
        return Page("print/groups/food/a4/", "vi", template, {
            "selection": Selection("food", "Thực phẩm", "groups", list(products)), "paper": "a4",
            "index": [{"selections": [Selection("food", "Thực phẩm", "groups", list(products))]}]})

    assert _same_page(page(["a", "b"]), page(["a", "b"]))
    assert not _same_page(None, page(["a", "b"]))
    assert not _same_page(page(["a", "b"], "listing.html"), page(["a", "b"]))
    assert not _same_page(page(["a", "b"]), page(["b", "a"]))
    moved = page(["a", "b"])
    moved.context["selection"] = Selection("food", "Thực phẩm", "groups", ["b", "a"])  # the selection alone
    assert not _same_page(page(["a", "b"]), moved)
    nested = page(["a", "b"])
    nested.context["index"] = [{"selections": [Selection("food", "Thực phẩm", "groups", ["b", "a"])]}]  # deep inside
    assert not _same_page(page(["a", "b"]), nested)


def test_a_bundle_folder_renamed_moves_every_link_to_it(preview, tmp_path):
    """A new bundle product (no build has published it, so no alias is due) renamed with nothing in it
    changed: the listings that show it link to its new address."""
    content = preview.options.content_dir
    bundle = content / "products/nuoc-mam-moi"
    bundle.mkdir()
    shutil.copyfile(next((content / "products").glob("*/*.jpg")), bundle / "anh.jpg")
    (bundle / "index.md").write_text("---\nname: Nước mắm mới\nfacility: my-thuyen\ngroup: food\nimages: [anh.jpg]\n"
                                     "---\nMới.\n", encoding="utf-8")
    preview.rebuild([bundle / "index.md", bundle / "anh.jpg"])
    assert not preview.errors, preview.errors
    bundle.rename(content / "products/nuoc-mam-moi-ca-mau")
    preview.rebuild([bundle, content / "products/nuoc-mam-moi-ca-mau"])
    assert not preview.errors, preview.errors
    assert "products/nuoc-mam-moi-ca-mau/" in (preview.options.out_dir / "groups/food/index.html").read_text()
    same_as_full_build(preview, tmp_path)


def test_a_photo_replaced_in_a_bundle_shows_on_every_page_and_the_old_ones_go(preview, tmp_path):
    """A bundle's photo saved over with another picture (same file name, same entry text): the pages
    show the new photo's derivatives, and the old photo's are no longer in the site."""
    content, out = preview.options.content_dir, preview.options.out_dir
    photos = sorted((content / "products").glob("*/*.jpg"))
    photo, other = photos[0], photos[-1]
    page = f"products/{photo.parent.name}/index.html"
    from cnnt.site.images import source_key  # what names a photo's derivatives
    old_key = source_key(photo)
    assert f"media/{old_key}-" in (out / page).read_text(encoding="utf-8")
    shutil.copyfile(other, photo)
    preview.rebuild([photo])
    assert not preview.errors, preview.errors
    shown = (out / page).read_text(encoding="utf-8")
    assert f"media/{source_key(photo)}-" in shown and f"media/{old_key}-" not in shown
    assert not list((out / "media").glob(f"{old_key}-*"))
    same_as_full_build(preview, tmp_path)


def test_an_edit_saved_through_a_temporary_file_takes_the_quick_path(preview, tmp_path, monkeypatch):
    """Editors that save through a temporary file renamed over the entry (gedit, Kate, `sed -i`): the
    watcher names the temporary file too, gone by then. The edit still takes the quick path, and a
    temporary file alone changes nothing; a photo that is gone, or a bundle's folder, is no
    temporary file."""
    content, out = preview.options.content_dir, preview.options.out_dir
    product = content / "products/muoi-tom-tan-phat-loi.md"
    temporary = product.with_name("sedX4k2Qa")
    temporary.write_text(product.read_text(encoding="utf-8").replace("group: food", "group: food\nsummary: Qua tệp tạm."),
                         encoding="utf-8")
    os.replace(temporary, product)
    slow = []
    real_update = Preview._update
    monkeypatch.setattr(Preview, "_update", lambda self: slow.append(1) or real_update(self))
    preview.rebuild([temporary, product])
    assert slow == [] and not preview.errors
    assert "Qua tệp tạm" in (out / "products/muoi-tom-tan-phat-loi/index.html").read_text(encoding="utf-8")
    assert preview.rebuild([content / "products/4913"]).startswith("0 trang")  # vim's test file
    assert slow == []
    same_as_full_build(preview, tmp_path)

    photo = sorted((content / "products").glob("*/*.jpg"))[0]
    kept = tmp_path / "kept.jpg"
    shutil.move(photo, kept)
    preview.rebuild([photo])
    assert slow == [1] and preview.errors  # the entry names a photo that is gone
    shutil.move(kept, photo)
    preview.rebuild([photo])
    assert slow == [1, 1] and not preview.errors
    bundle = content / "products/may-say-lua"
    shutil.rmtree(bundle)
    preview.rebuild([bundle])  # the watcher names its files too: the folder alone must do
    assert slow == [1, 1, 1] and preview.errors  # an address once published is gone


def test_a_translation_added_to_an_entry_or_deleted_shows(preview, tmp_path):
    """The watcher names only the translation: the entry is read with it (read with the files it was
    found with before, the new translation was left out of its pages, search data and link preview)."""
    content, out = preview.options.content_dir, preview.options.out_dir
    translation = content / "products/khan-bong.en.md"
    assert not translation.exists()
    translation.write_text("---\nname: Woven towel\n---\nIn English.\n", encoding="utf-8")
    preview.rebuild([translation], ["en/products/khan-bong/index.html"])
    assert not preview.errors and "Woven towel" in (out / "en/products/khan-bong/index.html").read_text(encoding="utf-8")
    same_as_full_build(preview, tmp_path)
    translation.unlink()
    preview.rebuild([translation], ["en/products/khan-bong/index.html"])
    assert not preview.errors
    assert "Woven towel" not in (out / "en/products/khan-bong/index.html").read_text(encoding="utf-8")
    same_as_full_build(preview, tmp_path)


def test_a_file_saved_again_at_the_same_size_and_time_is_read_again_when_the_watcher_names_it(preview, tmp_path):
    """The preview keeps every content file's digest between rebuilds, by its size, time and inode;
    a file the watcher names is read again even when all three are the same."""
    product = preview.options.content_dir / "products/muoi-tom-tan-phat-loi.md"
    before = os.stat(product)
    edit(product, "name: Muối tôm", "name: Muối tóm")  # ô and ó: two bytes each in UTF-8
    os.utime(product, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = os.stat(product)
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (before.st_size, before.st_mtime_ns, before.st_ino)
    preview.rebuild([product])
    assert "Muối tóm" in (preview.options.out_dir / "products/muoi-tom-tan-phat-loi/index.html").read_text()
    same_as_full_build(preview, tmp_path)


def test_the_preview_tunes_the_garbage_collector_as_a_build_does(preview, monkeypatch):
    """A full collection rescans every object the preview keeps (millions at 10k products): during a
    rebuild it collects as seldom as a build does, and afterwards as the process did before."""
    import gc

    from cnnt.system import parallel
    seen = []
    real = Preview._rebuild
    monkeypatch.setattr(Preview, "_rebuild", lambda self, changed: seen.append(gc.get_threshold()) or real(self, changed))
    before = gc.get_threshold()
    product = preview.options.content_dir / "products/muoi-tom-tan-phat-loi.md"
    preview.rebuild([edit(product, "name: Muối tôm", "name: Ớt muối tôm")])
    preview.rebuild([edit(product, "group: food", "group: fud")])  # a broken edit too
    assert seen == [parallel.BATCH_GC_THRESHOLDS] * 2 and before != parallel.BATCH_GC_THRESHOLDS
    assert gc.get_threshold() == before and preview.errors


def test_a_rename_reads_no_link_preview_the_preview_found_whole_before(preview, monkeypatch):
    """Each rename plans the catalogue again, link previews included: those found whole in an earlier
    rebuild are checked by a stat, not read (at 10k products, 12,000 files opened each rename)."""
    from cnnt.site import previews

    cache = preview.options.previews_dir
    assert {os.path.basename(path) for path in preview.caches.previews} == {path.name for path in cache.glob("og-*.jpg")}
    opened: list[str] = []
    real_open = os.open
    monkeypatch.setattr(previews.os, "open", lambda path, *args: opened.append(path) or real_open(path, *args))
    product = preview.options.content_dir / "products/muoi-tom-tan-phat-loi.md"
    assert "trang" in preview.rebuild([edit(product, "name: Muối tôm", "name: Ớt muối tôm")])
    assert not preview.errors and opened == []
    page = (preview.options.out_dir / "products/muoi-tom-tan-phat-loi/index.html").read_text(encoding="utf-8")
    image = re.search(r'property="og:image" content="[^"]*/(media/og-[0-9a-f]+\.jpg)"', page)
    assert image and (preview.options.out_dir / image.group(1)).is_file()  # its new card, drawn


def test_a_site_folder_deleted_while_the_preview_runs_is_built_whole_at_the_next_edit(preview, tmp_path):
    """`rm -rf site` while `serve` runs (to start clean, say): the next edit builds the whole site
    again, where it wrote only the pages it changed, and the site had no home page."""
    shutil.rmtree(preview.options.out_dir)
    (preview.options.out_dir / "search").mkdir(parents=True)  # as the work after a reload writes, meanwhile
    (preview.options.out_dir / "search" / "text-vi-0.json").write_text("{}")
    product = edit(tmp_path / "content/products/banh-in.md", "Bánh in nhân đậu xanh", "Bánh in nhân đậu xanh mới")
    assert rendered(preview, preview.rebuild([product])) == len(preview.pages) and not preview.errors
    same_as_full_build(preview, tmp_path)


def test_a_broken_edit_keeps_the_last_good_site_and_shows_the_error(preview):
    product = preview.options.content_dir / "products/muoi-tom-tan-phat-loi.md"
    page = preview.options.out_dir / "products/muoi-tom-tan-phat-loi/index.html"
    before = page.read_bytes()
    preview.rebuild([edit(product, "group: food", "group: fud")])
    assert [(e.line, e.field) for e in preview.errors] == [(4, "group")]
    assert page.read_bytes() == before

    responses = []
    body = b"".join(site_app(preview)({"PATH_INFO": "/products/muoi-tom-tan-phat-loi/"},
                                      lambda status, headers: responses.append(status)))
    assert responses == ["200 OK"]
    overlay = body.decode("utf-8").split('id="cnnt-preview-errors"', 1)[1]
    assert "muoi-tom-tan-phat-loi.md:4: group: `fud`" in overlay and "use one of: handicraft, food" in overlay

    preview.rebuild([edit(product, "group: fud", "group: food")])
    assert preview.errors == []
    body = b"".join(site_app(preview)({"PATH_INFO": "/products/muoi-tom-tan-phat-loi/"}, lambda *a: None))
    assert b"cnnt-preview-errors" not in body


def test_templates_and_static_files_are_watched(preview, tmp_path):
    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", templates)
    static = tmp_path / "static"
    shutil.copytree(ROOT / "static", static)
    from dataclasses import replace
    preview.options = replace(preview.options, templates_dir=templates, static_dir=static)
    line = preview.rebuild([edit(templates / "partials/footer.html", "</footer>", "<p>chân trang mới</p></footer>")])
    assert rendered(preview, line) == len(preview.pages)
    assert "chân trang mới" in (preview.options.out_dir / "awards/index.html").read_text()
    edit(static / "style.css", "/* Mobile first", "/* changed */\n/* Mobile first")
    preview.rebuild([static / "style.css"])
    assert (preview.options.out_dir / "static/style.css").read_text().startswith("/* changed */")
    # a static file deleted is deleted from the site (it stayed until a full build), and the service
    # worker no longer names it
    (static / "banner").mkdir()
    (static / "banner" / "tet.js").write_text("// Tết\n", encoding="utf-8")
    preview.rebuild([static / "banner"])
    assert (preview.options.out_dir / "static/banner/tet.js").is_file()
    shutil.rmtree(static / "banner")
    preview.rebuild([static / "banner"])
    assert not (preview.options.out_dir / "static/banner").exists()
    assert "banner/tet.js" not in (preview.options.out_dir / "sw.js").read_text(encoding="utf-8")
    same_as_full_build(preview, tmp_path)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_process(tmp_path: Path, *options: str) -> tuple[subprocess.Popen, int]:
    """`python build.py serve` with these options, into `tmp_path/site`, on a free port, run from
    `tmp_path`; its terminal's lines read from its stdout."""
    port = free_port()
    server = subprocess.Popen([sys.executable, str(ROOT / "build.py"), "serve", *options, "--out", str(tmp_path / "site"),
                               "--port", str(port), "--date", BUILD_DATE],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path)
    return server, port


def test_serve_reloads_the_browser_after_an_edit_and_shows_errors(browser, tmp_path):
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", templates)
    config = tmp_path / "site.yaml"
    shutil.copyfile(ROOT / "site.yaml", config)
    server, port = serve_process(tmp_path, "--content", str(content), "--templates", str(templates),
                                 "--config", str(config))
    try:
        for line in server.stdout:
            if f":{port}/" in line:
                break
        page = browser.new_page()
        page.goto(f"http://127.0.0.1:{port}/products/muoi-tom-tan-phat-loi/")
        page.wait_for_function("window.LiveReload !== undefined", timeout=10_000)
        time.sleep(0.3)
        product = content / "products/muoi-tom-tan-phat-loi.md"
        edit(product, "name: Muối tôm", "name: Muối tôm hảo hạng")
        page.wait_for_function("document.querySelector('h1').textContent === 'Muối tôm hảo hạng'", timeout=15_000)
        edit(product, "group: food", "group: fud")
        page.wait_for_selector("#cnnt-preview-errors", timeout=15_000)
        assert "muoi-tom-tan-phat-loi.md:4: group" in page.locator("#cnnt-preview-errors").inner_text()
        assert page.locator("h1").inner_text() == "Muối tôm hảo hạng"  # the last good page underneath
        edit(product, "group: fud", "group: food")
        page.wait_for_function("!document.getElementById('cnnt-preview-errors')", timeout=15_000)
        # a move in A–Z: the page shown is written before the reload, the listings after it, and a
        # listing asked for meanwhile is served once written
        edit(product, "name: Muối tôm hảo hạng", "name: Ớt muối tôm")
        page.wait_for_function("document.querySelector('h1').textContent === 'Ớt muối tôm'", timeout=15_000)
        page.goto(f"http://127.0.0.1:{port}/a-z/")
        assert "Ớt muối tôm" in page.locator("main").inner_text()
        # a template saved: the listing shown reloads with it, and any other page has it when opened
        page.wait_for_function("window.LiveReload !== undefined", timeout=10_000)
        edit(templates / "partials/footer.html", "</footer>", "<p>Chân trang mới</p></footer>")
        page.wait_for_function("document.body.innerText.includes('Chân trang mới')", timeout=15_000)
        page.goto(f"http://127.0.0.1:{port}/facilities/")
        assert "Chân trang mới" in page.locator("footer").inner_text()
        # the settings saved twice, each time as a new file renamed over the old (as vim, gedit and
        # `sed -i` save): each save shows (the watch on the file itself was lost after the first)
        page.wait_for_function("window.LiveReload !== undefined", timeout=10_000)
        for name in ("mẫu một", "mẫu hai"):
            saved = tmp_path / ".site.yaml.new"
            saved.write_text(re.sub(r"Khuyến công \(mẫu[^)]*\)", f"Khuyến công ({name})",
                                    config.read_text(encoding="utf-8")), encoding="utf-8")
            os.replace(saved, config)
            page.wait_for_function(f"document.body.innerText.includes('Khuyến công ({name})')", timeout=15_000)
        page.close()
    finally:
        server.terminate()
        server.wait(10)


def test_the_preview_never_replaces_a_folder_it_did_not_make(tmp_path):
    """`serve --out` a folder of someone's files: refused, as a build refuses it, and the files stay
    (the preview asked nothing, and replaced them with its site)."""
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "notes.txt").write_text("giữ lại", encoding="utf-8")
    server, _ = serve_process(tmp_path, "--content", str(ROOT / "content"))
    try:
        output, _ = server.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        server.kill()
        server.communicate()
        pytest.fail("the preview went on serving over a folder it did not make")
    assert server.returncode == 1 and "--out" in output and "this folder is not a site build.py made" in output
    assert os.listdir(tmp_path / "site") == ["notes.txt"]
    assert (tmp_path / "site" / "notes.txt").read_text(encoding="utf-8") == "giữ lại"
    # and the engine's preview, used on its own, builds nothing there either
    args = cli.parse_args(["serve", "--content", str(ROOT / "content"), "--out", str(tmp_path / "site"),
                           "--date", BUILD_DATE])
    preview = Preview(cli.options_from(args))
    preview.rebuild()
    assert [error.field for error in preview.errors] == ["--out"] and os.listdir(tmp_path / "site") == ["notes.txt"]


def test_settings_inside_a_watched_folder_are_planned_once_a_save(tmp_path):
    """`--config content/site.yaml`: the content's watch sees the settings file, and it is not watched
    a second time through its folder (each save was planned twice, the second time for nothing)."""
    import queue
    import threading
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    config = content / "site.yaml"
    shutil.copyfile(ROOT / "site.yaml", config)
    server, port = serve_process(tmp_path, "--content", str(content), "--config", str(config))
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in server.stdout], daemon=True).start()

    def rebuilds_within(seconds: float) -> list[str]:
        found, deadline = [], time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = lines.get(timeout=left)
            except queue.Empty:
                break
            found += [line] if "pages rebuilt" in line else []
        return found

    try:
        while f":{port}/" not in lines.get(timeout=120):
            pass
        time.sleep(0.5)  # the watches started
        saved = content / ".site.yaml.new"
        saved.write_text(config.read_text(encoding="utf-8").replace("per_page: 48", "per_page: 6"), encoding="utf-8")
        os.replace(saved, config)
        found = rebuilds_within(8)
        assert len(found) == 1, found
    finally:
        server.terminate()
        server.wait(10)


def test_the_work_after_the_reload_waits_for_edits_to_pause():
    """`finish` starts once no rebuild has run for the pause, and not before: until then it would slow
    the browser's reload, and a next save would wait for its step. A rebuild longer than the pause
    keeps it waiting too, and the pause counts from that rebuild's end. `settle` (what the next edit
    needs) comes after a shorter pause, once for each series of rebuilds it follows."""
    import threading

    from cnnt.serve import Pause, finish_when_paused
    pause, settled, finished = Pause(), [], []
    threading.Thread(target=finish_when_paused, daemon=True,
                     args=(pause, lambda: settled.append(time.monotonic()), lambda: finished.append(time.monotonic()),
                           0.1, 0.6)).start()
    time.sleep(0.6)
    assert settled == finished == []  # no rebuild yet, nothing to do
    # Each rebuild's end is taken as the last thing inside it: the pause counts from a moment just
    # after, so the waits below are at least the pause (taken after the block, the test's clock ran
    # later than the pause's by as long as the thread was held up, and a wait measured 0.59991 s)
    ends = []
    for _ in range(4):  # four edits, 0.4 s apart
        with pause.rebuilding():
            time.sleep(0.05)
            ends.append(time.monotonic())
        time.sleep(0.35)
    assert finished == [] and len(settled) == 4  # settled after each, 0.1 s after it ended
    assert all(settle - end >= 0.1 for settle, end in zip(settled, ends))
    time.sleep(0.6)
    assert len(finished) == 1 and finished[0] - ends[-1] >= 0.6 and len(settled) == 4
    with pause.rebuilding():
        time.sleep(0.05)
    time.sleep(0.3)
    with pause.rebuilding():  # the next edit's rebuild takes longer than the pause
        time.sleep(1.0)
        ended = time.monotonic()
    assert len(finished) == 1 and len(settled) == 5
    time.sleep(0.9)
    assert len(finished) == 2 and finished[1] - ended >= 0.6 and len(settled) == 6
    time.sleep(0.8)
    assert len(finished) == 2 and len(settled) == 6  # once per pause, not again and again


def test_the_work_after_the_reload_goes_on_after_it_failed_once(capsys):
    """A step that fails (a full disk, say) is reported, and the next edit's work still runs: the
    thread that does it must not end with the error."""
    import threading

    from cnnt.serve import Pause, finish_when_paused
    pause, finished = Pause(), []

    def finish() -> None:
        finished.append(time.monotonic())
        if len(finished) == 1:
            raise OSError(28, "No space left on device")
    threading.Thread(target=finish_when_paused, args=(pause, lambda: None, finish, 0.05, 0.2), daemon=True).start()
    for _ in range(2):
        with pause.rebuilding():
            pass
        time.sleep(0.6)
    assert len(finished) == 2
    assert "No space left on device" in capsys.readouterr().err


def test_an_entry_saved_while_another_has_a_mistake_waits_for_it_and_shows_once_it_is_mended(preview, tmp_path,
                                                                                             monkeypatch):
    """A mistake in one entry, then another entry saved: the mistake stays shown (the quick way, which
    reads only the entry saved, passed over it, and the site went on without the first edit), and the
    second edit waits. The mistake mended, both edits show, the quick way, and the site is a full build's."""
    content, out = preview.options.content_dir, preview.options.out_dir
    wrong, other = content / "products/muoi-tom-tan-phat-loi.md", content / "products/khan-bong.md"
    preview.rebuild([edit(wrong, "group: food", "group: fud")])
    preview.rebuild([edit(other, "---\n", "---\nsummary: Khăn mới dệt.\n")])
    assert [Path(error.path).name for error in preview.errors] == ["muoi-tom-tan-phat-loi.md"]
    assert "Khăn mới dệt" not in (out / "products/khan-bong/index.html").read_text(encoding="utf-8")
    slow = []
    real_update = Preview._update
    monkeypatch.setattr(Preview, "_update", lambda self: slow.append(1) or real_update(self))
    preview.rebuild([edit(wrong, "group: fud", "group: food\nsummary: Muối tôm mới.")])
    assert not preview.errors and slow == []
    assert "Khăn mới dệt" in (out / "products/khan-bong/index.html").read_text(encoding="utf-8")
    assert "Muối tôm mới" in (out / "products/muoi-tom-tan-phat-loi/index.html").read_text(encoding="utf-8")
    same_as_full_build(preview, tmp_path)


def test_a_template_a_style_sheet_and_an_entry_saved_at_once_all_show(preview, tmp_path):
    """As `git pull` or a branch checked out changes them: one rebuild names files of several kinds.
    The entry went the update's way, which keeps the renderer and copies no static file, so the
    template and the style sheet were left out."""
    from dataclasses import replace
    templates, static, out = tmp_path / "templates", tmp_path / "static", preview.options.out_dir
    shutil.copytree(ROOT / "templates", templates)
    shutil.copytree(ROOT / "static", static)
    preview.options = replace(preview.options, templates_dir=templates, static_dir=static)
    preview.rebuild([templates, static])
    product = preview.options.content_dir / "products/muoi-tom-tan-phat-loi.md"
    shown = "products/muoi-tom-tan-phat-loi/index.html"
    preview.rebuild([edit(product, "dùng chấm", "dùng để chấm"),
                     edit(templates / "partials/footer.html", "</footer>", "<p>chân trang mới</p></footer>"),
                     edit(static / "style.css", "/* Mobile first", "/* changed */\n/* Mobile first")], [shown])
    assert not preview.errors
    page = (out / shown).read_text(encoding="utf-8")
    assert "dùng để chấm" in page and "chân trang mới" in page
    assert (out / "static/style.css").read_text(encoding="utf-8").startswith("/* changed */")
    same_as_full_build(preview, tmp_path)


def test_a_template_mistake_saved_with_the_settings_shows_until_it_is_mended(tmp_path):
    """`site.yaml` and a template saved at once (a `git pull`): the settings' replan reads the templates'
    syntax too, and the mistake stays shown through a setting saved alone, until it is mended."""
    config, templates = tmp_path / "site.yaml", tmp_path / "templates"
    shutil.copyfile(ROOT / "site.yaml", config)
    shutil.copytree(ROOT / "templates", templates)
    shutil.copytree(ROOT / "content", tmp_path / "content")
    args = cli.parse_args(["serve", "--content", str(tmp_path / "content"), "--out", str(tmp_path / "site"),
                           "--date", BUILD_DATE, "--config", str(config), "--templates", str(templates)])
    preview = Preview(cli.options_from(args))
    assert "trang" in preview.rebuild() and not preview.errors
    out = preview.options.out_dir

    before = snapshot(out)
    # the centre's phone is in every page's footer: no page is written with it (found before any is)
    preview.rebuild([edit(config, "phone: 0290 3 000 000", "phone: 0290 3 000 001"),
                     edit(templates / "listing.html", "{% block main %}", "{% block main %}\n{% if %}")])
    assert [(Path(error.path).name, error.line) for error in preview.errors] == [("listing.html", 4)]
    preview.rebuild([edit(config, "per_page: 48", "per_page: 6")])
    assert [(Path(error.path).name, error.line) for error in preview.errors] == [("listing.html", 4)]
    assert snapshot(out) == before  # the last good site, whole
    preview.rebuild([edit(templates / "listing.html", "{% block main %}\n{% if %}", "{% block main %}")])
    assert preview.errors == []
    same_as_full_build(preview, tmp_path)


def test_pages_left_for_after_the_reload_wait_while_a_template_has_a_mistake(preview, tmp_path, monkeypatch):
    """An edit leaves pages to write after the reload; then a template is saved with a mistake. Those
    pages wait until it is mended: written by the last good renderer, they read the broken template
    from the disk, the writing failed, and mending it built everything again."""
    from dataclasses import replace

    from cnnt.serve import Viewing
    templates, out = tmp_path / "templates", preview.options.out_dir
    shutil.copytree(ROOT / "templates", templates)
    preview.options = replace(preview.options, templates_dir=templates)
    preview.rebuild([templates])
    viewing = Viewing()
    app = site_app(preview, viewing)
    shown = "products/muoi-tom-tan-phat-loi/index.html"
    b"".join(app({"PATH_INFO": "/" + shown.removesuffix("index.html")}, lambda *args: None))
    product = preview.options.content_dir / "products/muoi-tom-tan-phat-loi.md"
    preview.rebuild([edit(product, "name: Muối tôm", "name: Ớt muối tôm")], viewing.outputs())
    assert "a-z/index.html" in preview.unwritten

    before = snapshot(out)
    listing = templates / "listing.html"
    preview.rebuild([edit(listing, "{% block main %}", "{% block main %}\n{% if %}")], viewing.outputs())
    assert [(Path(error.path).name, error.line) for error in preview.errors] == [("listing.html", 4)]
    preview.settle_for("a-z/index.html")  # asked for by the browser
    assert preview.settle() is None  # (nothing it did failed: it wrote nothing)
    assert [(Path(error.path).name, error.line) for error in preview.errors] == [("listing.html", 4)]
    assert snapshot(out) == before
    full = []
    monkeypatch.setattr(Preview, "_full", lambda self: full.append(1) or 0)
    preview.rebuild([edit(listing, "{% block main %}\n{% if %}", "{% block main %}")], viewing.outputs())
    assert preview.errors == [] and full == []
    monkeypatch.undo()
    same_as_full_build(preview, tmp_path)
    assert "Ớt muối tôm" in (out / "a-z/index.html").read_text(encoding="utf-8")


def test_a_template_mistake_shows_at_its_line_and_the_preview_goes_on(preview, tmp_path):
    """A template that cannot be compiled is an error with its file and line, in the browser, as a
    content error is (before, it ended the thread that watches files: no later save was seen)."""
    from dataclasses import replace
    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", templates)
    preview.options = replace(preview.options, templates_dir=templates)
    line = preview.rebuild([edit(templates / "product.html", "{% block main %}", "{% block main %}\n{% if %}")])
    assert "1 lỗi, vẫn giữ trang cũ | 1 error, the last good site is kept" in line
    assert [(Path(error.path).name, error.line) for error in preview.errors] == [("product.html", 7)]
    body = b"".join(site_app(preview)({"PATH_INFO": "/"}, lambda *a: None)).decode("utf-8")
    assert "templates/product.html:7: " in body and "error in the template" in body
    preview.rebuild([edit(templates / "product.html", "{% block main %}\n{% if %}", "{% block main %}")])
    assert preview.errors == []
    same_as_full_build(preview, tmp_path)


@pytest.mark.parametrize("fault", ["a full disk", "a bug"])
def test_a_rebuild_that_fails_after_writing_pages_is_followed_by_a_full_one(preview, tmp_path, monkeypatch, capsys,
                                                                             fault):
    """The preview writes pages in place. A rebuild that fails once some are written (the disk fills
    just after it wrote the pages; or a bug) leaves pages it no longer knows: the next rebuild builds
    everything, and the site is a full build's. A bug is shown in the browser and the preview goes on."""
    from cnnt.engine import pipeline
    render_all, calls = pipeline.render_all, []

    def failing_once(*args, **kwargs):
        render_all(*args, **kwargs)
        calls.append(1)
        if len(calls) == 1:
            raise OSError(28, "No space left on device") if fault == "a full disk" else RuntimeError("a bug")
    monkeypatch.setattr(pipeline, "render_all", failing_once)
    new = preview.options.content_dir / "products/tuong-ot-moi.md"
    new.write_text("---\nname: Tương ớt mới\nfacility: my-thuyen\ngroup: food\n---\nMới.\n", encoding="utf-8")
    preview.rebuild([new])
    assert calls == [1]
    assert (preview.options.out_dir / "products/tuong-ot-moi/index.html").is_file()  # written before the fault
    message = "the disk is full" if fault == "a full disk" else "internal error in the site generator (RuntimeError: a bug)"
    assert len(preview.errors) == 1 and message in preview.errors[0].en
    if fault == "a bug":
        assert "RuntimeError: a bug" in capsys.readouterr().err  # the traceback, to report
    new.unlink()
    line = preview.rebuild([new])
    assert preview.errors == [] and rendered(preview, line) == len(preview.pages)
    same_as_full_build(preview, tmp_path)


def test_an_edit_writes_the_pages_the_browser_shows_first_and_the_others_after_the_reload(preview, tmp_path,
                                                                                         monkeypatch):
    """An edit that moves a product in A–Z changes many pages (1,400 at 10k products). The pages the
    browser shows (the HTML pages served last) are written before it reloads, the others after
    (`settle`), some at a time, giving way to an edit saved meanwhile: the pages left are carried to
    the next edit. A request for one of those is served once it is written, never as it was before
    the edit. The site ends as a full build's."""
    from cnnt.engine import pipeline
    from cnnt.engine import preview as engine_preview
    from cnnt.serve import Viewing
    content, out = preview.options.content_dir, preview.options.out_dir
    product = content / "products/muoi-tom-tan-phat-loi.md"
    viewing = Viewing()
    app = site_app(preview, viewing)

    def get(path: str) -> str:
        return b"".join(app({"PATH_INFO": path}, lambda *args: None)).decode("utf-8")

    get("/static/style.css")  # not a page
    get("/products/muoi-tom-tan-phat-loi/")
    assert viewing.outputs() == ["products/muoi-tom-tan-phat-loi/index.html"]
    listing = "a-z/index.html"
    before = (out / listing).read_text(encoding="utf-8")
    line = preview.rebuild([edit(product, "name: Muối tôm", "name: Ớt muối tôm")], viewing.outputs())
    assert not preview.errors and "Ớt muối tôm" in (out / "products/muoi-tom-tan-phat-loi/index.html").read_text()
    later = set(preview.unwritten)
    assert listing in later and (out / listing).read_text(encoding="utf-8") == before  # not yet
    assert "products/muoi-tom-tan-phat-loi/index.html" not in later
    assert rendered(preview, line) == len(later) + 1 and f"{len(later)} written after the reload" in line
    assert "Ớt muối tôm" in get("/a-z/")  # written for the request, and only it
    assert preview.unwritten == later - {listing}
    same_as_full_build(preview, tmp_path)

    assert viewing.outputs()[0] == listing  # now shown too: written first from now on
    group = "groups/food/index.html"
    preview.rebuild([edit(product, "name: Ớt muối tôm", "name: Muối tôm")], viewing.outputs())
    assert group in preview.unwritten and listing not in preview.unwritten
    assert "Ớt muối tôm" not in (out / listing).read_text(encoding="utf-8")
    # an edit is saved while they are written: the writing stops after its step, the rest is carried
    monkeypatch.setattr(engine_preview, "WRITE_STEP", 3)
    render_all, steps = pipeline.render_all, []

    def edit_saved_meanwhile(renderer, pages, *args):
        steps.append(len(pages))
        render_all(renderer, pages, *args)
        preview.asked += 1
    monkeypatch.setattr(pipeline, "render_all", edit_saved_meanwhile)
    left = len(preview.unwritten)
    assert preview.settle() is None and steps == [3] and len(preview.unwritten) == left - 3
    monkeypatch.setattr(pipeline, "render_all", render_all)
    other = content / "products/ong-hut-tre.md"  # that edit, a quick one: its pages are left for later too
    preview.rebuild([edit(other, "group: handicraft", "group: handicraft\nsummary: Ống hút tre.")], viewing.outputs())
    assert {group, "products/ong-hut-tre/index.html"} <= preview.unwritten and listing not in preview.unwritten
    assert "Ớt muối tôm" in (out / group).read_text(encoding="utf-8")
    assert "Ống hút tre." not in (out / "products/ong-hut-tre/index.html").read_text(encoding="utf-8")
    assert preview.settle() is None and not preview.unwritten
    assert "Ớt muối tôm" not in (out / group).read_text(encoding="utf-8")
    same_as_full_build(preview, tmp_path)


def test_a_template_saved_renders_the_page_shown_at_once_and_every_other_after_the_reload(preview, tmp_path,
                                                                                        monkeypatch):
    """A template edit changes every page. They are rendered again from the plan the preview holds (no
    content read again): the page the browser shows before it reloads, the others after (`settle`), a
    request for one of them first. A syntax mistake writes nothing and names its line; a mistake
    that shows only when some page renders shows when that page is written, and the next rebuild
    builds everything. The site ends as a full build's."""
    from dataclasses import replace

    from cnnt.serve import Viewing
    templates, out = tmp_path / "templates", preview.options.out_dir
    shutil.copytree(ROOT / "templates", templates)
    preview.options = replace(preview.options, templates_dir=templates)
    viewing = Viewing()
    app = site_app(preview, viewing)

    def get(path: str) -> str:
        return b"".join(app({"PATH_INFO": path}, lambda *args: None)).decode("utf-8")

    get("/products/muoi-tom-tan-phat-loi/")
    shown, listing = "products/muoi-tom-tan-phat-loi/index.html", "a-z/index.html"
    entries = preview.caches.entries
    line = preview.rebuild([edit(templates / "partials/footer.html", "</footer>", "<p>chân trang mới</p></footer>")],
                           viewing.outputs())
    assert not preview.errors and preview.caches.entries is entries  # the content was not read again
    assert "chân trang mới" in (out / shown).read_text(encoding="utf-8")
    assert "chân trang mới" not in (out / listing).read_text(encoding="utf-8")  # not yet
    assert preview.unwritten == set(preview.pages) - {shown}
    assert rendered(preview, line) == len(preview.pages) and f"{len(preview.pages) - 1} written after" in line
    assert "chân trang mới" in get("/a-z/") and listing not in preview.unwritten  # written for the request
    # the products' cards, which listings show, are rendered first, some at a time
    from cnnt.engine import pipeline
    from cnnt.engine import preview as engine_preview
    monkeypatch.setattr(engine_preview, "CARD_STEP", 7)
    render_cards_ahead, cards = pipeline.render_cards_ahead, []
    monkeypatch.setattr(pipeline, "render_cards_ahead", lambda *args: cards.append(render_cards_ahead(*args)) or cards[-1])
    assert preview.settle() is None and not preview.unwritten
    renderer = preview.last.renderer
    assert max(cards) == 7 and len(cards) > 2 and cards[-1] == 0  # (the last found none left)
    assert all(renderer.has_card(slug, lang) for slug in preview.last.catalogue.products for lang in ("vi", "en"))
    assert all("chân trang mới" in (out / output).read_text(encoding="utf-8") for output in preview.pages
               if preview.pages[output].template not in ("redirect.html", "cards.html"))
    same_as_full_build(preview, tmp_path)

    # what an editor saves beside a template (emacs's autosave and lock) is no template: nothing to render
    autosave, lock = templates / "partials/#footer.html#", templates / "partials/.#footer.html"
    autosave.write_text("{% if %}", encoding="utf-8")
    lock.symlink_to("root@host.1234:1700000000")
    line = preview.rebuild([autosave, lock], viewing.outputs())
    assert rendered(preview, line) == 0 and not preview.unwritten and not preview.errors

    # a syntax mistake: nothing written, the line named, the site as it was
    before = (out / shown).read_text(encoding="utf-8")
    line = preview.rebuild([edit(templates / "fair.html", "{% block main %}", "{% block main %}{% if %}")],
                           viewing.outputs())
    assert "the last good site is kept" in line and not preview.unwritten
    assert [(Path(error.path).name, error.line) for error in preview.errors] == [("fair.html", 5)]
    assert (out / shown).read_text(encoding="utf-8") == before
    # a mistake only a fair's page meets when it renders: the product shown is written, the fair's
    # page fails after the reload, and the next rebuild, the mistake mended, builds everything
    line = preview.rebuild([edit(templates / "fair.html", "{% block main %}{% if %}", "{% block main %}{{ 1 // 0 }}")],
                           viewing.outputs())
    assert not preview.errors and preview.unwritten, line
    failed = preview.settle()
    assert failed and "1 error, the last good site is kept" in failed and preview.plan is None
    assert [Path(error.path).name for error in preview.errors] == ["fair.html"]
    line = preview.rebuild([edit(templates / "fair.html", "{{ 1 // 0 }}", "")], viewing.outputs())
    assert not preview.errors and not preview.unwritten and rendered(preview, line) == len(preview.pages)
    same_as_full_build(preview, tmp_path)

    # a style sheet, then a template, saved while the content has an error: the error stays shown
    product = preview.options.content_dir / "products/muoi-tom-tan-phat-loi.md"
    preview.rebuild([edit(product, "group: food", "group: fud")], viewing.outputs())
    static = tmp_path / "static"
    shutil.copytree(ROOT / "static", static)
    preview.options = replace(preview.options, static_dir=static)
    line = preview.rebuild([edit(static / "style.css", "/* Mobile first", "/* changed */\n/* Mobile first")])
    assert [Path(error.path).name for error in preview.errors] == ["muoi-tom-tan-phat-loi.md"], line
    assert (out / "static/style.css").read_text(encoding="utf-8").startswith("/* changed */")  # copied all the same
    # the template with the content: planned again from the parse results held, not built again whole
    entries, plan = preview.caches.entries, preview.plan
    preview.rebuild([edit(templates / "partials/footer.html", "chân trang mới", "chân trang")], viewing.outputs())
    assert [Path(error.path).name for error in preview.errors] == ["muoi-tom-tan-phat-loi.md"]
    assert preview.caches.entries is entries and preview.plan is plan and preview.replan_due
    assert "<p>chân trang</p>" not in (out / shown).read_text(encoding="utf-8")  # the last good site
    line = preview.rebuild([edit(product, "group: fud", "group: food")], viewing.outputs())
    assert not preview.errors and not preview.replan_due and preview.caches.entries is entries
    assert preview.unwritten == set(preview.pages) - set(viewing.outputs()) and shown in viewing.outputs()
    assert f"{len(preview.unwritten)} written after" in line
    assert "<p>chân trang</p>" in (out / shown).read_text(encoding="utf-8")
    same_as_full_build(preview, tmp_path)

    # a syntax mistake, then an edit of content: the mistake stays shown (rendered with the templates
    # of before, the edit hid it), and both show once it is mended
    preview.rebuild([edit(templates / "product.html", "{% block main %}", "{% block main %}{% if %}")],
                    viewing.outputs())
    preview.rebuild([edit(product, "dùng chấm", "dùng để chấm")], viewing.outputs())
    assert [(Path(error.path).name, error.line) for error in preview.errors] == [("product.html", 6)]
    assert "dùng để chấm" not in (out / shown).read_text(encoding="utf-8")
    preview.rebuild([edit(templates / "product.html", "{% block main %}{% if %}", "{% block main %}")],
                    viewing.outputs())
    assert not preview.errors and "dùng để chấm" in (out / shown).read_text(encoding="utf-8")
    same_as_full_build(preview, tmp_path)


def test_settings_or_a_vocabulary_saved_plan_again_and_render_the_page_shown_first(tmp_path, vocabularies,
                                                                                    monkeypatch):
    """`site.yaml` or a vocabulary saved: the site is planned again, with the entries' parse results kept
    unless what they depend on changed, and every page rendered again, the page the browser shows
    before it reloads and the others after it. After it too: what each page shows, the search and
    open data, the other files, and the pages and files the new settings no longer make deleted. A
    setting with a mistake writes nothing, and every save plans again until it is mended. The
    site ends as a full build's each time."""
    from cnnt.serve import Viewing
    config = tmp_path / "site.yaml"
    shutil.copyfile(ROOT / "site.yaml", config)
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    args = cli.parse_args(["serve", "--content", str(content), "--out", str(tmp_path / "site"), "--date", BUILD_DATE,
                           "--config", str(config)])
    preview = Preview(cli.options_from(args))
    assert "trang" in preview.rebuild() and not preview.errors
    out, viewing = preview.options.out_dir, Viewing()
    app = site_app(preview, viewing)

    def get(path: str) -> str:
        return b"".join(app({"PATH_INFO": path}, lambda *args: None)).decode("utf-8")

    def parsed() -> dict[str, object]:
        return {file: cached[1] for file, cached in preview.caches.entries.items()}

    get("/products/muoi-tom-tan-phat-loi/")
    shown = "products/muoi-tom-tan-phat-loi/index.html"
    # no template was saved: none is read for its syntax (0.05–0.25 s)
    from cnnt.engine import preview as engine_preview
    checked, syntax_mistakes = [], engine_preview.syntax_mistakes
    monkeypatch.setattr(engine_preview, "syntax_mistakes", lambda folder: checked.append(folder) or syntax_mistakes(folder))
    # fewer products a page: more listing pages, and the parse results stand
    before, pages_before = parsed(), set(preview.pages)
    line = preview.rebuild([edit(config, "per_page: 48", "per_page: 6")], viewing.outputs())
    assert not preview.errors and all(parsed()[file] is result for file, result in before.items())
    assert checked == []
    more = set(preview.pages) - pages_before
    assert more and all(not (out / output).exists() for output in more)  # not yet: after the reload
    assert preview.unwritten == set(preview.pages) - {shown}
    assert rendered(preview, line) == len(preview.pages) and f"{len(preview.pages) - 1} written after" in line
    page = sorted(more)[0]
    assert "<html" in get("/" + page.removesuffix("index.html")) and page not in preview.unwritten
    same_as_full_build(preview, tmp_path)  # (every page written, the open data made again)
    # saved again before the reload: what the pages planned before show is never worked out
    from cnnt.engine import incremental
    described, signatures = [], incremental.Describer.signatures
    monkeypatch.setattr(incremental.Describer, "signatures",
                        lambda self, pages: described.append(len(pages)) or signatures(self, pages))
    preview.rebuild([edit(config, "per_page: 6", "per_page: 7")], viewing.outputs())
    preview.rebuild([edit(config, "per_page: 7", "per_page: 6")], viewing.outputs())
    assert described == []
    monkeypatch.setattr(incremental.Describer, "signatures", signatures)
    # back to 48: the listing pages of 6 go, after the reload, also when a new entry is saved before it
    line = preview.rebuild([edit(config, "per_page: 6", "per_page: 48")], viewing.outputs())
    assert set(preview.pages) == pages_before and preview.files_stale
    added = content / "products/mam-tep-thu.md"
    added.write_text("---\nname: Mắm tép thử\nfacility: tan-phat-loi\ngroup: food\n---\nMắm tép.\n", encoding="utf-8")
    preview.rebuild([added], viewing.outputs())
    assert not preview.errors and preview.files_stale
    same_as_full_build(preview, tmp_path)
    assert not any((out / output).exists() for output in more) and not (out / "a-z/page").exists()
    added.unlink()
    preview.rebuild([added], viewing.outputs())

    # awards counted without a registered decision: what the parse results depend on changed
    before = parsed()
    preview.rebuild([edit(config, "declared_awards: show", "declared_awards: count")], viewing.outputs())
    assert not preview.errors and not any(parsed()[file] is result for file, result in before.items())
    same_as_full_build(preview, tmp_path)

    # a vocabulary's label: read again, on the page shown now
    groups = vocabularies / "product_groups.yaml"
    preview.rebuild([edit(groups, '"Chế biến nông-lâm-thủy sản và thực phẩm"', '"Thực phẩm chế biến"')],
                    viewing.outputs())
    assert "Thực phẩm chế biến" in (out / shown).read_text(encoding="utf-8")
    assert "Thực phẩm chế biến" not in (out / "groups/food/index.html").read_text(encoding="utf-8")
    same_as_full_build(preview, tmp_path)
    assert "Thực phẩm chế biến" in (out / "groups/food/index.html").read_text(encoding="utf-8")
    # an edit after it reads what each page shows, described after the reload: a quick one
    line = preview.rebuild([edit(content / "products/muoi-tom-tan-phat-loi.md", "dùng chấm", "để chấm")],
                           viewing.outputs())
    assert 0 < rendered(preview, line) < len(preview.pages) // 4 and "để chấm" in (out / shown).read_text(encoding="utf-8")
    same_as_full_build(preview, tmp_path)

    # a mistake in the settings: nothing written, the error shown, the last good site kept; an edit of
    # content meanwhile finds the mistake still there; mended, both are planned, the parse results kept
    before_text = (out / shown).read_text(encoding="utf-8")
    line = preview.rebuild([edit(config, "per_page: 48", "per_page: many")], viewing.outputs())
    assert "the last good site is kept" in line and preview.plan is not None and preview.replan_due
    assert [Path(error.path).name for error in preview.errors] == ["site.yaml"]
    assert (out / shown).read_text(encoding="utf-8") == before_text
    product = content / "products/muoi-tom-tan-phat-loi.md"
    preview.rebuild([edit(product, "để chấm", "dùng chấm")], viewing.outputs())
    assert [Path(error.path).name for error in preview.errors] == ["site.yaml"]
    assert (out / shown).read_text(encoding="utf-8") == before_text
    before = parsed()
    line = preview.rebuild([edit(config, "per_page: many", "per_page: 48")], viewing.outputs())
    assert not preview.errors and not preview.replan_due and preview.unwritten == set(preview.pages) - {shown}
    assert all(parsed()[file] is result for file, result in before.items() if file != str(product))
    assert "dùng chấm" in (out / shown).read_text(encoding="utf-8")
    same_as_full_build(preview, tmp_path)

    # an editor's swap file beside a vocabulary is no vocabulary: nothing is planned
    swap = vocabularies / ".product_groups.yaml.swp"
    swap.write_bytes(b"b0VIM 9.0\0\xff")
    assert rendered(preview, preview.rebuild([swap], viewing.outputs())) == 0 and not preview.errors


def test_pages_left_for_after_the_reload_that_fail_to_be_written_leave_a_full_build_to_the_next_edit(
        preview, tmp_path, monkeypatch):
    """The disk fills while the pages left for after the reload are written: `settle` says so, the
    browser shows it, and the next rebuild builds everything (the site is a full build's). Before
    that: a request for one of them while a long rebuild holds the lock is answered with the page as
    it is after a while, not when the rebuild ends."""
    from cnnt.engine import pipeline
    from cnnt.engine import preview as engine_preview
    content = preview.options.content_dir
    preview.rebuild([edit(content / "products/muoi-tom-tan-phat-loi.md", "name: Muối tôm", "name: Ớt muối tôm")],
                    ["products/muoi-tom-tan-phat-loi/index.html"])
    assert "a-z/index.html" in preview.unwritten
    monkeypatch.setattr(engine_preview, "SETTLE_FOR_WAIT_S", 0.2)
    with preview.lock:  # as a rebuild holds it
        started = time.monotonic()
        preview.settle_for("a-z/index.html")
        assert 0.2 <= time.monotonic() - started < 5 and "a-z/index.html" in preview.unwritten

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(pipeline, "render_all", full_disk)
    line = preview.settle()
    assert line is not None and "1 error" in line
    assert len(preview.errors) == 1 and "the disk is full" in preview.errors[0].en
    assert preview.plan is None and not preview.unwritten
    body = b"".join(site_app(preview)({"PATH_INFO": "/a-z/"}, lambda *args: None)).decode("utf-8")
    assert 'id="cnnt-preview-errors"' in body
    monkeypatch.undo()
    line = preview.rebuild([edit(content / "products/ong-hut-tre.md", "group: handicraft",
                                 "group: handicraft\nsummary: Ống hút tre.")], [])
    assert preview.errors == [] and rendered(preview, line) == len(preview.pages)
    same_as_full_build(preview, tmp_path)


def test_the_pages_viewed_are_the_html_pages_served_last():
    from cnnt.serve import Viewing
    viewing = Viewing(size=3)
    for output in ["a/index.html", "b/index.html", "a/index.html", "c/index.html", "d/index.html"]:
        viewing.saw(output)
    assert viewing.outputs() == ["d/index.html", "c/index.html", "a/index.html"]


def test_warnings_show_in_the_preview_and_go_when_fixed(preview, tmp_path):
    """A warning (an address that names another commune than `commune`) does not stop the preview: the
    page is built and the warning shown over it; an edit that fixes it, even a quick one that
    re-renders only the facility's pages, takes it away."""
    facility = preview.options.content_dir / "facilities/my-thuyen.md"
    preview.rebuild([edit(facility, "address: Khóm Mẫu, phường An Xuyên, tỉnh Cà Mau",
                          "commune: Phường Tân Thành\naddress: Phường 8, TP. Cà Mau")])
    assert preview.errors == []
    assert [(Path(warning.path).name, warning.warning) for warning in preview.warnings] == [("my-thuyen.md", True)]
    body = b"".join(site_app(preview)({"PATH_INFO": "/facilities/my-thuyen/"}, lambda *a: None)).decode("utf-8")
    assert 'id="cnnt-preview-warnings"' in body and "Phường Lý Văn Lâm" in body and "cnnt-preview-errors" not in body
    assert "1 cảnh báo: trang vẫn được dựng, hãy xem lại | 1 warning: the site was built; please check" in body
    assert "Phường Tân Thành" in body  # the page was built with the edit
    line = preview.rebuild([edit(facility, "address: Phường 8, TP. Cà Mau", "address: Khóm 3, Phường Tân Thành")])
    assert preview.errors == [] and preview.warnings == ()
    assert rendered(preview, line) < len(preview.pages) / 4  # the quick path
    body = b"".join(site_app(preview)({"PATH_INFO": "/facilities/my-thuyen/"}, lambda *a: None)).decode("utf-8")
    assert "cnnt-preview-warnings" not in body and "Khóm 3, Phường Tân Thành" in body
    same_as_full_build(preview, tmp_path)


def test_the_terminal_shows_a_warning_once_and_again_when_it_changes(preview, capsys):
    """`serve` prints what each rebuild found: errors every time, a warning when it first appears (or
    comes back), not at every save while it stands."""
    import build
    from cnnt.serve import Report
    report = Report(preview, build.report_errors)
    facility = preview.options.content_dir / "facilities/my-thuyen.md"
    product = preview.options.content_dir / "products/muoi-tom-tan-phat-loi.md"
    warned = "my-thuyen.md:5: cảnh báo | warning: commune:"
    report(preview.rebuild([edit(facility, "address: Khóm Mẫu, phường An Xuyên, tỉnh Cà Mau",
                                 "commune: Phường Tân Thành\naddress: Phường 8, TP. Cà Mau")]))
    first = capsys.readouterr()
    assert warned in first.err and "trang" in first.out
    report(preview.rebuild([edit(facility, "employees: 60", "employees: 61")]))
    assert "warning" not in capsys.readouterr().err  # the same warning: not again
    for _ in range(2):  # errors every time
        report(preview.rebuild([edit(product, "group: food", "group: fud")]))
        err = capsys.readouterr().err
        assert "muoi-tom-tan-phat-loi.md:4: group:" in err and "warning" not in err
        report(preview.rebuild([edit(product, "group: fud", "group: food")]))
        assert capsys.readouterr().err == ""
    report(preview.rebuild([edit(facility, "address: Phường 8, TP. Cà Mau", "address: Khóm 3, Phường Tân Thành")]))
    assert capsys.readouterr().err == ""
    report(preview.rebuild([edit(facility, "address: Khóm 3, Phường Tân Thành", "address: Phường 8, TP. Cà Mau")]))
    assert warned in capsys.readouterr().err  # back again: printed again


def test_the_preview_server_answers_hostile_paths_with_its_404_page(tmp_path):
    """A path outside the site, too long, or holding a NUL byte or an undecodable byte is a 404 with
    the site's page, never a file from outside nor an error raised in the server."""
    import types
    site = tmp_path / "site"
    (site / "products/a").mkdir(parents=True)
    (site / "404.html").write_text("<html><body>không thấy</body></html>")
    (site / "products/a/index.html").write_text("<html><body>a</body></html>")
    (tmp_path / "secret.txt").write_text("bí mật")
    app = site_app(types.SimpleNamespace(options=types.SimpleNamespace(out_dir=site), errors=[], warnings=(),
                                         settle_for=lambda output: None))

    def get(path: str) -> tuple[str, bytes]:
        statuses: list[str] = []
        body = b"".join(app({"PATH_INFO": path}, lambda status, headers: statuses.append(status)))
        return statuses[0], body
    assert get("/products/a/") == ("200 OK", b"<html><body>a</body></html>")
    assert get("/products/a")[0] == "301 Moved Permanently"
    for path in ["/../secret.txt", "/products/../../secret.txt", "/a\x00b", "/" + "a" * 5000, "/\udcff",
                 "/products/a/index.html/x", "/nowhere/"]:
        assert get(path) == ("404 Not Found", "<html><body>không thấy</body></html>".encode()), path


@contextmanager
def served(app: Callable, script: bytes) -> Iterator[int]:
    """`app` served as the preview serves the site (`ThreadedServer`'s handlers, which add `script` to
    HTML pages), on a loop of its own thread; yields the port."""
    import asyncio

    from tornado import web
    from tornado.ioloop import IOLoop
    server, port = ThreadedServer(app, watcher=object()), free_port()
    loops: list[IOLoop] = []
    listening = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(asyncio.new_event_loop())
        web.Application(server.get_web_handlers(script)).listen(port, "127.0.0.1")
        loops.append(IOLoop.current())
        listening.set()
        loops[0].start()

    threading.Thread(target=run, daemon=True).start()
    assert listening.wait(10)
    try:
        yield port
    finally:
        loops[0].add_callback(loops[0].stop)
        server.executor.shutdown(wait=False)


def test_a_request_waiting_for_its_page_holds_no_other_request():
    """A page an edit left for after the reload, asked for while a rebuild holds the preview, waits
    for it (`Preview.settle_for`, up to ten seconds). It waits on a thread of its own: the server
    answers the page's style sheet, other pages and the reload messages meanwhile (on the server's
    one loop, every request waited behind it), then that page, with the reload script."""
    released = threading.Event()

    def app(environ: dict, start_response: Callable) -> list[bytes]:
        path = environ["PATH_INFO"]
        if path == "/waiting/":
            released.wait(30)
        if path == "/bug/":
            raise RuntimeError("a bug in the app")
        if path.endswith(".css"):
            start_response("200 OK", [("Content-Type", "text/css; charset=utf-8")])
            return [b"body{margin:0}"]
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [f"<html><head></head><body>{path}</body></html>".encode()]

    with served(app, b"<script>reload()</script>") as port, ThreadPoolExecutor(1) as waiting:
        def get(path: str) -> bytes:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
                return response.read()
        waited = waiting.submit(get, "/waiting/")
        try:
            time.sleep(0.2)  # (it is asked for first)
            assert get("/static/style.css") == b"body{margin:0}"
            assert get("/products/") == b"<html><head><script>reload()</script></head><body>/products/</body></html>"
            with pytest.raises(urllib.error.HTTPError) as failed:  # a bug in the app: a 500, and the server goes on
                get("/bug/")
            assert failed.value.code == 500
            assert not waited.done()
        finally:
            released.set()
        assert waited.result(10) == b"<html><head><script>reload()</script></head><body>/waiting/</body></html>"


def test_errors_show_even_before_a_first_good_build(tmp_path):
    content = tmp_path / "content"
    (content / "products").mkdir(parents=True)
    (content / "products/x.md").write_text("---\nname: X\nfacility: khong-co\ngroup: food\n---\n", encoding="utf-8")
    args = cli.parse_args(["serve", "--content", str(content), "--out", str(tmp_path / "site"), "--date", BUILD_DATE])
    preview = Preview(cli.options_from(args))
    preview.rebuild()
    assert preview.errors and preview.plan is None
    body = b"".join(site_app(preview)({"PATH_INFO": "/"}, lambda *a: None)).decode("utf-8")
    assert "products/x.md:3: facility" in body and 'id="cnnt-preview-errors"' in body


def test_edits_that_change_the_new_listings_rebuild_them(preview, tmp_path):
    """OCOP stars, certifications, where to buy and a facility's kind decide listings too (/ocop/,
    /certifications/, /channels/, /kinds/): an edit to them is not a quick one."""
    content = preview.options.content_dir
    product = content / "products/muoi-tom-tan-phat-loi.md"
    preview.rebuild([edit(product, "domestic_channels: [Organica]", "domestic_channels: [Organica, Chợ Nổi Cái Răng]")])
    preview.finish()
    assert not preview.errors, preview.errors
    assert (preview.options.out_dir / "channels/cho-noi-cai-rang/index.html").is_file()
    same_as_full_build(preview, tmp_path)
    preview.rebuild([edit(product, "group: food", "group: food\ncertifications:\n  - {scheme: vietgap, year: 2024}")])
    preview.finish()
    assert "Muối tôm" in (preview.options.out_dir / "certifications/vietgap/index.html").read_text(encoding="utf-8")
    same_as_full_build(preview, tmp_path)
    facility = next((content / "facilities").glob("tan-phat-loi*"))
    facility = facility / "index.md" if facility.is_dir() else facility
    text = facility.read_text(encoding="utf-8")
    kind = re.search(r"^kind: (\S+)", text, re.M).group(1)
    preview.rebuild([edit(facility, f"kind: {kind}", "kind: company" if kind != "company" else "kind: household")])
    preview.finish()
    same_as_full_build(preview, tmp_path)


def test_an_edit_saved_while_the_search_is_made_goes_first_and_the_site_ends_the_same(tmp_path, monkeypatch):
    """`finish` makes the search data after the reload; a next edit, saved meanwhile, stops it between
    steps, also within a language's index. The next `finish` does the work: the site matches a full build, the edited page dated today
    in the sitemap (the other files were last changed long ago)."""
    import os

    from cnnt.site import search
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    for path in content.rglob("*"):
        os.utime(path, (1_700_000_000, 1_700_000_000))  # November 2023
    args = cli.parse_args(["serve", "--content", str(content), "--out", str(tmp_path / "site"), "--date", BUILD_DATE])
    preview = Preview(cli.options_from(args))
    preview.rebuild()
    preview.rebuild([edit(content / "facilities/my-thuyen.md", "0900 000 102", "0900 000 999")])
    preview.finish()  # a first edit, finished: the sitemap's dates are read
    product = content / "products/muoi-tom-tan-phat-loi.md"
    preview.rebuild([edit(product, "group: food", "group: food\nsummary: Lần một.")])
    made = []
    real = search.build_index

    def next_edit_arrives(*args, **kwargs):  # a save while the first language's index is made
        made.append(args[2])
        preview.asked += 1
        index = real(*args, **kwargs)
        made.append("whole")
        return index
    monkeypatch.setattr(search, "build_index", next_edit_arrives)
    search_files = {p.name for p in (preview.options.out_dir / "search").iterdir()}
    preview.finish()
    # stopped within the first language's index (a second at 10k products), nothing written
    assert made == ["vi"] and preview.search_stale
    assert {p.name for p in (preview.options.out_dir / "search").iterdir()} == search_files
    monkeypatch.setattr(search, "build_index", real)
    preview.rebuild([edit(product, "summary: Lần một.", "summary: Lần hai.")])
    preview.finish()
    assert not preview.search_stale
    sitemap = (preview.options.out_dir / "sitemap.xml").read_text(encoding="utf-8")
    assert re.search(r"products/muoi-tom-tan-phat-loi/</loc><lastmod>2023", sitemap) is None
    assert re.search(r"products/kho-muc-my-thuyen/</loc><lastmod>2023", sitemap)  # not edited
    same_as_full_build(preview, tmp_path)


def test_open_data_an_interrupted_finish_left_is_written_after_a_later_edit(preview, tmp_path, monkeypatch):
    """A phone number changes the open data (a quick edit); another edit, saved before those files
    were written and leaving the tables as they are, must not lose them."""
    content = preview.options.content_dir
    preview.rebuild([edit(content / "facilities/my-thuyen.md", "0900 000 102", "0900 000 999")])
    real = Preview._refresh_numbers

    def next_edit_arrives(self, plan):
        real(self, plan)
        self.asked += 1
    monkeypatch.setattr(Preview, "_refresh_numbers", next_edit_arrives)
    preview.finish()
    assert preview.data_stale  # stopped before the open-data files
    monkeypatch.setattr(Preview, "_refresh_numbers", real)
    fair = content / "fairs/hoi-cho-cnnt-ca-mau-2026.md"  # not a quick edit, and the tables stay as they are
    preview.rebuild([edit(fair, "summary: Trưng bày", "summary: Trưng bày và bán")])
    same_as_full_build(preview, tmp_path)


def test_the_open_data_files_are_made_by_a_worker_while_the_lock_is_free(preview, tmp_path, monkeypatch):
    """After an edit that changes the open-data tables, `finish` has a worker make their files (seconds
    at 10k products) and does not hold the lock meanwhile: an edit saved then need not wait for them."""
    import os
    from dataclasses import replace

    from cnnt.engine import extras
    from cnnt.system import parallel
    noted, real_files, real_result = tmp_path / "pids", extras.open_data_files, parallel.Later.result
    lock_free = []

    def noting_pid(*args):  # in the worker: its process id, where the test can read it
        with open(noted, "a") as stream:
            stream.write(f"{os.getpid()}\n")
        return real_files(*args)

    def noting_the_lock(self):
        lock_free.append(preview.lock.acquire(blocking=False))
        if lock_free[-1]:
            preview.lock.release()
        return real_result(self)

    preview.options = replace(preview.options, jobs=2)  # a worker, whatever this machine's cores
    content = preview.options.content_dir
    preview.rebuild([edit(content / "facilities/my-thuyen.md", "0900 000 102", "0900 000 999")])  # in a table
    monkeypatch.setattr(extras, "open_data_files", noting_pid)
    monkeypatch.setattr(parallel.Later, "result", noting_the_lock)
    preview.finish()
    made = noted.read_text().split()
    assert len(made) == 1 and made != [str(os.getpid())], "made once, by a worker"
    assert lock_free == [True] and not preview.data_stale
    monkeypatch.undo()
    same_as_full_build(preview, tmp_path)
