"""The officer's desk: one page per step of the year, drawn on the server (Jinja2, autoescaped),
over the same stage functions as the commands. This module holds routes and what each page
shows; the work is the library's."""

from __future__ import annotations

import io
import math
import os
import threading
import time
import zipfile
from datetime import date, datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from pipeline.errors import TreemError
from pipeline.ui import messages
from pipeline.ui.jobs import JobRunner, lock_holder
from pipeline.ui.security import Downloads, Guard, allowed_hosts, save_upload
from pipeline.workspace import Workspace

HERE = Path(__file__).parent
PAGE_SIZE = 50
MAX_UPLOAD = 64 * 1024 * 1024      # one request (several files at once)
MAX_FILE = 25 * 1024 * 1024        # one file; a filled form is ~100 KB
STATUS_LABELS = {"accepted": "Hợp lệ", "accepted_with_warnings": "Hợp lệ, có cảnh báo",
                 "rejected": "Có lỗi, phải gửi lại", "superseded": "Đã thay bằng bản mới hơn", "missing": "Chưa gửi"}
PAGES = [("overview", "/", "Tổng quan"), ("forms", "/bieu-mau", "Biểu mẫu"), ("inbox", "/nhan-tep", "Nhận tệp"),
         ("units", "/don-vi", "Đơn vị"), ("merge", "/tong-hop", "Tổng hợp"), ("report", "/bao-cao", "Báo cáo"),
         ("settings", "/cai-dat", "Cài đặt")]


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
        db = self.root / "treem.sqlite"
        return (self.year, _mtime(db), _mtime(db.with_name("treem.sqlite-wal")), self._stamp,
                _mtime(self.root / "input" / str(self.year)), _mtime(self.root / "output" / str(self.year)),
                _mtime(self.root / "output" / str(self.year) / "phan_hoi"))

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
        from pipeline.feedback import status
        from pipeline.merge import load

        ws, year = self.ws, self.year
        self.cached("status", lambda: status(ws, year))
        self.cached("audit", lambda: _last_actions(ws, year))
        self.cached("unit_rows", lambda: _unit_rows(ws, year))
        self.cached("received", lambda: _received(ws, year))
        self.cached("merged", lambda: _merged(ws, year))
        self.cached("merge_view", lambda: merge_view(load(ws, year)))

    @property
    def ws(self) -> Workspace:
        stamp = tuple(_mtime(self.root / n) for n in ("settings.yaml", "roster.yaml", "catalogue.yaml"))
        if self._ws is None or stamp != self._stamp:
            self._ws, self._stamp = Workspace(self.root), stamp
        return self._ws

    def link(self, path: Path | str | None) -> str | None:
        if not path or not Path(path).is_file():
            return None
        return f"/tai/{self.downloads.id_for(Path(path))}"

    def download_roots(self) -> list[Path]:
        return [self.root / "output", self.root / "input"]


def _mtime(p: Path):
    try:
        return p.stat().st_mtime_ns
    except OSError:
        return None


def default_year(root: Path) -> int:
    """The latest year the workspace has files for; this year for a new one."""
    years = []
    for d in ("input", "output"):
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
    return env


def paginate(items: list, page: int, size: int = PAGE_SIZE) -> dict:
    pages = max(1, math.ceil(len(items) / size))
    page = min(max(1, page), pages)
    return {"items": items[(page - 1) * size: page * size], "page": page, "pages": pages, "total": len(items)}


def _page_arg(request: Request) -> int:
    try:
        return int(request.query_params.get("trang", "1"))
    except ValueError:
        return 1


