"""Found, shared and printed: sitemap and robots.txt, structured data, Atom feeds, link-preview images,
printable catalogues (printed to PDF and every QR code decoded), fairs abroad and online, deploying."""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pypdfium2
import pytest
from conftest import BUILD_DATE, ROOT
from PIL import Image
from test_qr import decode_all

BASE = "https://catalogue.example.org/"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
XHTML = "{http://www.w3.org/1999/xhtml}"
ATOM = "{http://www.w3.org/2005/Atom}"


def read(site: Path, path: str) -> str:
    return (site / path).read_text(encoding="utf-8")


# -- sitemap and robots ------------------------------------------------------------------------------

def sitemap_urls(site: Path) -> dict[str, ET.Element]:
    root = ET.fromstring(read(site, "sitemap.xml"))
    return {url.find(f"{SITEMAP}loc").text: url for url in root.findall(f"{SITEMAP}url")}


def test_sitemap_lists_pages_to_be_found_with_their_alternates(sample_site):
    urls = sitemap_urls(sample_site)
    for path in ("", "products/kho-muc-my-thuyen/", "facilities/my-thuyen/", "fairs/hoi-cho-cnnt-ca-mau-2026/",
                 "decisions/quoc-gia-2024/", "awards/national/", "a-z/", "decisions/"):
        for prefix in ("", "en/"):
            assert BASE + prefix + path in urls, prefix + path
    product = urls[BASE + "en/products/kho-muc-my-thuyen/"]
    alternates = {link.get("hreflang"): link.get("href") for link in product.findall(f"{XHTML}link")}
    assert alternates == {"vi": BASE + "products/kho-muc-my-thuyen/", "en": BASE + "en/products/kho-muc-my-thuyen/",
                          "x-default": BASE + "products/kho-muc-my-thuyen/"}
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", product.find(f"{SITEMAP}lastmod").text)
    for path in ("products/khan-bong-cotton/", "cards/my-thuyen/", "products/keo-dua-la-dua/", "search/",
                 "print/", "print/awards/national/", "fairs/hoi-cho-cnnt-ca-mau-2026/cards/"):
        assert BASE + path not in urls and BASE + "en/" + path not in urls, path  # not meant to be found
    assert "404" not in "".join(urls)
    assert read(sample_site, "robots.txt") == f"User-agent: *\nAllow: /\n\nSitemap: {BASE}sitemap.xml\n"


def test_sitemap_addresses_with_characters_xml_escapes_read_back_whole():
    """Each language's start of address is escaped once and each path once (sitemap._Urls): what a
    reader gets back must be the whole address, whatever characters it holds."""
    from dataclasses import replace

    from cnnt.content.config import load_config
    from cnnt.site import sitemap
    from cnnt.site.pages import Page
    config = load_config(ROOT / "site.yaml", dt.date.fromisoformat(BUILD_DATE), ROOT)
    odd = replace(config, base_url="https://example.org/a&b'c\"d<e>/")
    path = "products/x&y'z\"w/"
    files = sitemap.sitemap_files(sitemap.indexed_paths([Page(path, "vi", "product.html")], odd), odd,
                                  {path: dt.date(2026, 1, 2)})
    root = ET.fromstring(b"".join(dict(files)["sitemap.xml"]))
    urls = {url.find(f"{SITEMAP}loc").text: url for url in root.findall(f"{SITEMAP}url")}
    assert set(urls) == {odd.base_url + path, odd.base_url + "en/" + path}
    alternates = {link.get("hreflang"): link.get("href") for link in urls[odd.base_url + path].findall(f"{XHTML}link")}
    assert alternates == {"vi": odd.base_url + path, "en": odd.base_url + "en/" + path, "x-default": odd.base_url + path}
    assert urls[odd.base_url + path].find(f"{SITEMAP}lastmod").text == "2026-01-02"


@pytest.mark.parametrize("path", ["cards/my-thuyen/index.html", "products/khan-bong-cotton/index.html",
                                  "products/keo-dua-la-dua/index.html", "404.html", "print/groups/food/index.html",
                                  "print/index.html"])
def test_pages_not_to_be_indexed_say_so(sample_site, path):
    assert '<meta name="robots" content="noindex">' in read(sample_site, path)


def test_indexed_pages_do_not_say_noindex(sample_site):
    for path in ("index.html", "products/kho-muc-my-thuyen/index.html", "en/decisions/index.html"):
        assert "noindex" not in read(sample_site, path)


def test_a_preview_is_never_indexed(make_site, tmp_path):
    import build as cli
    from cnnt.engine import pipeline
    make_site({}, command="check")
    args = cli.parse_args(["serve", "--content", str(tmp_path / "content"), "--out", str(tmp_path / "preview"),
                           "--date", BUILD_DATE])
    pipeline.build(cli.options_from(args))
    assert read(tmp_path / "preview", "robots.txt") == "User-agent: *\nDisallow: /\n"
    assert '<meta name="robots" content="noindex">' in read(tmp_path / "preview", "index.html")


