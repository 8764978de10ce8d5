"""The editor's own files (Sveltia CMS and the few libraries it imports), served by the site itself:
no page fetches anything from another host.

The versions are pinned once, in `package-lock.json`. The files come from `node_modules/` when
`npm ci` has installed them; otherwise from the package registry's tarball of that exact version,
checked against the lock file's integrity digest and kept in `.cache/npm/`, so building the sample
needs no npm. Sveltia's npm build imports its libraries by bare names (`immutable`), which a bundler
would resolve; the page's import map does it instead (`imports`).
"""
from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import shutil
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ..content.errors import BuildFailed, ContentError

ROOT = Path(__file__).resolve().parents[2]
LOCK_FILE = ROOT / "package-lock.json"
REGISTRY = "https://registry.npmjs.org/"
EDITOR = "@sveltia/cms"
UI_LOCALE = "vi"  # Sveltia's Vietnamese interface (English is built in)


@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    integrity: str  # `sha512-<base64>`, as npm writes it

    @property
    def tarball(self) -> str:
        return f"{REGISTRY}{self.name}/-/{self.name.split('/')[-1]}-{self.version}.tgz"


# package → (file in the package → where it is served under admin/), and the import map's entries
FILES: dict[str, dict[str, str]] = {
    EDITOR: {"npm/index.js": "sveltia/npm/index.js", "npm/chunks/": "sveltia/npm/chunks/",
             "npm/assets/": "sveltia/npm/assets/", f"locales/{UI_LOCALE}.json": f"sveltia/locales/{UI_LOCALE}.js"},
    "immutable": {"dist/immutable.es.js": "vendor/immutable.js"},
    "exifr": {"dist/lite.esm.mjs": "vendor/exifr.js"},
    "turndown": {"lib/turndown.browser.es.js": "vendor/turndown.js"},
    "svgo": {"dist/svgo.browser.js": "vendor/svgo.js"},
    "yaml": {"browser/dist/": "vendor/yaml/"},
}
IMPORTS = {
    "immutable": "./vendor/immutable.js",
    "exifr/dist/lite.esm.mjs": "./vendor/exifr.js",
    "turndown/lib/turndown.browser.es.js": "./vendor/turndown.js",
    "svgo/browser": "./vendor/svgo.js",
    "yaml": "./vendor/yaml/index.js",
    # a JSON file imported as a module needs a bundler; the same strings as a JavaScript module
    f"./sveltia/locales/{UI_LOCALE}.json": f"./sveltia/locales/{UI_LOCALE}.js",
}


def pins(lock_file: Path = LOCK_FILE) -> dict[str, Pin]:
    lock = json.loads(lock_file.read_text(encoding="utf-8"))
    found = {}
    for name in FILES:
        entry = lock["packages"].get(f"node_modules/{name}")
        if entry is None:
            raise BuildFailed([ContentError(str(lock_file), None, None, f"thiếu gói `{name}`",
                                            f"`{name}` is not pinned")])
        found[name] = Pin(name, entry["version"], entry["integrity"])
    return found


def pins_key(lock_file: Path = LOCK_FILE) -> str:
    """What the editor's files depend on, for the engine's keys: the pinned versions."""
    return ",".join(f"{pin.name}@{pin.version}" for pin in pins(lock_file).values())


def package_dir(pin: Pin, cache: Path) -> Path:
    """The package's folder: node_modules' if it holds the pinned version, else the registry's tarball
    unpacked into `cache` (downloaded once, checked against the pinned digest)."""
    installed = ROOT / "node_modules" / pin.name
    manifest = installed / "package.json"
    if manifest.is_file() and json.loads(manifest.read_text(encoding="utf-8")).get("version") == pin.version:
        return installed
    unpacked = cache / f"{pin.name.replace('/', '+')}@{pin.version}"
    if not (unpacked / "package.json").is_file():
        _unpack(_download(pin), unpacked)
    return unpacked


def _download(pin: Pin) -> bytes:
    with urllib.request.urlopen(pin.tarball, timeout=60) as response:  # noqa: S310 (a fixed https address)
        data = response.read()
    algorithm, _, expected = pin.integrity.partition("-")
    if base64.b64encode(hashlib.new(algorithm, data).digest()).decode() != expected:
        raise OSError(f"{pin.tarball}: the digest does not match package-lock.json")
    return data


def _unpack(data: bytes, target: Path) -> None:
    """The tarball's `package/` folder into `target`, regular files only, none outside it."""
    import tarfile  # (here: only a build without the packages unpacks them)
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        archive.extractall(partial, members=[m for m in archive.getmembers() if m.isfile()], filter="data")
    (partial / "package").rename(target)
    shutil.rmtree(partial)


# Fonts a stylesheet inside the editor asks a CDN for, though the package ships them in npm/assets/
CDN_FONT = re.compile(rb"https://cdn\.jsdelivr\.net/fontsource/fonts/([a-z0-9-]+)(?::vf)?@[0-9.]+/([a-z0-9-]+)\.woff2")


def local_fonts(script: bytes, assets: list[str]) -> bytes:
    """The CDN's font addresses in `script` → the same fonts served from the editor's own folder."""
    def local(match: re.Match[bytes]) -> bytes:
        stem = f"{match[1].decode()}-{match[2].decode()}-"
        found = [name for name in assets if name.startswith(stem) and name.endswith(".woff2")]
        if len(found) != 1:
            raise OSError(f"{match[0].decode()}: no font of that name in {EDITOR}'s npm/assets/")
        return f"sveltia/npm/assets/{found[0]}".encode()
    return CDN_FONT.sub(local, script)


def editor_assets(cache: Path) -> dict[str, bytes]:
    """`admin/…` → content of every vendored file (source maps left out)."""
    files: dict[str, bytes] = {}
    for name, pin in pins().items():
        folder = package_dir(pin, cache)
        for source, served in FILES[name].items():
            if source.endswith("/"):
                for path in sorted((folder / source).rglob("*")):
                    if path.is_file() and path.suffix != ".map":
                        files[f"admin/{served}{path.relative_to(folder / source).as_posix()}"] = path.read_bytes()
            elif source.endswith(".json"):
                files[f"admin/{served}"] = b"export default " + (folder / source).read_bytes().strip() + b";\n"
            else:
                files[f"admin/{served}"] = (folder / source).read_bytes()
    assets = [path.rsplit("/", 1)[1] for path in files if path.startswith("admin/sveltia/npm/assets/")]
    files["admin/sveltia/npm/index.js"] = local_fonts(files["admin/sveltia/npm/index.js"], assets)
    return files
