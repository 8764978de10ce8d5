"""Read built pages as elements and attributes (not strings), for link, asset and safety checks."""
from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

ASSET_RELS = {"stylesheet", "icon", "preload", "modulepreload", "manifest"}


@dataclass
class Page(HTMLParser):
    elements: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        HTMLParser.__init__(self)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, {name: value or "" for name, value in attrs}))

    def all(self, tag: str) -> list[dict[str, str]]:
        return [attrs for name, attrs in self.elements if name == tag]

    @property
    def lang(self) -> str | None:
        return self.all("html")[0].get("lang")

    @property
    def ids(self) -> set[str]:
        return {attrs["id"] for _, attrs in self.elements if "id" in attrs}

    @property
    def hreflang(self) -> dict[str, str]:
        return {a["hreflang"]: a["href"] for a in self.all("link") if a.get("rel") == "alternate" and "hreflang" in a}

    def links(self) -> list[str]:
        """Everything a visitor can follow from the page."""
        return [a["href"] for a in self.all("a") if "href" in a]

    def assets(self) -> list[str]:
        """Everything the browser fetches on its own to show the page."""
        urls = [a["src"] for tag in ("img", "script", "iframe", "source", "video", "audio") for a in self.all(tag) if "src" in a]
        urls += [a["href"] for a in self.all("link") if set(a.get("rel", "").split()) & ASSET_RELS]
        return urls


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page
