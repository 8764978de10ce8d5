"""Awards against the centre's decisions of recognition.

A facility writes its awards in its product file; only a decision the centre registered
(`content/decisions/`) makes one verified. `resolve` decides, for each product:

- an award that cites a registered decision must agree with it (level, year of the decision's
  date, region, and the product is in the decision's list), else it is an error at its line;
- an award that cites none is *declared by the facility*: shown as such, and counted toward the
  product's current level only when site.yaml says `declared_awards: count` (`refuse` makes it
  an error; the default, `show`, shows it without counting it);
- a registered decision that lists the product gives it that award even if the product file does
  not write it: the centre registers a round once, not once per product file.

Resolved awards are plain values (equal when equal), so a preview that resolves again after an
edit sees which pages really changed.
"""
from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import dataclass, replace

from .errors import ContentError
from .model import Award, Decision, Product, best_award
from .text import fold

DECLARED_POLICIES = ("show", "count", "refuse")
DEFAULT_DECLARED_POLICY = "show"


@functools.lru_cache(maxsize=1 << 16)  # (each build matches the same few thousand numbers again)
def decision_key(number: str) -> str:
    """How decision numbers are matched: `1234/QĐ-UBND`, `1234/qd-ubnd` and `1234 / QĐ-UBND` are one."""
    return "".join(fold(number).split())


@dataclass(frozen=True)
class DecisionIndex:
    """The registered decisions by number, and the decisions that list each product."""

    by_number: dict[str, Decision]
    listing: dict[str, tuple[Decision, ...]]

    @classmethod
    def of(cls, decisions: Iterable[Decision]) -> DecisionIndex:
        by_number: dict[str, Decision] = {}
        listing: dict[str, list[Decision]] = {}
        for decision in sorted(decisions, key=lambda d: d.slug):
            by_number.setdefault(decision_key(decision.number), decision)
            for slug in decision.products:
                listing.setdefault(slug, []).append(decision)
        return cls(by_number, {slug: tuple(found) for slug, found in listing.items()})


def check_numbers(decisions: Iterable[Decision]) -> list[ContentError]:
    """Each decision number is registered once."""
    errors = []
    seen: dict[str, Decision] = {}
    for decision in sorted(decisions, key=lambda d: d.source):
        first = seen.setdefault(decision_key(decision.number), decision)
        if first is not decision:
            errors.append(ContentError(decision.source, decision.number_line, "number",
                                       f"quyết định số `{decision.number}` đã được đăng ký ở {first.source}",
                                       f"decision `{decision.number}` is already registered in {first.source}"))
    return errors


def resolve(product: Product, index: DecisionIndex, policy: str) -> tuple[tuple[Award, ...], list[ContentError]]:
    """The product's awards as pages show them, and an error for each award that contradicts the
    decision it cites (or, under `refuse`, cites none)."""
    errors: list[ContentError] = []
    resolved: list[Award] = []
    cited: set[str] = set()
    for award in product.awards:
        decision = _cited(award, product, index)
        if decision is None:
            if policy == "refuse":
                errors.append(_error(product, award, *REFUSED))
            resolved.append(replace(award, registered=None, counts=policy == "count"))
            continue
        problems = disagreements(product, award, decision)
        errors.extend(_error(product, award, vi, en) for vi, en in problems)
        cited.add(decision.slug)
        resolved.append(replace(award, decision=decision.number, issuer=award.issuer or decision.issuer,
                                region=award.region or decision.region, registered=decision.slug, counts=True))
    for decision in index.listing.get(product.slug, ()):
        if decision.slug not in cited:
            resolved.append(Award(decision.level, decision.year, decision.number, decision.issuer, decision.region,
                                  registered=decision.slug))
    resolved.sort(key=lambda a: (-a.year, -a.level.rank, a.declared))
    return tuple(resolved), errors


REFUSED = ("giải thưởng này không dẫn quyết định nào đã đăng ký trong content/decisions/ (site.yaml: "
           "`declared_awards: refuse`); ghi đúng số quyết định, hoặc nhờ trung tâm đăng ký quyết định",
           "this award cites no decision registered in content/decisions/ (site.yaml: `declared_awards: refuse`); "
           "write the decision's number, or ask the centre to register the decision")


def _cited(award: Award, product: Product, index: DecisionIndex) -> Decision | None:
    """The registered decision an award stands for: the one whose number it writes, or, when it writes
    none, a decision that lists the product at the same level and year (the facility left out the
    number; the centre's register has it)."""
    if award.decision:
        return index.by_number.get(decision_key(award.decision))
    return next((decision for decision in index.listing.get(product.slug, ())
                 if decision.level == award.level and decision.year == award.year), None)


def disagreements(product: Product, award: Award, decision: Decision) -> list[tuple[str, str]]:
    """What an award says that its registered decision does not."""
    where = f"`{decision.number}` ({decision.source})"
    problems = []
    if award.level != decision.level:
        problems.append((f"quyết định {where} công nhận {decision.level.vi.lower()}, không phải {award.level.vi.lower()}",
                         f"decision {where} is at {decision.level.en.lower()}, not {award.level.en.lower()}"))
    if award.year != decision.year:
        problems.append((f"quyết định {where} ký ngày {decision.date:%d/%m/%Y}: năm công nhận là {decision.year}, "
                         f"không phải {award.year}",
                         f"decision {where} was signed on {decision.date:%Y-%m-%d}: the award's year is "
                         f"{decision.year}, not {award.year}"))
    if award.region is not None and decision.region is not None and award.region != decision.region:
        problems.append((f"quyết định {where} thuộc khu vực `{decision.region.code}`, không phải `{award.region.code}`",
                         f"decision {where} is for the `{decision.region.code}` region, not `{award.region.code}`"))
    if product.slug not in decision.products:
        problems.append((f"quyết định {where} không có sản phẩm `{product.slug}` trong danh sách `products`; "
                         f"kiểm tra số quyết định, hoặc nhờ trung tâm bổ sung",
                         f"decision {where} does not list product `{product.slug}` in `products`; "
                         f"check the number, or ask the centre to add it"))
    return problems


def _error(product: Product, award: Award, vi: str, en: str) -> ContentError:
    return ContentError(product.source, award.line, "awards", vi, en)


def current_awards(awards: dict[str, tuple[Award, ...]], on: dt.date) -> dict[str, Award | None]:
    """Each product's current level: its highest valid award that counts."""
    return {slug: best_award(resolved, on) for slug, resolved in awards.items()}
