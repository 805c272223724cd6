"""Worker processes: collect reads files in them, and feedback copies are made in them."""

from __future__ import annotations

import os
import threading
import time


def exit_with_parent() -> None:
    """Run in a worker process: when the run that started it is killed, the worker leaves too,
    instead of waiting forever for work that will never come."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.2)
        os._exit(0)

    threading.Thread(target=watch, name="treem-parent-watch", daemon=True).start()
