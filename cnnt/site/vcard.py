"""Contact cards: a vCard 3.0 (RFC 2426) per facility, which a phone opens in its contacts app.

Version 3.0 rather than 4.0 because it is the one every phone's contacts app imports.
"""
from __future__ import annotations

from ..content.model import Facility
from ..content.places import street_part

MAX_LINE_OCTETS = 75


def facility_vcard(facility: Facility, page_url: str) -> bytes:
    contact = facility.contact
    lines = [
        "BEGIN:VCARD",
        "VERSION:3.0",
        f"FN:{_escape(facility.name.vi)}",
        f"N:{_escape(facility.name.vi)};;;;",
        f"ORG:{_escape(facility.name.vi)}",
    ]
    if contact.phone:
        lines.append(f"TEL;TYPE=WORK,VOICE:{_escape(contact.phone)}")
    if contact.zalo and contact.zalo != contact.phone:
        lines.append(f"TEL;TYPE=CELL:{_escape(contact.zalo)}")
    if contact.email:
        lines.append(f"EMAIL;TYPE=INTERNET:{_escape(contact.email)}")
    if contact.website:
        lines.append(f"URL:{_escape(contact.website)}")
    # ADR: post office box; extended address; street; locality; region; postal code; country
    street = street_part(facility.address, facility.commune, facility.province.names) if facility.address else ""
    locality = facility.commune.name if facility.commune else ""
    lines.append(f"ADR;TYPE=WORK:;;{_escape(street)};{_escape(locality)};{_escape(facility.province.term.vi)};;Việt Nam")
    if facility.location:
        lines.append(f"GEO:{facility.location.lat};{facility.location.lon}")
    lines.append(f"NOTE:{_escape(page_url)}")
    lines.append("END:VCARD")
    return ("\r\n".join(_fold(line) for line in lines) + "\r\n").encode("utf-8")


def _escape(text: str) -> str:
    """Backslash, comma, semicolon and line breaks are special in vCard values."""
    text = text.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;")
    return text.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space; never inside a character."""
    parts: list[str] = []
    current = ""
    for ch in line:
        limit = MAX_LINE_OCTETS if not parts else MAX_LINE_OCTETS - 1
        if len((current + ch).encode("utf-8")) > limit:
            parts.append(current)
            current = ""
        current += ch
    parts.append(current)
    return "\r\n ".join(parts)