def test_lastmod_is_the_last_commit_or_the_file_time(make_site, tmp_path):
    product = "---\nname: Bánh\nfacility: htx-mau\ngroup: food\n---\n"
    make_site({"products/banh.md": product, "products/keo.md": product.replace("Bánh", "Kẹo")}, command="check")
    env = {**os.environ, "GIT_COMMITTER_DATE": "2024-03-05T10:00:00Z", "GIT_AUTHOR_DATE": "2024-03-05T10:00:00Z"}
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "base"]):
        subprocess.run([*git, *args], cwd=tmp_path, check=True, env=env, capture_output=True)
    (tmp_path / "content/products/keo.md").write_text(product.replace("Bánh", "Kẹo mới"), encoding="utf-8")
    os.utime(tmp_path / "content/products/keo.md", (1767225600, 1767225600))  # 2026-01-01, not committed
    run = make_site({})
    assert run.code == 0, run.err
    urls = sitemap_urls(run.site)
    assert urls[BASE + "products/banh/"].find(f"{SITEMAP}lastmod").text == "2024-03-05"
    assert urls[BASE + "en/products/keo/"].find(f"{SITEMAP}lastmod").text == "2026-01-01"


def commit_at(top: Path, day: str, *args: str) -> None:
    env = {**os.environ, "GIT_COMMITTER_DATE": f"{day}T10:00:00Z", "GIT_AUTHOR_DATE": f"{day}T10:00:00Z"}
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"]
    subprocess.run([*git, *args], cwd=top, check=True, env=env, capture_output=True)


def test_a_commit_that_changes_no_file_still_dates_its_files_anew(make_site, tmp_path):
    """Committing files the last build read as they are changes no input file, yet moves their pages'
    days from the files' own to the commit's: the build is not skipped as unchanged, and says what a
    clean build says."""
    product = "---\nname: Bánh\nfacility: htx-mau\ngroup: food\n---\n"
    make_site({"products/banh.md": product}, command="check")
    commit_at(tmp_path, "2024-03-05", "init", "-q")
    commit_at(tmp_path, "2024-03-05", "add", "-A")
    commit_at(tmp_path, "2024-03-05", "commit", "-qm", "base")
    edited = tmp_path / "content/products/banh.md"
    edited.write_text(product.replace("Bánh", "Bánh mới"), encoding="utf-8")
    os.utime(edited, (1767225600, 1767225600))  # 2026-01-01
    assert make_site({}).code == 0
    assert sitemap_urls(tmp_path / "site")[BASE + "products/banh/"].find(f"{SITEMAP}lastmod").text == "2026-01-01"
    commit_at(tmp_path, "2024-04-01", "commit", "-qam", "the edit")
    run = make_site({})
    assert run.code == 0 and "Nothing changed" not in run.out, run.out
    assert sitemap_urls(run.site)[BASE + "products/banh/"].find(f"{SITEMAP}lastmod").text == "2024-04-01"
    clean = make_site({}, extra=("--out", str(tmp_path / "clean"), "--force"))
    assert clean.code == 0
    assert read(run.site, "sitemap.xml") == read(tmp_path / "clean", "sitemap.xml")
    assert make_site({}).out.startswith("Không có thay đổi")  # and then it is up to date


def test_the_repository_s_own_files_are_not_read_as_content(make_site, tmp_path, monkeypatch):
    """A catalogue kept in a repository of its own, its content folder the repository's top: git's
    files (its index, packs of every photo ever committed) are not content. Changed by git alone,
    they leave the site up to date; they are never read to fingerprint the inputs."""
    make_site({"products/banh.md": "---\nname: Bánh\nfacility: htx-mau\ngroup: food\n---\n"}, command="check")
    content = tmp_path / "content"
    commit_at(content, "2024-03-05", "init", "-q")
    commit_at(content, "2024-03-05", "add", "-A")
    commit_at(content, "2024-03-05", "commit", "-qm", "base")
    assert make_site({}).code == 0
    commit_at(content, "2024-03-05", "gc", "-q")  # git's own files rewritten: packs, refs, its index
    (content / ".git" / "description").write_text("the catalogue\n")
    from cnnt.content import load
    read_files = []
    real_read = load._read_digest
    monkeypatch.setattr(load, "_read_digest", lambda path: read_files.append(path) or real_read(path))
    run = make_site({})
    assert run.out.startswith("Không có thay đổi"), run.out
    assert not [path for path in read_files if f"{os.sep}.git{os.sep}" in path]
    # deeper, such a name is only a folder, which an entry may keep a photo in: still an input
    (content / "products/banh/.hg").mkdir(parents=True)
    (content / "products/banh.md").rename(content / "products/banh/index.md")
    (content / "products/banh/.hg/notes.txt").write_text("a")
    assert make_site({}).code == 0
    assert make_site({}).out.startswith("Không có thay đổi")
    (content / "products/banh/.hg/notes.txt").write_text("b")
    assert not make_site({}).out.startswith("Không có thay đổi")

