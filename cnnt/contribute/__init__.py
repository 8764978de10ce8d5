"""Tools for contributors and reviewers: starting an entry (`scaffold`), taking one out (`removal`),
who may change what in a pull request (`ownership`), and review annotations and CODEOWNERS (`review`).

May import: `cnnt.content`, `cnnt.site` (addresses, the record of published ones), `cnnt.system`.
"""
