"""Start the desk: bind the port first (so the URL printed is the real one), then serve it
with uvicorn until Ctrl+C."""

from __future__ import annotations

import socket
import threading
import webbrowser
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from pipeline.desk.security import new_token

LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass
class Desk:
    url: str
    host: str
    port: int
    warning: str | None


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(64)
    return sock


def serve(root: Path, host: str = "127.0.0.1", port: int = 8765, open_browser: bool = True,
          say: Callable[[str], None] = print, warn: Callable[[str], None] = print, year: int | None = None) -> None:
    """Serve the desk for one workspace until interrupted. `say` gets the URL first."""
    import uvicorn

    from pipeline.desk.app import create_app

    try:
        sock = bind(host, port)
    except OSError as e:
        from pipeline.base.errors import WorkspaceError
        raise WorkspaceError(f"Không mở được cổng {port} trên {host} ({e.strerror or e}); cổng đang bận, chọn cổng "
                             f"khác bằng --port, ví dụ --port 8766 (hoặc --port 0 để tự chọn).") from e
    port = sock.getsockname()[1]
    token = new_token()
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else (f"[{host}]" if ":" in host else host)
    url = f"http://{shown}:{port}/?token={token}"
    say(url)
    if host not in LOOPBACK:
        warn(f"Cảnh báo: bàn làm việc đang mở cho các máy khác trong mạng ({host}:{port}). Ai có địa chỉ kèm mã "
             "truy cập ở trên đều xem và sửa được số liệu; chỉ dùng trong mạng tin cậy, tắt bằng Ctrl+C khi xong.")
    app = create_app(root, token, host=host, port=port, year=year)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    if open_browser:
        threading.Timer(0.8, webbrowser.open, args=(url,)).start()
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass  # uvicorn shut down cleanly, then passes Ctrl+C on: it is how the officer stops the desk
    finally:
        sock.close()


class Running:
    """A desk served from a background thread (for tests and the benchmark)."""

    def __init__(self, root: Path, year: int | None = None, **app_options):
        import uvicorn

        from pipeline.desk.app import create_app

        self.sock = bind("127.0.0.1", 0)
        self.port = self.sock.getsockname()[1]
        self.token = new_token()
        self.base = f"http://127.0.0.1:{self.port}"
        self.url = f"{self.base}/?token={self.token}"
        self.app = create_app(root, self.token, port=self.port, year=year, **app_options)
        self.server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> "Running":
        import time

        self.thread.start()
        while not self.server.started:
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()
