"""cnnt: a static site generator for catalogues of Vietnamese rural-industry (CNNT) products.

Sub-packages, each allowed to import only the ones below it (tests/test_layout.py checks):

    serve        the preview's HTTP server, file watcher and browser reload (a module)
    engine       running a build: stages, what changed since the last one, the preview's updates
    contribute   tools for contributors and reviewers: new, remove, owners, review
    site         pages and assets from a checked catalogue: addresses, templates, search, photos…
    content      reading and checking content: kinds, model, fields, vocabularies, places, awards
    system       worker processes and safe file writing

`build.py` at the top of the repository is the command line.
"""
