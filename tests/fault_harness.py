"""Run `build.py` and kill it (SIGKILL, as a CI runner or the kernel's OOM killer would) at a chosen
moment: `python fault_harness.py TARGET NTH WHEN -- BUILD ARGS…` kills the process at the NTH call of
TARGET (`module.function`), before the call or just after it returns.

The hooks live here, in the tests, not in the build: the harness wraps the named function in the
already-imported module, then runs the command line as usual.
"""
from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    target, nth, when = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    args = sys.argv[sys.argv.index("--") + 1:]
    import importlib

    import build
    module_name, _, function_name = target.rpartition(".")
    module = os if module_name == "os" else importlib.import_module(module_name)
    original = getattr(module, function_name)
    calls = 0

    def wrapped(*positional, **named):
        nonlocal calls
        calls += 1
        if calls == nth and when == "before":
            os.kill(os.getpid(), signal.SIGKILL)
        result = original(*positional, **named)
        if calls == nth and when == "after":
            os.kill(os.getpid(), signal.SIGKILL)
        return result

    setattr(module, function_name, wrapped)
    return build.main(args)


if __name__ == "__main__":
    sys.exit(main())