def test_commit_days_kept_between_builds_are_those_of_the_whole_history(tmp_path, monkeypatch):
    """The days of the files' last commits, kept from build to build and brought up to date from the
    commits since (`gitfiles._commit_days`), are always those a reading of the whole history gives:
    after new commits, a branch merged whose commits are older than the last build's, a file removed
    and added again, a rename, a history rewritten, and a damaged file of kept days."""
    import random

    from cnnt.system import gitfiles
    top, kept = tmp_path / "repo", tmp_path / "kept.pickle"
    top.mkdir()
    read: list[str] = []
    log_days = gitfiles._log_days
    monkeypatch.setattr(gitfiles, "_log_days", lambda where, commits: read.append(commits) or log_days(where, commits))
    rng = random.Random(7)
    names = [f"content/products/p{number}.md" for number in range(5)]

    def write_some(day: str, pool: list[str] = names) -> None:
        for name in rng.sample(pool, 2):
            (top / name).parent.mkdir(parents=True, exist_ok=True)
            (top / name).write_text(f"{day} {rng.random()}\n")
        commit_at(top, day, "add", "-A")
        commit_at(top, day, "commit", "-qm", day)

    def agree() -> None:
        read.clear()
        incremental = gitfiles._commit_days(str(top), kept)
        assert incremental == gitfiles._commit_days(str(top), None), read

    def edit_line(day: str, number: int) -> None:  # of a file both lines of history change, apart
        both = top / "content/both.md"
        lines = both.read_text().split("\n") if both.exists() else [f"line {n}" for n in range(10)]
        lines[number] = day
        both.write_text("\n".join(lines))
        commit_at(top, day, "add", "content/both.md")
        commit_at(top, day, "commit", "-qm", f"both.md {day}")

    commit_at(top, "2024-01-01", "init", "-q")
    write_some("2024-01-02")
    edit_line("2024-01-02", 0)
    agree()
    commit_at(top, "2024-01-03", "checkout", "-qb", "side")
    write_some("2024-01-03", ["content/side/a.md", names[4]])  # a branch, older than the main line's next
    edit_line("2024-01-04", 9)
    commit_at(top, "2024-01-04", "checkout", "-q", "-")
    edit_line("2024-02-01", 0)
    for day in ("2024-02-01", "2024-02-02"):
        write_some(day, names[:4])
        agree()
        assert ".." in read[0], "only the commits since are read"  # (read[1]: the whole history, to compare)
    commit_at(top, "2024-02-03", "merge", "-q", "--no-edit", "side")
    agree()
    commit_at(top, "2024-02-04", "rm", "-q", names[0])
    commit_at(top, "2024-02-04", "commit", "-qm", "removed")
    write_some("2024-02-05")
    commit_at(top, "2024-02-06", "mv", names[1], "content/products/renamed.md")
    commit_at(top, "2024-02-06", "commit", "-qm", "renamed")
    agree()
    commit_at(top, "2024-02-07", "reset", "-q", "--hard", "HEAD~3")   # history rewritten
    write_some("2024-02-08")
    agree()
    assert ".." not in read[0], "a rewritten history is read whole"
    kept.write_bytes(kept.read_bytes()[:-9])       # cut short
    agree()
    assert gitfiles._commit_days(str(top), None)["content/products/p2.md"] >= dt.date(2024, 1, 2).toordinal()


def test_a_large_site_gets_a_sitemap_index(monkeypatch):
    from cnnt.content.config import load_config
    from cnnt.site import sitemap
    from cnnt.site.pages import Page
    config = load_config(ROOT / "site.yaml", dt.date(2026, 11, 22), ROOT)
    monkeypatch.setattr(sitemap, "URLS_PER_FILE", 10)
    pages = [Page(f"products/p{number}/", "vi", "product.html") for number in range(12)]
    files = {name: b"".join(pieces) for name, pieces in sitemap.sitemap_files(sitemap.indexed_paths(pages, config),
                                                                               config, {})}
    assert sorted(files) == ["sitemap-1.xml", "sitemap-2.xml", "sitemap-3.xml", "sitemap.xml"]
    index = ET.fromstring(files["sitemap.xml"])
    assert [loc.text for loc in index.iter(f"{SITEMAP}loc")] == [BASE + f"sitemap-{n}.xml" for n in (1, 2, 3)]
    assert sum(len(ET.fromstring(files[f"sitemap-{n}.xml"])) for n in (1, 2, 3)) == 24  # 12 pages, 2 languages


@pytest.mark.parametrize("languages", [("vi", "en"), ("vi", "en", "fr")])
def test_a_sitemap_cut_into_parts_and_pieces_lists_every_address_once_in_order(monkeypatch, languages):
    """The parts are made a few addresses at a time: wherever a part or a piece ends (between the
    languages of one page, too), the parts together list what one file would."""
    from dataclasses import replace

    from cnnt.content.config import load_config
    from cnnt.site import sitemap
    config = replace(load_config(ROOT / "site.yaml", dt.date(2026, 11, 22), ROOT), languages=languages)
    paths = [f"products/p{number}/" for number in range(7)]
    changed = {paths[2]: dt.date(2026, 1, 2)}

    def locations(per_file: int, per_piece: int) -> list[str]:
        monkeypatch.setattr(sitemap, "URLS_PER_FILE", per_file)
        monkeypatch.setattr(sitemap, "URLS_PER_PIECE", per_piece)
        files = {name: b"".join(pieces) for name, pieces in sitemap.sitemap_files(paths, config, changed)}
        parts = [ET.fromstring(files[name]) for name in sorted(files, key=lambda name: (len(name), name))
                 if name != "sitemap.xml"] or [ET.fromstring(files["sitemap.xml"])]
        return [ET.tostring(url).decode() for part in parts for url in part]

    whole = locations(1000, 1000)
    assert len(whole) == len(paths) * len(languages) == len(set(whole))
    for per_file, per_piece in ((5, 2), (4, 3), (len(languages), 1), (1, 1)):
        assert locations(per_file, per_piece) == whole, (per_file, per_piece)


# -- structured data ---------------------------------------------------------------------------------