def create_app(root: Path, token: str, host: str = "127.0.0.1", port: int = 8765, year: int | None = None,
               max_upload: int = MAX_UPLOAD, max_file: int = MAX_FILE) -> Starlette:
    desk = Desk(root, year)
    env = _env()

    def render(request: Request, name: str, page: str, status_code: int = 200, **ctx) -> HTMLResponse:
        job = desk.jobs.current()
        holder = None if job else lock_holder(desk.root)
        html = env.get_template(name).render(
            pages=PAGES, page=page, here=request.url.path, year=desk.year, root=str(desk.root), running=job, other_run=holder,
            flash=request.query_params.get("tb"), **ctx)
        return HTMLResponse(html, status_code=status_code)

    # --- Tổng quan ---------------------------------------------------------------------------
    async def overview(request: Request):
        return await run_in_threadpool(_overview, request)

    def _overview(request: Request):
        from pipeline.feedback import status
        from pipeline.store import Store

        ws, year = desk.ws, desk.year
        st = desk.cached("status", lambda: status(ws, year))
        audit = desk.cached("audit", lambda: _last_actions(ws, year))
        forms = ws.output(year) / "bieu_mau"
        state = {"forms": forms.is_dir() and any(forms.glob("*.xlsx")), "merged": _merged(ws, year),
                 "report": (ws.output(year) / f"bao_cao_{year}.docx").is_file()}
        return render(request, "overview.html", "overview", st=st, audit=audit,
                      next_steps=messages.next_steps(st, state, year), names=_names(ws, year))

    # --- Biểu mẫu ----------------------------------------------------------------------------
    async def forms(request: Request):
        return await run_in_threadpool(_forms, request)

    def _forms(request: Request):
        from pipeline.template import file_name

        ws, year = desk.ws, desk.year
        units = _filtered(ws.roster.for_year(year), request.query_params.get("q", ""))
        part = paginate(units, _page_arg(request))
        folder = ws.output(year) / "bieu_mau"
        deadline = ws.settings.deadline(year)
        in_force = ws.for_year(year).settings  # from 2025 on, the reorganised coordinator and contact
        rows = [{"unit": u, "file": file_name(year, u), "link": desk.link(folder / file_name(year, u)),
                 "message": messages.form_message(in_force, u, year, deadline, file_name(year, u))}
                for u in part["items"]]
        dist = desk.link(ws.output(year) / f"danh_sach_gui_bieu_mau_{year}.xlsx")
        return render(request, "forms.html", "forms", rows=rows, part=part, q=request.query_params.get("q", ""),
                      deadline=deadline, distribution=dist, any_forms=folder.is_dir() and any(folder.glob("*.xlsx")))

    async def forms_zip(request: Request):
        folder = desk.ws.output(desk.year) / "bieu_mau"
        files = sorted(folder.glob("*.xlsx")) if folder.is_dir() else []
        if not files:
            raise HTTPException(404, "Chưa có biểu mẫu nào.")

        def build() -> bytes:
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:  # xlsx is already compressed
                for f in files:
                    z.write(f, f.name)
            return buf.getvalue()

        data = await run_in_threadpool(build)
        return Response(data, media_type="application/zip", headers={
            "Content-Disposition": f'attachment; filename="bieu_mau_{desk.year}.zip"'})

    async def run_generate(request: Request):
        from pipeline.template import generate

        ws, year = desk.ws, desk.year
        total = len(ws.roster.for_year(year))

        def work(job, tick):
            r = generate(ws, year, progress=tick)
            return {"count": len(r.files), "text": f"Đã tạo {len(r.files)} biểu mẫu năm {year}."}

        job = desk.jobs.submit("generate", "Tạo biểu mẫu", work, total=total)
        return _job_response(request, job, "/bieu-mau")

    # --- Nhận tệp -----------------------------------------------------------------------------
    async def inbox(request: Request):
        return await run_in_threadpool(_inbox, request)

    def _inbox(request: Request):
        ws, year = desk.ws, desk.year
        rows = list(desk.cached("received", lambda: _received(ws, year)))
        recent = set(request.query_params.getlist("moi"))
        rows.sort(key=lambda r: (r["path"] not in recent,))
        part = paginate(rows, _page_arg(request))
        for r in part["items"]:
            r["file_link"] = desk.link(ws.inbox(year) / r["path"]) if r["path"] else None
            r["feedback_link"] = desk.link(r["feedback"]) if r.get("feedback") else None
        return render(request, "inbox.html", "inbox", part=part, recent=recent, inbox_dir=str(ws.inbox(year)),
                      max_size=_size(max_file))

    async def upload(request: Request):
        ws, year = desk.ws, desk.year
        saved, refused = [], []
        async with request.form(max_files=200, max_fields=20) as form:
            for item in form.getlist("tep"):
                if not hasattr(item, "filename"):
                    continue

                def chunks(f=item.file):
                    while True:
                        b = f.read(1 << 20)
                        if not b:
                            return
                        yield b

                try:
                    path = await run_in_threadpool(save_upload, ws.inbox(year), item.filename or "", chunks(), max_file)
                    saved.append(path.name)
                except ValueError:
                    refused.append(f"{item.filename}: quá {_size(max_file)}, không nhận.")
        if not saved:
            msg = " ".join(refused) or "Chưa chọn tệp nào."
            return JSONResponse({"error": msg}, status_code=413 if refused else 400)
        job = desk.jobs.pending("collect") or _submit_collect()
        return JSONResponse({"job": job.id, "saved": saved, "refused": refused,
                             "next": "/nhan-tep?" + "&".join(f"moi={_q(n)}" for n in saved)})

    def _submit_collect():
        from pipeline.collect import collect, scan_inbox

        ws, year = desk.ws, desk.year

        def work(job, tick):
            job.total = len(scan_inbox(ws.inbox(year), settle=False)[0])
            r = collect(ws, year, progress=tick)
            c = r.counts()
            return {"text": f"Đã kiểm tra {r.new_files} tệp mới: hợp lệ {c.get('accepted', 0)}, có cảnh báo "
                            f"{c.get('accepted_with_warnings', 0)}, có lỗi {c.get('rejected', 0)}, chưa gửi {c['missing']}."}

        return desk.jobs.submit("collect", "Thu nhận và kiểm tra", work)

    async def run_collect(request: Request):
        job = desk.jobs.pending("collect") or _submit_collect()
        return _job_response(request, job, "/nhan-tep")

    # --- Đơn vị ------------------------------------------------------------------------------
    async def units(request: Request):
        return await run_in_threadpool(_units, request)

    def _units(request: Request):
        from pipeline.feedback import status

        ws, year = desk.ws, desk.year
        st = desk.cached("status", lambda: status(ws, year))
        rows = desk.cached("unit_rows", lambda: _unit_rows(ws, year))
        want = request.query_params.get("tt", "")
        if want:
            rows = [r for r in rows if r["status"] == want]
        rows = _filtered(rows, request.query_params.get("q", ""))
        part = paginate(rows, _page_arg(request))
        return render(request, "units.html", "units", part=part, st=st, q=request.query_params.get("q", ""),
                      tt=want, labels=STATUS_LABELS)

    async def unit(request: Request):
        return await run_in_threadpool(_unit, request)

    def _unit(request: Request):
        from pipeline.feedback import feedback_name, needs_copy
        from pipeline.store import Store

        ws, year = desk.ws, desk.year
        code = request.path_params["code"]
        row = next((r for r in desk.cached("unit_rows", lambda: _unit_rows(ws, year)) if r["unit"] == code), None)
        if row is None:
            raise HTTPException(404, f"Không có đơn vị mã {code} trong năm {year}.")
        issues, versions = [], []
        if ws.db_path.exists():
            with Store(ws.db_path) as store:
                if row["submission"] is not None:
                    issues = store.issues(row["submission"].id)
                versions = [s for s in store.submissions(year) if s.unit == code]
        fb = ws.output(year) / "phan_hoi" / feedback_name(year, code, row["name"])
        fb = fb if row["submission"] is not None and needs_copy(issues) and fb.is_file() else None
        decided = _decisions_for(ws, year, code)
        return render(request, "unit.html", "units", row=row, issues=issues, versions=versions,
                      labels=STATUS_LABELS, feedback=desk.link(fb),
                      reply=messages.reply_message(ws.for_year(year).settings, row, issues, year, feedback=fb is not None),
                      decisions=decided,
                      file_links={s.path: desk.link(ws.inbox(year) / s.path) for s in versions})

    async def accept_unit(request: Request):
        form = await request.form()
        code = request.path_params["code"]
        note = str(form.get("ghi_chu", "")).strip()
        if not note:
            return _back(f"/don-vi/{code}", "Cần ghi lý do chấp nhận.")
        from pipeline.decisions import accept, undo_accept

        fn = undo_accept if form.get("bo") else accept
        return await _decide(f"/don-vi/{code}", lambda: fn(desk.ws, desk.year, code, note))

    async def received_unit(request: Request):
        form = await request.form()
        code = request.path_params["code"]
        from pipeline.decisions import DecisionError, received_date, set_received

        try:
            when = received_date(str(form.get("ngay", "")))  # as «treem received --date»
        except DecisionError as e:
            return _back(f"/don-vi/{code}", str(e))
        note = str(form.get("ghi_chu", "")).strip()
        file = str(form.get("tep", ""))

        return await _decide(f"/don-vi/{code}", lambda: set_received(desk.ws, desk.year, file, when, note))

    async def _decide(back: str, call):
        if lock_holder(desk.root) or desk.jobs.current():
            return _back(back, "Đang chạy một việc khác trên thư mục này; thử lại sau khi xong.")
        try:
            await run_in_threadpool(call)
        except TreemError as e:
            return _back(back, str(e))
        return _back(back, "Đã ghi quyết định.")

    # --- Tổng hợp ----------------------------------------------------------------------------
    async def merge_page(request: Request):
        return await run_in_threadpool(_merge_page, request)

    def _merge_page(request: Request):
        from pipeline.merge import load

        ws, year = desk.ws, desk.year
        view = desk.cached("merge_view", lambda: merge_view(load(ws, year)))
        out = ws.output(year)
        charts = [(t, desk.link(out / "bieu_do" / f"{n}_{year}.png"))
                  for n, t in (("bieu_do_muc_tieu", "Mức đạt so với mục tiêu"), ("bieu_do_xu_huong", "Xu hướng"))]
        return render(request, "merge.html", "merge", view=view, charts=[c for c in charts if c[1]],
                      workbook=desk.link(out / f"tong_hop_{year}.xlsx"), csv=desk.link(out / f"du_lieu_{year}.csv"))

    async def run_merge(request: Request):
        from pipeline.merge import load, merge
        from pipeline.report import write_charts

        ws, year = desk.ws, desk.year

        def work(job, tick):
            merge(ws, year, progress=tick)
            result = load(ws, year)
            with ws.lock("treem ui: vẽ biểu đồ"):
                write_charts(ws, result, ws.output(year) / "bieu_do")
            tick(1)
            return {"text": f"Đã tổng hợp số liệu năm {year}."}

        job = desk.jobs.submit("merge", "Tổng hợp", work, total=3)
        return _job_response(request, job, "/tong-hop")

    # --- Báo cáo -----------------------------------------------------------------------------
    async def report_page(request: Request):
        ws, year = desk.ws, desk.year
        out = ws.output(year)
        last = desk.jobs.last("report")
        return render(request, "report.html", "report", docx=desk.link(out / f"bao_cao_{year}.docx"),
                      pdf=desk.link(out / f"bao_cao_{year}.pdf"), last=last.result if last and last.state == "done" else None,
                      merged=(await run_in_threadpool(desk.cached, "merged", lambda: _merged(ws, year))))

    async def run_report(request: Request):
        from pipeline.report import report

        form = await request.form()
        ws, year = desk.ws, desk.year
        pdf = bool(form.get("pdf"))
        when = None
        if form.get("ngay"):
            try:
                when = date.fromisoformat(str(form["ngay"]))
            except ValueError:
                return JSONResponse({"error": "Ngày ghi trên báo cáo không đúng dạng."}, status_code=400)

        def work(job, tick):
            written = report(ws, year, pdf=pdf, date=when)
            tick(1)
            return {"text": "Đã viết báo cáo.", "warnings": written.get("warnings", []),
                    "messages": written.get("messages", [])}

        job = desk.jobs.submit("report", "Viết báo cáo", work, total=1)
        return _job_response(request, job, "/bao-cao")

    # --- Cài đặt -----------------------------------------------------------------------------
    async def settings_page(request: Request, problems=None, values=None, contact_problems=None, status_code=200):
        from pipeline.settings import REORGANISED_FROM, REORGANISED_SECTION
        from pipeline.ui.config_files import SETTINGS_FIELDS, settings_form, settings_section

        ws, year = desk.ws, desk.year
        units_all = _filtered(ws.roster.for_year(year), request.query_params.get("q", ""))
        part = paginate(units_all, _page_arg(request))
        return render(request, "settings.html", "settings", fields=SETTINGS_FIELDS,
                      values=values or settings_form(ws.for_year(year).settings, year), problems=problems or [],
                      section=settings_section(year), reorganised_from=REORGANISED_FROM,
                      reorganised_section=REORGANISED_SECTION, part=part,
                      contact_problems=contact_problems or [], q=request.query_params.get("q", ""),
                      years=list(range(2021, max(2031, date.today().year + 1))), status_code=status_code)

    async def save_settings_route(request: Request):
        from pipeline.ui.config_files import check_settings, save_settings, settings_section

        form = dict((await request.form()).items())
        values, problems = check_settings(form)
        if problems:
            return await settings_page(request, problems=problems, values=form, status_code=400)
        year = desk.year
        try:
            await run_in_threadpool(save_settings, desk.root, values, year)
        except TreemError as e:
            return await settings_page(request, problems=[str(e)], values=form, status_code=400)
        from pipeline.settings import REORGANISED_FROM

        section = settings_section(year)
        where = (f"mục «{section}» của settings.yaml, dùng cho các năm từ {REORGANISED_FROM} trở đi" if section
                 else f"các mục chung của settings.yaml, dùng cho các năm trước {REORGANISED_FROM}")
        return _back("/cai-dat", f"Đã lưu thông số vào {where}.")

    async def save_contacts_route(request: Request):
        from pipeline.ui.config_files import check_contacts, save_contacts

        form = await request.form()
        ws, year = desk.ws, desk.year
        by_code = {u.code: u for u in ws.roster.for_year(year)}
        units_, rows = [], []
        for code in form.getlist("ma"):
            u = by_code.get(code)
            if u is None:
                continue
            units_.append(u)
            rows.append({"name": u.name, **{k: " ".join(str(form.get(f"{k}-{code}", "")).split())
                                            for k in ("person", "phone", "email")}})
        problems = check_contacts(rows)
        if problems:
            return await settings_page(request, contact_problems=problems, status_code=400)
        try:
            await run_in_threadpool(save_contacts, desk.root, units_, rows)
        except TreemError as e:
            return await settings_page(request, contact_problems=[str(e)], status_code=400)
        return _back(f"/cai-dat?trang={_page_arg(request)}#lien-he", f"Đã lưu người liên hệ của {len(rows)} đơn vị vào roster.yaml.")

    async def choose_year(request: Request):
        form = await request.form()
        try:
            y = int(str(form.get("nam", "")))
        except ValueError:
            y = 0
        if not 2021 <= y <= 2100:
            return _back("/cai-dat", "Năm báo cáo phải từ 2021 trở đi.")
        desk.year = y
        back = str(form.get("ve", "/"))
        return _back(back if back.startswith("/") and not back.startswith("//") else "/", f"Đã chọn năm {y}.")

    # --- jobs, downloads ---------------------------------------------------------------------
    async def job_state(request: Request):
        job = desk.jobs.jobs.get(int(request.path_params["id"]))
        if job is None:
            raise HTTPException(404, "Không có việc này.")
        return JSONResponse(job.to_dict())

    async def download(request: Request):
        path = desk.downloads.resolve(request.path_params["id"], desk.download_roots())
        if path is None:
            raise HTTPException(404, "Không có tệp này (tải lại trang rồi bấm lại).")
        return FileResponse(path, filename=path.name)

    async def not_found(request: Request, exc: HTTPException):
        return render(request, "error.html", "", status_code=exc.status_code, message=exc.detail)

    routes = [
        Route("/", overview), Route("/bieu-mau", forms), Route("/bieu-mau/tat-ca.zip", forms_zip),
        Route("/bieu-mau/tao", run_generate, methods=["POST"]),
        Route("/nhan-tep", inbox), Route("/nhan-tep/tai-len", upload, methods=["POST"]),
        Route("/nhan-tep/kiem-tra", run_collect, methods=["POST"]),
        Route("/don-vi", units), Route("/don-vi/{code}", unit),
        Route("/don-vi/{code}/chap-nhan", accept_unit, methods=["POST"]),
        Route("/don-vi/{code}/ngay-nhan", received_unit, methods=["POST"]),
        Route("/tong-hop", merge_page), Route("/tong-hop/chay", run_merge, methods=["POST"]),
        Route("/bao-cao", report_page), Route("/bao-cao/viet", run_report, methods=["POST"]),
        Route("/cai-dat", settings_page), Route("/cai-dat/luu", save_settings_route, methods=["POST"]),
        Route("/cai-dat/lien-he", save_contacts_route, methods=["POST"]),
        Route("/nam", choose_year, methods=["POST"]),
        Route("/viec/{id:int}", job_state), Route("/tai/{id}", download),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: not_found})
    app.state.desk = desk
    hosts, any_ip = allowed_hosts(host, port)
    return Guard(app, token, hosts, any_ip, max_upload)


