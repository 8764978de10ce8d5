"""What every layer may use from the operating system: worker processes (`parallel`), writing
files so that nothing is ever half-written (`write`), and what git knows of the files it tracks
(`gitfiles`). Imports only `cnnt.content.errors`, for messages people can read.
"""