def structured(site: Path, path: str) -> dict[str, dict]:
    html = read(site, path)
    found = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert len(found) == 1, path
    return {item["@type"]: item for item in json.loads(found[0])}


def test_a_product_page_describes_the_product(sample_site):
    data = structured(sample_site, "en/products/kho-muc-my-thuyen/index.html")
    product = data["Product"]
    assert product["@context"] == "https://schema.org" and product["name"] == "My Thuyen dried squid"
    assert product["url"] == BASE + "en/products/kho-muc-my-thuyen/" and product["image"].startswith(BASE + "media/")
    assert product["brand"]["name"] == product["manufacturer"]["name"] == "My Thuyen Co., Ltd."
    assert product["manufacturer"]["url"] == BASE + "en/facilities/my-thuyen/"
    assert product["countryOfOrigin"]["name"] == "Vietnam" and product["description"]
    assert any("National level 2024" in award and "2512/QĐ-BCT" in award for award in product["award"])
    assert not any("2020" in award for award in product["award"])  # expired awards are not claimed
    assert product["hasCertification"][0]["name"].startswith("OCOP")
    trail = data["BreadcrumbList"]["itemListElement"]
    assert [item["position"] for item in trail] == [1, 2, 3] and trail[-1]["item"] == product["url"]


def test_a_facility_page_describes_the_business_and_its_offers(sample_site):
    business = structured(sample_site, "facilities/my-thuyen/index.html")["LocalBusiness"]
    assert business["name"] == "Công ty TNHH Mỹ Thuyền" and business["telephone"]
    assert business["address"]["@type"] == "PostalAddress" and business["address"]["addressCountry"] == "VN"
    assert {offer["itemOffered"]["url"] for offer in business["makesOffer"]} >= {BASE + "products/kho-muc-my-thuyen/"}


def test_a_fair_page_describes_the_event(sample_site):
    event = structured(sample_site, "fairs/hoi-cho-cnnt-ca-mau-2026/index.html")["Event"]
    assert event["startDate"] == "2026-12-10" and event["endDate"] == "2026-12-14"
    assert event["location"]["@type"] == "Place" and event["location"]["address"]["addressCountry"] == "VN"
    assert event["organizer"]["name"] and event["eventAttendanceMode"].endswith("OfflineEventAttendanceMode")


def test_structured_data_cannot_be_broken_out_of(make_site):
    hostile = '</script><script>alert(1)</script> & "Bánh"'
    product = f"---\nname: {json.dumps(hostile)}\nfacility: htx-mau\ngroup: food\nsummary: \"<!-- x\"\n---\n"
    run = make_site({"products/banh.md": product})
    assert run.code == 0, run.err
    html = read(run.site, "products/banh/index.html")
    data = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1)
    assert "<" not in data and ">" not in data
    assert json.loads(data)[0]["name"] == hostile and json.loads(data)[0]["description"] == "<!-- x"


# -- feeds --------------------------------------------------------------------------------------------

def feed(site: Path, path: str) -> ET.Element:
    return ET.fromstring(read(site, path))


def test_feeds_announce_recognised_products_and_upcoming_fairs(sample_site):
    vi, en = feed(sample_site, "feed.xml"), feed(sample_site, "en/feed.xml")
    for root in (vi, en):
        assert root.tag == f"{ATOM}feed" and root.find(f"{ATOM}id").text and root.find(f"{ATOM}updated").text
        entries = root.findall(f"{ATOM}entry")
        assert len(entries) > 10
        for entry in entries:
            assert entry.find(f"{ATOM}id").text and entry.find(f"{ATOM}title").text
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T00:00:00Z", entry.find(f"{ATOM}updated").text)
        days = [entry.find(f"{ATOM}updated").text for entry in entries]
        assert days == sorted(days, reverse=True)
        links = [entry.find(f"{ATOM}link").get("href") for entry in entries]
        assert any("fairs/hoi-cho-cnnt-ca-mau-2026/" in link for link in links)           # upcoming
        assert not any("hoi-cho-khuyen-cong-lam-dong-2025" in link for link in links)     # past
        assert not any("keo-dua-la-dua" in link for link in links)                        # withdrawn
    titles = [entry.find(f"{ATOM}title").text for entry in en.findall(f"{ATOM}entry")]
    assert "My Thuyen dried squid: National level 2024" in titles
    html = read(sample_site, "en/index.html")
    assert '<link rel="alternate" type="application/atom+xml" href="../en/feed.xml"' in html or 'href="feed.xml"' in html


def test_a_feed_writes_out_only_the_newest_entries(monkeypatch):
    """A catalogue's decisions name every product they recognise: at 50,000 products, each written out
    before the newest were kept held 60 MB. Only those the feed shows are written, and the feed is the
    one that writing them all and keeping the newest makes."""
    from cnnt.content.config import load_config
    from cnnt.content.load import LoadOptions, load_catalogue
    from cnnt.content.vocab import load_vocabularies
    from cnnt.site import feeds
    day = dt.date.fromisoformat(BUILD_DATE)
    config = load_config(ROOT / "site.yaml", day, ROOT)
    catalogue = load_catalogue(LoadOptions(ROOT / "content", ROOT, day, load_vocabularies()), 1)
    strings = {"decision_title": "Quyết định {number}", "fair_dates": "{start} – {end}", "feed_title": "Tin"}
    written: list[str] = []
    real_entry = feeds._entry
    monkeypatch.setattr(feeds, "_entry", lambda *args: written.append(args[0]) or real_entry(*args))
    whole = feeds.atom_feed(catalogue, config, "vi", strings, {})
    every = len(written)
    monkeypatch.setattr(feeds, "ENTRIES", 3)
    written.clear()
    newest = feeds.atom_feed(catalogue, config, "vi", strings, {})
    assert every > 10 and len(written) == 3
    shown = ET.fromstring(newest).findall(f"{ATOM}entry")
    assert [ET.tostring(entry) for entry in shown] == [ET.tostring(entry) for entry in ET.fromstring(whole).findall(
        f"{ATOM}entry")[:3]]


