"""Building pages and assets from a checked catalogue: the pages and their addresses (`urls`), the
templates' renderer, search data, photo derivatives and link previews, QR codes, vCards, JSON-LD,
feeds, sitemaps, redirects, open data, statistics and the JSON Schemas.

May import: `cnnt.content`, `cnnt.system`. Never `engine`, `contribute` or `serve`: what to build
when, and where to write it, is the engine's.
"""
