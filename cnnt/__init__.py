"""cnnt: a static site generator for catalogues of Vietnamese rural-industry (CNNT) products.

Pipeline, one module per stage: config → load (frontmatter, fields, vocab, text) → model
→ pages → render (markdown) → write. `build.py` at the top of the repository is the command line.
"""