# -- link previews ------------------------------------------------------------------------------------

def test_an_entry_without_photos_gets_a_drawn_preview(make_site, tmp_path):
    product = "---\nname: Bánh tét lá cẩm\nfacility: htx-mau\ngroup: food\n---\n"
    run = make_site({"products/banh.md": product})
    html = read(run.site, "products/banh/index.html")
    address = re.search(r'<meta property="og:image" content="([^"]+)"', html).group(1)
    assert re.fullmatch(re.escape(BASE) + r"media/og-[0-9a-f]{20}\.jpg", address)
    image = Image.open(run.site / address.removeprefix(BASE))
    assert image.format == "JPEG" and image.size == (1200, 630)
    assert 'content="1200"' in html and 'content="630"' in html
    facility = read(run.site, "facilities/htx-mau/index.html")
    assert "media/og-" in facility  # a facility without photos too
    renamed = make_site({"products/banh.md": product.replace("lá cẩm", "nhân đậu")})
    assert renamed.code == 0
    again = re.search(r'og:image" content="([^"]+)"', read(renamed.site, "products/banh/index.html")).group(1)
    assert again != address and not (renamed.site / address.removeprefix(BASE)).exists()  # redrawn, old one gone


def test_link_previews_cut_short_in_the_cache_are_drawn_again_and_unused_ones_dropped(tmp_path):
    from cnnt.site import previews

    def card(name: str) -> previews.Card:
        return previews.Card(name, "", "HTX Mẫu · Cà Mau", "", "", "Danh mục", "#0b6e4f")

    cards = {"products/a/": card("Bánh tét"), "products/b/": card("Mắm tôm"), "products/c/": card("Khô mực")}
    folder = tmp_path / "previews"
    previews.prepare(cards, folder, jobs=1)
    files = {path: folder / f"og-{c.key}.jpg" for path, c in cards.items()}
    whole = {path: file.read_bytes() for path, file in files.items()}
    files["products/a/"].write_bytes(whole["products/a/"][:-100])  # cut short
    files["products/b/"].write_bytes(b"\xff\xd8\xff")  # no end marker, and too short to have one
    kept = files["products/c/"].stat()
    (folder / "og-0123456789abcdef0123.jpg").write_bytes(whole["products/c/"])  # no card uses it
    drawn = previews.prepare(cards, folder, jobs=1)
    assert {path: file.read_bytes() for path, file in files.items()} == whole
    assert (files["products/c/"].stat().st_ino, files["products/c/"].stat().st_mtime_ns) == (kept.st_ino, kept.st_mtime_ns)
    assert sorted(path.name for path in folder.iterdir()) == sorted([*(file.name for file in files.values()),
                                                                     previews.RECORD])
    assert drawn == {path: f"media/{file.name}" for path, file in files.items()}


def test_the_preview_reads_each_link_preview_once_until_it_changes(tmp_path, monkeypatch):
    """The preview keeps the images it drew or found whole (`checked`); a rename checks them by one
    stat each. One changed since (cut short by hand, so its size and time changed) is read, and drawn
    again."""
    from cnnt.site import previews

    cards = {f"products/{n}/": previews.Card(f"Sản phẩm {n}", "", "HTX Mẫu · Cà Mau", "", "", "Danh mục", "#0b6e4f")
             for n in range(4)}
    folder = tmp_path / "previews"
    checked: previews.CheckedImages = {}
    previews.prepare(cards, folder, jobs=1, checked=checked)  # drawn, and known whole
    files = {path: folder / f"og-{card.key}.jpg" for path, card in cards.items()}
    assert set(checked) == {str(file) for file in files.values()}

    opened: list[str] = []
    real_open = os.open
    monkeypatch.setattr(previews.os, "open", lambda path, *args: opened.append(path) or real_open(path, *args))
    previews.prepare(cards, folder, jobs=1, checked=checked)
    assert opened == [], "unchanged images are not read again"

    whole = files["products/2/"].read_bytes()
    files["products/2/"].write_bytes(whole[:-100])
    os.utime(files["products/2/"], ns=(1, 1))  # a different time, whatever the clock's tick
    previews.prepare(cards, folder, jobs=1, checked=checked)
    assert opened == [str(files["products/2/"])]
    assert files["products/2/"].read_bytes() == whole, "drawn again"
    opened.clear()
    previews.prepare(cards, folder, jobs=1, checked=checked)
    assert opened == [], "the image drawn again is known whole"
    files["products/0/"].unlink()
    previews.prepare(cards, folder, jobs=1, checked=checked)
    assert files["products/0/"].is_file() and opened == []


