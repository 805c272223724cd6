"""Worker processes: collect reads files in them, and feedback copies are made in them."""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import time

# Windows starts worker processes by spawn (a fresh interpreter that imports the module again);
# Linux forks. TREEM_START_METHOD=spawn makes a Linux run behave as Windows does, so the tests
# can run the way the officer's PC runs the tool.
START_METHOD_ENV = "TREEM_START_METHOD"


def start_method() -> str:
    """How worker processes start: TREEM_START_METHOD if set to one this platform offers,
    else the platform's own default (spawn on Windows and macOS, fork on Linux)."""
    wanted = os.environ.get(START_METHOD_ENV, "").strip().lower()
    if wanted and wanted in multiprocessing.get_all_start_methods():
        return wanted
    return "spawn" if sys.platform in ("win32", "darwin") else multiprocessing.get_start_method()


def mp_context():
    """The multiprocessing context every pool of worker processes is made with."""
    return multiprocessing.get_context(start_method())


def exit_with_parent() -> None:
    """Run in a worker process: when the run that started it is killed, the worker leaves too,
    instead of waiting forever for work that will never come."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.2)
        os._exit(0)

    threading.Thread(target=watch, name="treem-parent-watch", daemon=True).start()
