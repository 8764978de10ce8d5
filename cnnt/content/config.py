"""Site settings: one YAML file (`site.yaml`), validated like content."""
from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .awards import DECLARED_POLICIES, DEFAULT_DECLARED_POLICY
from .errors import BuildFailed, ErrorList, display_path, hint, suggest
from .fields import Fields
from .frontmatter import parse_yaml
from .model import Localized

SUPPORTED_LANGUAGES = ("vi", "en")
CONFIG_FIELDS = ("title", "description", "base_url", "languages", "centre", "per_page", "maintainers",
                 "declared_awards", "editor")
EDITOR_FIELDS = ("repo", "branch", "auth_url")
_REPO = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}/[A-Za-z0-9._-]{1,100}$")
CENTRE_FIELDS = ("name", "address", "phone", "email", "website")


@dataclass(frozen=True)
class Centre:
    """The khuyến công centre that publishes the catalogue."""

    name: Localized
    address: str | None = None
    phone: str | None = None
    email: str | None = None
    website: str | None = None


@dataclass(frozen=True)
class Editor:
    """Where the form editor at /admin/ saves: a GitHub repository and branch, and the address of the
    OAuth client that signs people in (without one, they sign in with a personal access token)."""
    repo: str = "owner/catalogue"
    branch: str = "main"
    auth_url: str | None = None


@dataclass(frozen=True)
class SiteConfig:
    title: Localized
    description: Localized
    base_url: str
    languages: tuple[str, ...]
    centre: Centre
    per_page: int = 48
    maintainers: tuple[str, ...] = ()  # the centre's GitHub users: they may change any entry
    declared_awards: str = DEFAULT_DECLARED_POLICY  # awards citing no registered decision: show, count, refuse
    preview: bool = False  # a local preview (`serve`): every page says `noindex`, robots.txt disallows all
    editor: Editor = Editor()


def load_config(path: Path, build_date: dt.date, display_root: Path, preview_url: str | None = None,
                deploy: bool = False) -> SiteConfig:
    """Read and check `site.yaml`; raise BuildFailed listing every problem.

    `preview_url` stands in for a missing `base_url` in a local preview; a real build needs the
    real address, because QR codes and links printed from it must lead to the published site."""
    errors = ErrorList(display_path(path, display_root))
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        errors.add(None, None, f"không đọc được tệp cấu hình: {exc}", f"cannot read the configuration file: {exc}")
        raise BuildFailed(list(errors)) from exc
    root = parse_yaml(source, first_line=1, errors=errors)
    if root is not None and not isinstance(root.data, dict):
        errors.add(1, None, "tệp cấu hình phải là các dòng `trường: giá trị`",
                   "the configuration must be a mapping of `field: value` lines")
    if errors or root is None or not isinstance(root.data, dict):
        raise BuildFailed(list(errors))
    fields = Fields(root.data, 1, errors, build_date, CONFIG_FIELDS)
    if deploy:
        _refuse_placeholder(fields)
    config = SiteConfig(
        title=_localized(fields, "title", required=True),
        description=_localized(fields, "description"),
        base_url=_base_url(fields, preview_url),
        languages=_languages(fields),
        centre=_centre(fields),
        per_page=fields.integer("per_page", 6, 500) or 48,
        maintainers=fields.github_users("maintainers"),
        declared_awards=_declared_awards(fields),
        preview=preview_url is not None,
        editor=_editor(fields),
    )
    if errors:
        raise BuildFailed(list(errors))
    return config


def _localized(fields: Fields, name: str, required: bool = False) -> Localized:
    texts = fields.mapping_field(name, SUPPORTED_LANGUAGES, required)
    if texts is None:
        return Localized("")
    return Localized(texts.text("vi", required=True, max_len=300) or "", texts.text("en", max_len=300))


def _editor(fields: Fields) -> Editor:
    editor = fields.mapping_field("editor", EDITOR_FIELDS)
    if editor is None:
        return Editor()
    repo = editor.text("repo", required=True)
    if repo is not None and not _REPO.match(repo):
        editor.error("repo", editor.mapping["repo"], "phải là `chủ/kho` trên GitHub, ví dụ `khuyencong-camau/danh-muc`",
                     "must be a GitHub `owner/repository`, for example `khuyencong-camau/catalogue`")
        repo = None
    return Editor(repo or Editor.repo, editor.text("branch", max_len=200) or Editor.branch, editor.url("auth_url"))