def test_link_previews_are_known_by_the_record_beside_them_whatever_the_caller_kept(tmp_path, monkeypatch):
    """A forced build keeps nothing from the last: the record beside the images (`previews.RECORD`)
    still says each one's size, time and CRC. An image that has them is not read; one written over in
    place (its JPEG markers kept, so only its bytes tell) is drawn again; a damaged record is ignored."""
    from cnnt.site import previews

    cards = {f"products/{n}/": previews.Card(f"Sản phẩm {n}", "", "HTX Mẫu · Cà Mau", "", "", "Danh mục", "#0b6e4f")
             for n in range(3)}
    folder = tmp_path / "previews"
    previews.prepare(cards, folder, jobs=1)
    files = [folder / f"og-{card.key}.jpg" for card in cards.values()]
    whole = files[1].read_bytes()
    opened: list[str] = []
    real_open = os.open
    monkeypatch.setattr(previews.os, "open", lambda path, *args: opened.append(path) or real_open(path, *args))
    previews.prepare(cards, folder, jobs=1)
    assert opened == [], "known by the record"

    with files[1].open("r+b") as stream:  # in place: the published site's hard link shows it too
        stream.seek(len(whole) // 2)
        stream.write(bytes(100))
    os.utime(files[1], ns=(1, 1))  # a different time, whatever the clock's tick
    previews.prepare(cards, folder, jobs=1)
    assert opened == [str(files[1])] and files[1].read_bytes() == whole, "read, found changed, drawn again"

    (folder / previews.RECORD).write_text("og-x.jpg 1 2 3\n# blake2b 0\n")
    opened.clear()
    previews.prepare(cards, folder, jobs=1)
    assert sorted(opened) == sorted(map(str, files)), "each read once, as nothing is known"
    assert [file.read_bytes() for file in files][1] == whole


def test_a_card_encoded_row_by_row_has_the_bytes_of_the_card_encoded_whole(monkeypatch):
    """A card's JPEG encodes only the rows of blocks its text inks and takes the others from the blank
    card (site/previews.py `jpeg`): the bytes are those of the whole card encoded at once, for every
    layout (long names over three lines, an English name, a badge, text Pillow draws itself, no text)."""
    import unicodedata

    from cnnt.site import previews

    cards = [previews.Card("Ấm chén Bát Tràng men rạn cổ truyền thống Việt Nam loại một đặc biệt cao cấp nhất",
                           "Bat Trang crackle-glaze tea set", "HTX Gốm Bát Tràng · Hà Nội", "Quốc gia 2025 · National",
                           "#8a1c1c", "Danh mục sản phẩm CNNT", "#0b5d3b"),
             previews.Card("Mắm", "", "HTX Mẫu · Cà Mau", "", "", "Danh mục", "#0b5d3b"),
             previews.Card(unicodedata.normalize("NFD", "Ỷ ỹ ữ ẵ ặ ậ ỗ ợ ự Ứ gạo"), "",
                           unicodedata.normalize("NFD", "Hợp tác xã Ấp Ứ · Cà Mau"),
                           "", "", "Danh mục", "#3d5a80"),
             previews.Card(" ", "", " ", "", "", "Danh mục", "#0b5d3b")]
    rows_encoded = []
    whole_encode, splice = previews.encoded, previews.jpeg

    def encoded(image):
        rows_encoded.append(image.height)
        return whole_encode(image)

    wholes = []  # each card's image encoded at once

    def jpeg(image, *args):
        wholes.append(whole_encode(image))
        return splice(image, *args)

    monkeypatch.setattr(previews, "encoded", encoded)
    monkeypatch.setattr(previews, "jpeg", jpeg)
    monkeypatch.setattr(previews, "_BLANK_CARDS", {})
    for card in cards:
        assert previews.draw(card) == wholes[-1], card.title
    assert previews.SIZE[1] in rows_encoded  # each blank card, once
    assert min(rows_encoded) < previews.SIZE[1] / 3  # a one-line name: most rows not encoded


@pytest.mark.parametrize("title, subtitle", [
    ("Bánh phồng tôm chiên sẵn loại đặc biệt xuất khẩu Tân Phát Lợi Cà Mau hảo hạng", "Ready-fried shrimp crackers"),
    ("Bánh phồng tôm chiên sẵn loại đặc biệt xuất khẩu Tân Phát Lợi Cà Mau hảo hạng", ""),
    ("Mắm", "Fish paste"), ("Mắm", "")])
def test_a_cards_badge_stands_apart_from_the_makers_line_and_above_the_site_name(title, subtitle):
    """Whatever the name's length and an English name, the level badge keeps clear of the maker's line
    above it (descenders included: "Lợi") and of the white band with the site's name below it."""
    import io

    from cnnt.site import previews

    card = previews.Card(title, subtitle, "Hợp tác xã Tân Phát Lợi · Cà Mau", "Cấp quốc gia 2025 · National", "#8a1c1c",
                         "Sản phẩm CNNT tiêu biểu", "#0b5d3b")
    image = Image.open(io.BytesIO(previews.draw(card))).convert("RGB")
    background = (0x0b, 0x5d, 0x3b)
    band = previews.SIZE[1] - 70  # where the white band starts

    def inked(row: int) -> bool:  # any pixel of the text column far from the background (JPEG noise aside)
        return any(max(abs(a - b) for a, b in zip(image.getpixel((x, row)), background)) > 60 for x in range(70, 700, 2))

    runs: list[list[int]] = []  # runs of inked rows: the text's lines, then the badge
    for row in range(0, band):
        if inked(row):
            if runs and runs[-1][1] == row - 1:
                runs[-1][1] = row
            else:
                runs.append([row, row])
    line, badge = runs[-2], runs[-1]
    assert badge[1] - badge[0] >= 60, runs  # the badge whole, not cut by the band
    assert badge[0] - line[1] >= 12, runs  # clear of the maker's line
    assert band - badge[1] >= 12, runs  # clear of the band


@pytest.mark.parametrize("text", ["Bánh tráng phơi sương Trảng Bàng", "AVATAR Tây Việt — “Đặc sản” 100%",
                                  "Ỷ ỹ ữ ẵ ặ ậ ỗ ợ ự Ứ", "漢字 ☕ emoji-less"])
@pytest.mark.parametrize("font, size", [("RobotoBold", 68), ("RobotoItalic", 38), ("Roboto", 38)])
def test_preview_text_is_drawn_as_pillow_draws_it(text, font, size):
    """The previews draw their text from glyphs kept between cards (site/previews.py `write`): the
    same ink in the same place as Pillow's own drawing of the line, kerning included, at most a
    pixel off for a glyph; decomposed text (NFD) is left to Pillow."""
    import unicodedata

    from PIL import ImageChops, ImageDraw, ImageFilter

    from cnnt.site import previews

    def drawn(how) -> Image.Image:
        image = Image.new("RGB", (1400, 160), "#0b5d3b")
        how(image)
        return image

    theirs = drawn(lambda image: ImageDraw.Draw(image).text((20, 30), text, font=previews._font(font, size),
                                                            fill="#ffffff"))
    mine = drawn(lambda image: previews.write(image, (20, 30), text, font, size, "#ffffff"))
    background = Image.new("RGB", theirs.size, "#0b5d3b")
    ink, my_ink = ImageChops.difference(theirs, background).getbbox(), ImageChops.difference(mine, background).getbbox()
    assert ink is not None and my_ink is not None
    assert all(abs(a - b) <= 1 for a, b in zip(ink, my_ink)), (ink, my_ink)  # kerned: the line ends where it does
    # every pixel of Pillow's drawing is within a pixel of one of ours as light or as dark
    theirs_grey, mine_grey = theirs.convert("L"), mine.convert("L")
    darkest, lightest = mine_grey.filter(ImageFilter.MinFilter(3)), mine_grey.filter(ImageFilter.MaxFilter(3))
    too_light = ImageChops.subtract(theirs_grey, lightest).point(lambda value: 255 if value > 48 else 0)
    too_dark = ImageChops.subtract(darkest, theirs_grey).point(lambda value: 255 if value > 48 else 0)
    inked = ImageChops.difference(theirs, background).convert("L").point(lambda value: 255 if value > 48 else 0)
    assert too_light.histogram()[255] + too_dark.histogram()[255] <= 0.01 * inked.histogram()[255]

    decomposed = unicodedata.normalize("NFD", text)
    assert decomposed == text or drawn(lambda image: previews.write(image, (20, 30), decomposed, font, size, "#ffffff")).tobytes() == \
        drawn(lambda image: ImageDraw.Draw(image).text((20, 30), decomposed, font=previews._font(font, size),
                                                       fill="#ffffff")).tobytes()


# -- printable catalogues -----------------------------------------------------------------------------

def printed(browser, server: str, path: str) -> pypdfium2.PdfDocument:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(server + path, wait_until="networkidle")
        page.emulate_media(media="print")
        # what keeps a product whole across page breaks, as the browser applies it when printing
        breaks = page.eval_on_selector_all(".print-product", "els => els.map(e => getComputedStyle(e).breakInside)")
        assert breaks and set(breaks) == {"avoid"}, breaks
        return pypdfium2.PdfDocument(page.pdf(prefer_css_page_size=True, print_background=True))
    finally:
        context.close()


@pytest.mark.parametrize("paper,size", [("", (595, 842)), ("a5/", (420, 595))])
def test_a_fair_catalogue_prints_with_every_code_readable_and_no_product_cut(browser, server, sample_site, paper, size):
    path = "print/fairs/hoi-cho-cnnt-ca-mau-2026/"
    html = read(sample_site, path + paper + "index.html")
    slugs = re.findall(r'<section class="print-product" id="p-([a-z0-9-]+)"', html)
    names = dict(re.findall(r'<h2 id="title-([a-z0-9-]+)"><span class="print-number">\d+\.</span> ([^<]+)</h2>', html))
    assert len(slugs) >= 10 and set(names) == set(slugs)
    pdf = printed(browser, server, path + paper)
    assert all(tuple(round(v) for v in sheet.get_size()) == size for sheet in pdf)
    assert len(pdf) >= 4  # a cover, the contents, then the products
    seen = {}
    for number, sheet in enumerate(pdf):
        text = " ".join(sheet.get_textpage().get_text_range().split())
        for url in decode_all(sheet.render(scale=300 / 72).to_pil()):
            slug = url.removeprefix(BASE + "products/").rstrip("/")
            assert slug not in seen, f"{slug} printed twice"
            seen[slug] = number
            assert " ".join(names[slug].split()) in text, f"{slug}: its name is not on the page of its code"
    assert sorted(seen) == sorted(slugs)  # every product's code, each on its product's page
    assert (sample_site / "products").is_dir() and all((sample_site / f"products/{slug}/index.html").is_file() for slug in seen)


def test_the_print_index_offers_each_selection(sample_site):
    index = read(sample_site, "en/print/index.html")
    for path in ("print/fairs/hoi-cho-cnnt-ca-mau-2026/", "print/awards/national/", "print/provinces/ca-mau/",
                 "print/groups/food/"):
        assert f'href="../../en/{path}"' in index or path in index
        assert (sample_site / "en" / path / "index.html").is_file() and (sample_site / "en" / path / "a5/index.html").is_file()
    fair = read(sample_site, "fairs/hoi-cho-cnnt-ca-mau-2026/index.html")
    assert "print/fairs/hoi-cho-cnnt-ca-mau-2026/" in fair


def test_a_selection_too_large_to_print_is_narrowed_first(make_site, monkeypatch):
    from cnnt.site import pages
    monkeypatch.setattr(pages, "MAX_PRINTED", 2)
    files = {f"products/p{n}.md": f"---\nname: Bánh {n}\nfacility: htx-mau\ngroup: food\n---\n" for n in range(3)}
    run = make_site(files)
    assert run.code == 0
    assert not (run.site / "print/groups/food").exists()
    assert "too many to print at once (at most 2)" in read(run.site, "en/print/index.html")


# -- fairs abroad and online --------------------------------------------------------------------------

FAIR = "---\nname: Hội chợ\nstart: 2026-12-20\nend: 2026-12-22\n{where}---\n"


@pytest.mark.parametrize("where,message", [
    ("venue: Nhà A\n", "where is it? a fair in Viet Nam gives `province`"),
    ("venue: Hall 3\ncountry: DE\n", "city: thiếu trường bắt buộc | required field is missing"),
    ("venue: Hall 3\ncountry: VN\ncity: Hà Nội\n", "gives its `province` instead of `country`"),
    ("venue: Hall 3\ncountry: Germany\ncity: Berlin\n", "did you mean `DE`?"),
    ("venue: A\nprovince: Cà Mau\nonline: https://hoicho.example.vn/\n", "give only one of `province`, `country`, `online`"),
    ("online: hoicho.vn\n", "only links starting with http://"),
    ("province: Cà Mau\n", "venue: thiếu trường bắt buộc | required field is missing"),
])
def test_where_a_fair_is_is_checked(make_site, where, message):
    run = make_site({"fairs/hoi-cho.md": FAIR.format(where=where)}, command="check")
    assert run.code == 1 and message in run.err, run.err


def test_fairs_abroad_and_online_are_shown_described_and_announced(make_site):
    abroad = FAIR.format(where="venue: Messe Berlin, Hall 3\ncountry: DE\ncity: Berlin\norganiser: Cục Xúc tiến thương mại\n")
    online = FAIR.format(where="online: https://hoicho.example.vn/2026\n").replace("Hội chợ", "Hội chợ trực tuyến")
    run = make_site({"fairs/berlin.md": abroad, "fairs/truc-tuyen.md": online})
    assert run.code == 0, run.err
    page = read(run.site, "en/fairs/berlin/index.html")
    assert "Berlin, Germany" in page and "Messe Berlin, Hall 3" in page and "Cục Xúc tiến thương mại" in page
    event = structured(run.site, "en/fairs/berlin/index.html")["Event"]
    assert event["location"]["address"] == {"@type": "PostalAddress", "addressCountry": "DE", "addressLocality": "Berlin"}
    assert event["organizer"]["name"] == "Cục Xúc tiến thương mại"
    virtual = structured(run.site, "fairs/truc-tuyen/index.html")["Event"]
    assert virtual["location"] == {"@type": "VirtualLocation", "url": "https://hoicho.example.vn/2026"}
    assert virtual["eventAttendanceMode"].endswith("OnlineEventAttendanceMode")
    assert 'href="https://hoicho.example.vn/2026"' in read(run.site, "fairs/truc-tuyen/index.html")
    listing = read(run.site, "en/fairs/index.html")
    assert "Berlin, Germany" in listing and "Online fair" in listing
    links = [entry.find(f"{ATOM}link").get("href") for entry in feed(run.site, "feed.xml").findall(f"{ATOM}entry")]
    assert BASE + "fairs/berlin/" in links and BASE + "fairs/truc-tuyen/" in links


# -- deploying ------------------------------------------------------------------------------------------

def test_a_deploy_build_refuses_the_placeholder_address(make_site, tmp_path):
    run = make_site({}, extra=("--deploy",))
    assert run.code == 1 and "site.yaml:9: base_url: " in run.err and "is a placeholder" in run.err
    assert not run.site.exists()
    config = tmp_path / "real.yaml"
    config.write_text(read(ROOT, "site.yaml").replace("catalogue.example.org", "sanpham.khuyencong.vn"), encoding="utf-8")
    run = make_site({}, extra=("--deploy", "--config", str(config)))
    assert run.code == 0, run.err
    assert "Sitemap: https://sanpham.khuyencong.vn/sitemap.xml" in read(run.site, "robots.txt")


def test_redirects_are_written_for_each_kind_of_host(sample_site):
    assert "/products/khan-bong-cotton/ /products/khan-bong/ 301" in read(sample_site, "_redirects")
    assert "Redirect 301 /products/khan-bong-cotton/ /products/khan-bong/" in read(sample_site, ".htaccess")
    assert ("location = /en/products/khan-bong-cotton/ { return 301 /en/products/khan-bong/; }"
            in read(sample_site, "nginx-redirects.conf"))
