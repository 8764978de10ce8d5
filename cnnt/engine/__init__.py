"""Running a build: `pipeline` lays out the stages (load → pages → render → write), `extras` writes
what a build makes besides its pages, `fingerprint` says whether its inputs changed at all,
`incremental` decides what changed since the last build and keeps its cache, `preview` keeps the
last good build in memory and brings it up to date after an edit; `model` holds what they hand one
another (options, plan, caches, report). `build.py` and `serve` both run it.

May import: `cnnt.content`, `cnnt.site`, `cnnt.system`.
"""
