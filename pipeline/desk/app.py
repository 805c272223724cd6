"""The officer's desk: one page per step of the year, drawn on the server (Jinja2, autoescaped),
over the same stage functions as the commands. This module holds the server's state (`Desk`)
and the routes; pages.py holds the pages and actions, views.py what they show. The work is the
library's."""

from __future__ import annotations

import os
import threading
import time
from datetime import date
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from pipeline.config import layout
from pipeline.store.status import Status
from pipeline.desk import messages
from pipeline.desk.jobs import JobRunner, lock_holder
from pipeline.desk.pages import Pages
from pipeline.desk.security import Downloads, Guard, allowed_hosts
from pipeline.desk.views import last_actions, is_merged, received_files, units_table, merge_view
from pipeline.config.workspace import Workspace

HERE = Path(__file__).parent
MAX_UPLOAD = 64 * 1024 * 1024      # one request (several files at once)
MAX_FILE = 25 * 1024 * 1024        # one file; a filled form is ~100 KB


class Desk:
    """What the server keeps between requests: the workspace (re-read when the officer or a
    command edits its files), the year chosen, the jobs and the download ids."""

    def __init__(self, root: Path, year: int | None = None):
        self.root = Path(root).resolve()
        self.year = year or default_year(self.root)
        self.jobs = JobRunner(self.root, after=self.warm)
        self.downloads = Downloads(os.urandom(16).hex())
        self._ws: Workspace | None = None
        self._stamp = None
        self._cache: dict = {}
        self._watcher = threading.Thread(target=self._watch, name="treem-ui-watch", daemon=True)
        self._watcher.start()

    def _watch(self, every: float = 2.0) -> None:
        """A command run outside the desk (collect, merge…) changes the store: read the pages'
        data again in the background so the officer's next page is drawn from memory."""
        seen = None
        while True:
            time.sleep(every)
            try:
                stamp = self.data_stamp()
                if stamp != seen and self.jobs.current() is None and lock_holder(self.root) is None:
                    self.warm()
                    seen = self.data_stamp()
            except Exception:  # noqa: BLE001 — a page will read it itself and say what is wrong
                seen = None

    def data_stamp(self) -> tuple:
        """Changes whenever the store, the files of the year or the workspace's YAML change."""
        db, files = self.ws.db_path, self.ws.layout(self.year)
        return (self.year, _mtime(db), _mtime(db.with_name(db.name + "-wal")), self._stamp,
                _mtime(files.inbox), _mtime(files.output), _mtime(files.feedback))

    def cached(self, name: str, compute):
        """A read of the store kept until the data changes: with 10,000 units, reading every
        unit's status takes longer than a page may."""
        self.ws  # refresh the YAML stamp first
        key = (name, self.data_stamp())
        hit = self._cache.get(name)
        if hit is not None and hit[0] == key:
            return hit[1]
        value = compute()
        self._cache[name] = (key, value)
        return value

    def warm(self) -> None:
        """Read again what the pages show, right after a job changed it (in the job's thread),
        so that the next page the officer opens is drawn from memory."""
        from pipeline.store.submissions import status
        from pipeline.merge.merger import load

        ws, year = self.ws, self.year
        self.cached("status", lambda: status(ws, year))
        self.cached("audit", lambda: last_actions(ws, year))
        self.cached("unit_rows", lambda: units_table(ws, year))
        self.cached("received", lambda: received_files(ws, year))
        self.cached("merged", lambda: is_merged(ws, year))
        self.cached("merge_view", lambda: merge_view(load(ws, year), ws.catalogue))

    @property
    def ws(self) -> Workspace:
        stamp = tuple(_mtime(self.root / n) for n in (layout.SETTINGS, layout.ROSTER, layout.CATALOGUE))
        if self._ws is None or stamp != self._stamp:
            self._ws, self._stamp = Workspace(self.root), stamp
        return self._ws

    def link(self, path: Path | str | None) -> str | None:
        if not path or not Path(path).is_file():
            return None
        return f"/tai/{self.downloads.id_for(Path(path))}"

    def download_roots(self) -> list[Path]:
        return [self.root / layout.OUTPUT, self.root / layout.INPUT]


def _mtime(p: Path):
    try:
        return p.stat().st_mtime_ns
    except OSError:
        return None


def default_year(root: Path) -> int:
    """The latest year the workspace has files for; this year for a new one."""
    years = []
    for d in (layout.INPUT, layout.OUTPUT):
        try:
            years += [int(p.name) for p in (root / d).iterdir() if p.is_dir() and p.name.isdigit()]
        except OSError:
            pass
    years = [y for y in years if 2021 <= y <= 2100]
    return max(years) if years else date.today().year


def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["vn"] = messages.vn_int
    env.filters["day"] = messages.day_text
    env.filters["moment"] = messages.moment_text
    env.globals["Status"] = Status  # statuses are compared as the enum in the templates too
    return env


def create_app(root: Path, token: str, host: str = "127.0.0.1", port: int = 8765, year: int | None = None,
               max_upload: int = MAX_UPLOAD, max_file: int = MAX_FILE) -> Starlette:
    desk = Desk(root, year)
    pages = Pages(desk, _env(), max_file)
    routes = [
        Route("/", pages.overview), Route("/bieu-mau", pages.forms), Route("/bieu-mau/tat-ca.zip", pages.forms_zip),
        Route("/bieu-mau/tao", pages.run_generate, methods=["POST"]),
        Route("/nhan-tep", pages.inbox), Route("/nhan-tep/tai-len", pages.upload, methods=["POST"]),
        Route("/nhan-tep/kiem-tra", pages.run_collect, methods=["POST"]),
        Route("/don-vi", pages.units), Route("/don-vi/{code}", pages.unit),
        Route("/don-vi/{code}/chap-nhan", pages.accept_unit, methods=["POST"]),
        Route("/don-vi/{code}/ngay-nhan", pages.received_unit, methods=["POST"]),
        Route("/tong-hop", pages.merge_page), Route("/tong-hop/chay", pages.run_merge, methods=["POST"]),
        Route("/bao-cao", pages.report_page), Route("/bao-cao/viet", pages.run_report, methods=["POST"]),
        Route("/cai-dat", pages.settings_page), Route("/cai-dat/luu", pages.save_settings_route, methods=["POST"]),
        Route("/cai-dat/lien-he", pages.save_contacts_route, methods=["POST"]),
        Route("/nam", pages.choose_year, methods=["POST"]),
        Route("/viec/{id:int}", pages.job_state), Route("/tai/{id}", pages.download),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: pages.not_found})
    app.state.desk = desk
    hosts, any_ip = allowed_hosts(host, port)
    return Guard(app, token, hosts, any_ip, max_upload)
