"""What every layer may use from the operating system: worker processes (`parallel`) and writing
files so that nothing is ever half-written (`write`). Imports only `cnnt.content.errors`, for
messages people can read.
"""