def _base_url(fields: Fields, preview_url: str | None) -> str:
    url = fields.url("base_url")
    if url is None and "base_url" not in fields.mapping:
        if preview_url:
            return preview_url
        fields.error("base_url", None, "thiếu địa chỉ công khai của trang (`base_url: https://…/`): mã QR và liên kết cần nó",
                     "the site's public address is missing (`base_url: https://…/`): QR codes and links need it")
        return ""
    url = url or ""
    return url if url.endswith("/") else url + "/"


# Addresses reserved for examples and tests (RFC 2606, RFC 6761): never a published site's.
PLACEHOLDER_HOSTS = ("example.com", "example.net", "example.org", "localhost")
PLACEHOLDER_SUFFIXES = (".example", ".test", ".invalid", ".localhost", ".example.com", ".example.net", ".example.org")


def _refuse_placeholder(fields: Fields) -> None:
    """A build for publishing (`--deploy`) must carry the site's real address: QR codes printed from a
    placeholder lead nowhere."""
    value = fields.mapping.get("base_url")
    host = (urlsplit(value.raw or "").hostname or "") if value is not None and value.is_scalar else ""
    if host in PLACEHOLDER_HOSTS or host.endswith(PLACEHOLDER_SUFFIXES) or host.startswith("127."):
        fields.error("base_url", value,
                     f"`{host}` là địa chỉ mẫu: ghi địa chỉ công khai thật của trang trước khi xuất bản (GitHub Pages: "
                     f"`https://<tài-khoản>.github.io/<kho>/`); mã QR in ra dẫn tới địa chỉ này",
                     f"`{host}` is a placeholder: set the site's real public address before publishing (GitHub Pages: "
                     f"`https://<account>.github.io/<repository>/`); printed QR codes lead to it")


def _declared_awards(fields: Fields) -> str:
    policy = fields.text("declared_awards")
    if policy is None:
        return DEFAULT_DECLARED_POLICY
    if policy not in DECLARED_POLICIES:
        vi, en = hint(f"`{policy}` phải là `show` (hiện, không tính vào cấp), `count` (tính vào cấp) hoặc `refuse` (báo lỗi)",
                      f"`{policy}` must be `show` (shown, not counted), `count` (counted) or `refuse` (an error)",
                      suggest(policy, DECLARED_POLICIES))
        fields.error("declared_awards", fields.mapping["declared_awards"], vi, en)
        return DEFAULT_DECLARED_POLICY
    return policy


def _languages(fields: Fields) -> tuple[str, ...]:
    languages = fields.text_list("languages") or SUPPORTED_LANGUAGES
    unknown = [lang for lang in languages if lang not in SUPPORTED_LANGUAGES]
    if unknown or languages[0] != "vi":
        fields.error("languages", fields.mapping.get("languages"),
                     "ngôn ngữ hỗ trợ: `vi` (đứng đầu) và `en`", "supported languages: `vi` (first) and `en`")
        return SUPPORTED_LANGUAGES
    return tuple(languages)


def _centre(fields: Fields) -> Centre:
    centre = fields.mapping_field("centre", CENTRE_FIELDS, required=True)
    if centre is None:
        return Centre(Localized(""))
    return Centre(_localized(centre, "name", required=True), centre.text("address", max_len=300),
                  centre.phone("phone"), centre.email("email"), centre.url("website"))


def build_date_from_environment(today: dt.date | None = None) -> dt.date:
    """The day awards are judged against: SOURCE_DATE_EPOCH if set (reproducible builds), else today."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        try:
            return dt.datetime.fromtimestamp(int(epoch), tz=dt.timezone.utc).date()
        except (ValueError, OverflowError, OSError):
            raise SystemExit(f"SOURCE_DATE_EPOCH={epoch!r} không phải số giây hợp lệ | "
                             "is not a valid number of seconds") from None
    return today or dt.date.today()