# --- what the pages show, read from the library --------------------------------------------------
def merge_view(result) -> dict | None:
    """The one place that reads a merge result (merge.MergeResult) for the Tổng hợp page: the
    verdicts are merge's own, never judged again here."""
    if result is None:
        return None
    from pipeline.catalogue import indicator_label, target_text
    from pipeline.merge import Verdict
    from pipeline.text import vn_number_apart

    def shown(value, target) -> str:
        if value is None:
            return ""
        return vn_number_apart(value, target) if isinstance(target, (int, float)) else messages.figure(value)

    rows = []
    for r in result.indicators:
        ref_target = r.targets.get(r.reference_year) if r.reference_year else None
        rows.append({
            "chi_tieu": r.chi_tieu, "label": indicator_label(r.code), "code": r.code, "name": r.name, "unit": r.unit,
            "value": shown(r.value, ref_target), "t2025": target_text(r.targets.get("2025")),
            "t2030": target_text(r.targets.get("2030")), "s2025": r.verdict_for("2025").label,
            "s2030": r.verdict_for("2030").label, "partial": r.partial, "provisional": r.provisional,
        })
    judged = [r.verdict for r in result.indicators if r.reference_year]
    by_code = {r.code: r for r in result.indicators}
    return {"year": result.year, "rows": rows, "coverage": result.coverage,
            "met": judged.count(Verdict.MET), "not_met": judged.count(Verdict.NOT_MET),
            "undecided": judged.count(Verdict.UNDECIDED), "no_data": judged.count(Verdict.NO_DATA),
            "differences": [{"office": result.unit_names.get(d["unit"], d["unit"]),
                             "chi_tieu": by_code[d["indicator"]].chi_tieu, "label": indicator_label(d["indicator"]),
                             "name": by_code[d["indicator"]].name,
                             "unit": by_code[d["indicator"]].unit, "office_value": messages.figure(d["value"]),
                             "value": messages.figure(by_code[d["indicator"]].communes_value
                                                      if by_code[d["indicator"]].communes_value is not None
                                                      else by_code[d["indicator"]].value)}
                            for d in result.office_differences if d["indicator"] in by_code]}


