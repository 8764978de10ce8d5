"""Reading and checking content: the content kinds (`kinds`), the model, front matter and fields,
vocabularies, places (the 2025 administrative units), awards and decisions, and `site.yaml`.

Everything a facility writes is read and judged here, with errors at path:line in Vietnamese and
English. May import: `cnnt.system`, and `cnnt.site.urls` (the registry of kinds names each kind's
page address; `urls` itself imports nothing). Never the rest of `site`, `engine` or `contribute`.
"""