def _last_actions(ws, year) -> list[dict]:
    from pipeline.store import Store

    if not ws.db_path.exists():
        return []
    import json

    with Store(ws.db_path) as store:
        rows = store.audit(year, last=12)[::-1]
    for r in rows:
        try:
            detail = json.loads(r.get("detail") or "{}")
        except ValueError:
            detail = {}
        r["file"] = detail.get("path", "") if isinstance(detail, dict) else ""
    return rows


def _merged(ws, year) -> bool:
    from pipeline.store import Store

    if not ws.db_path.exists():
        return False
    with Store(ws.db_path) as store:
        return year in store.merged_years()


def _names(ws, year) -> dict:
    return {u.code: u.name for u in ws.roster.for_year(year)}


def _unit_rows(ws, year) -> list[dict]:
    from pipeline.feedback import unit_rows
    from pipeline.store import Store

    if not ws.db_path.exists():
        return unit_rows(ws, year, [], {})
    with Store(ws.db_path) as store:
        return unit_rows(ws, year, store.submissions(year), store.issues_for_year(year))


def _received(ws, year) -> list[dict]:
    """Every file of the year: what collect stored (with its verdict) and what lies in the
    inbox not yet collected."""
    from pipeline.collect import scan_inbox
    from pipeline.feedback import feedback_name, needs_copy
    from pipeline.store import Store

    names = _names(ws, year)
    settings = ws.for_year(year).settings
    rows, seen = [], set()
    if ws.db_path.exists():
        with Store(ws.db_path) as store:
            subs = store.submissions(year)
            issues = store.issues_for_year(year)
        for s in reversed(subs):
            its = issues.get(s.id, [])
            errors = [i for i in its if i["severity"] == "error"]
            name = names.get(s.unit or "", s.unit or "")
            # The copy feedback.write_feedback_files made for this submission, if it made one.
            fb = (ws.output(year) / "phan_hoi" / feedback_name(year, s.unit, name)) \
                if s.unit and s.status != "superseded" and needs_copy(its) else None
            fb = fb if fb is not None and fb.is_file() else None
            rows.append({"path": s.path, "unit": s.unit, "name": name, "status": s.status,
                         "label": STATUS_LABELS.get(s.status, s.status), "received_at": s.received_at,
                         "problems": (errors or its)[:3], "more": max(0, len(errors or its) - 3),
                         "feedback": fb,
                         "reply": messages.reply_message(settings, {"name": name or "đơn vị", "status": s.status,
                                                                    "path": s.path}, its, year, feedback=fb is not None)})
            seen.update(s.paths or [s.path])
    files, skipped = scan_inbox(ws.inbox(year), settle=False)
    waiting = [{"path": f.relative, "unit": None, "name": "", "status": "new", "label": "Chưa kiểm tra",
                "received_at": datetime.fromtimestamp(f.mtime).isoformat(timespec="seconds"), "problems": [],
                "more": 0, "feedback": None, "reply": ""} for f in files if f.relative not in seen]
    left = [{"path": k["path"], "unit": None, "name": "", "status": "skipped", "label": "Bỏ qua",
             "received_at": "", "problems": [{"message": k["message"], "severity": "warning"}], "more": 0,
             "feedback": None, "reply": ""} for k in skipped]
    return waiting + rows + left


def _filtered(items: list, q: str) -> list:
    q = " ".join(q.lower().split())
    if not q:
        return items
    def text(x):
        return f"{x['unit']} {x['name']}" if isinstance(x, dict) else f"{x.code} {x.name}"

    return [x for x in items if q in text(x).lower()]


def _decisions_for(ws, year, code) -> list:
    from pipeline.decisions import decisions

    return [d for d in decisions(ws, year) if d.unit == code]


def _size(n: int) -> str:
    return f"{n // (1024 * 1024)} MB" if n >= 1024 * 1024 else f"{n // 1024} KB"


def _q(s: str) -> str:
    from urllib.parse import quote
    return quote(s, safe="")


def _back(url: str, message: str | None = None) -> RedirectResponse:
    if message:
        from urllib.parse import quote
        sep = "&" if "?" in url.split("#")[0] else "?"
        base, _, frag = url.partition("#")
        url = f"{base}{sep}tb={quote(message)}" + (f"#{frag}" if frag else "")
    return RedirectResponse(url, status_code=303)


def _job_response(request: Request, job, back: str):
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"job": job.id, "next": back})
    return _back(f"{back}?viec={job.id}")
