"""The desk's pages and actions, one method each: what the officer sees on each step of the
year, and the buttons that run a stage (in the background, one at a time) or record a decision.
`create_app` (app.py) routes the addresses to them."""


from __future__ import annotations

import io
import zipfile
from datetime import date

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response

from pipeline.base.errors import TreemError
from pipeline.store.status import STATUS_LABELS, Status
from pipeline.store.submissions import for_year
from pipeline.desk import messages
from pipeline.desk.jobs import lock_holder
from pipeline.desk.security import save_upload
from pipeline.desk.views import (back_to, decisions_for, filtered, job_response, last_actions, is_merged, names_by_code, page_arg,
                               quoted, received_files, size_text, units_table, merge_view, paginate)

PAGES = [("overview", "/", "Tổng quan"), ("forms", "/bieu-mau", "Biểu mẫu"), ("inbox", "/nhan-tep", "Nhận tệp"),
         ("units", "/don-vi", "Đơn vị"), ("merge", "/tong-hop", "Tổng hợp"), ("report", "/bao-cao", "Báo cáo"),
         ("settings", "/cai-dat", "Cài đặt")]


class Pages:
    """Every page and action of the desk, over one `Desk` (app.py)."""

    def __init__(self, desk, env, max_file: int):
        self.desk, self.env, self.max_file = desk, env, max_file

    def render(self, request: Request, name: str, page: str, status_code: int = 200, **ctx) -> HTMLResponse:
        job = self.desk.jobs.current()
        holder = None if job else lock_holder(self.desk.root)
        html = self.env.get_template(name).render(
            pages=PAGES, page=page, here=request.url.path, year=self.desk.year, root=str(self.desk.root), running=job, other_run=holder,
            flash=request.query_params.get("tb"), **ctx)
        return HTMLResponse(html, status_code=status_code)

    async def overview(self, request: Request):
        return await run_in_threadpool(self._overview, request)

    def _overview(self, request: Request):
        from pipeline.store.submissions import status

        ws, year = self.desk.ws, self.desk.year
        st = self.desk.cached("status", lambda: status(ws, year))
        audit = self.desk.cached("audit", lambda: last_actions(ws, year))
        files = ws.layout(year)
        state = {"forms": files.forms.is_dir() and any(files.forms.glob("*.xlsx")), "merged": is_merged(ws, year),
                 "report": files.report.is_file()}
        return self.render(request, "overview.html", "overview", st=st, audit=audit,
                      next_steps=messages.next_steps(st, state, year), names=names_by_code(ws, year))

    async def forms(self, request: Request):
        return await run_in_threadpool(self._forms, request)

    def _forms(self, request: Request):
        ws, year = self.desk.ws, self.desk.year
        units = filtered(ws.roster.for_year(year), request.query_params.get("q", ""))
        part = paginate(units, page_arg(request))
        files = ws.layout(year)
        folder = files.forms
        deadline = ws.settings.deadline(year)
        in_force = ws.for_year(year).settings  # from 2025 on, the reorganised coordinator and contact
        rows = [{"unit": u, "file": files.form(u).name, "link": self.desk.link(files.form(u)),
                 "message": messages.form_message(in_force, u, year, deadline, files.form(u).name)}
                for u in part["items"]]
        dist = self.desk.link(files.distribution_list)
        return self.render(request, "forms.html", "forms", rows=rows, part=part, q=request.query_params.get("q", ""),
                      deadline=deadline, distribution=dist, any_forms=folder.is_dir() and any(folder.glob("*.xlsx")))

    async def forms_zip(self, request: Request):
        layout = self.desk.ws.layout(self.desk.year)
        files = sorted(layout.forms.glob("*.xlsx")) if layout.forms.is_dir() else []
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
            "Content-Disposition": f'attachment; filename="{layout.forms_zip_name}"'})

    async def run_generate(self, request: Request):
        from pipeline.forms.writer import generate

        ws, year = self.desk.ws, self.desk.year
        total = len(ws.roster.for_year(year))

        def work(job, tick):
            r = generate(ws, year, progress=tick)
            return {"count": len(r.files), "text": f"Đã tạo {len(r.files)} biểu mẫu năm {year}."}

        job = self.desk.jobs.submit("generate", "Tạo biểu mẫu", work, total=total)
        return job_response(request, job, "/bieu-mau")

    async def inbox(self, request: Request):
        return await run_in_threadpool(self._inbox, request)

    def _inbox(self, request: Request):
        ws, year = self.desk.ws, self.desk.year
        rows = list(self.desk.cached("received", lambda: received_files(ws, year)))
        recent = set(request.query_params.getlist("moi"))
        rows.sort(key=lambda r: (r["path"] not in recent,))
        part = paginate(rows, page_arg(request))
        for r in part["items"]:
            r["file_link"] = self.desk.link(ws.inbox(year) / r["path"]) if r["path"] else None
            r["feedback_link"] = self.desk.link(r["feedback"]) if r.get("feedback") else None
        return self.render(request, "inbox.html", "inbox", part=part, recent=recent, inbox_dir=str(ws.inbox(year)),
                      max_size=size_text(self.max_file))

    async def upload(self, request: Request):
        ws, year = self.desk.ws, self.desk.year
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
                    path = await run_in_threadpool(save_upload, ws.inbox(year), item.filename or "", chunks(), self.max_file)
                    saved.append(path.name)
                except ValueError:
                    refused.append(f"{item.filename}: quá {size_text(self.max_file)}, không nhận.")
        if not saved:
            msg = " ".join(refused) or "Chưa chọn tệp nào."
            return JSONResponse({"error": msg}, status_code=413 if refused else 400)
        job = self.desk.jobs.pending("collect") or self._submit_collect()
        return JSONResponse({"job": job.id, "saved": saved, "refused": refused,
                             "next": "/nhan-tep?" + "&".join(f"moi={quoted(n)}" for n in saved)})

    def _submit_collect(self):
        from pipeline.collect.run import collect, scan_inbox

        ws, year = self.desk.ws, self.desk.year

        def work(job, tick):
            job.total = len(scan_inbox(ws.inbox(year), settle=False)[0])
            r = collect(ws, year, progress=tick)
            c = r.counts()
            return {"text": f"Đã kiểm tra {r.new_files} tệp mới: hợp lệ {c.get(Status.ACCEPTED, 0)}, có cảnh báo "
                            f"{c.get(Status.ACCEPTED_WITH_WARNINGS, 0)}, có lỗi {c.get(Status.REJECTED, 0)}, "
                            f"chưa gửi {c[Status.MISSING]}."}

        return self.desk.jobs.submit("collect", "Thu nhận và kiểm tra", work)

    async def run_collect(self, request: Request):
        job = self.desk.jobs.pending("collect") or self._submit_collect()
        return job_response(request, job, "/nhan-tep")

    async def units(self, request: Request):
        return await run_in_threadpool(self._units, request)

    def _units(self, request: Request):
        from pipeline.store.submissions import status

        ws, year = self.desk.ws, self.desk.year
        st = self.desk.cached("status", lambda: status(ws, year))
        rows = self.desk.cached("unit_rows", lambda: units_table(ws, year))
        want = request.query_params.get("tt", "")
        if want:
            wanted = next((s for s in Status if s.value == want), None)  # an unknown one shows nothing
            rows = [r for r in rows if r.status is wanted]
        rows = filtered(rows, request.query_params.get("q", ""))
        part = paginate(rows, page_arg(request))
        return self.render(request, "units.html", "units", part=part, st=st, q=request.query_params.get("q", ""),
                      tt=want, labels=STATUS_LABELS)

    async def unit(self, request: Request):
        return await run_in_threadpool(self._unit, request)

    def _unit(self, request: Request):
        from pipeline.collect.feedback import needs_copy
        from pipeline.store.db import Store

        ws, year = self.desk.ws, self.desk.year
        code = request.path_params["code"]
        row = next((r for r in self.desk.cached("unit_rows", lambda: units_table(ws, year)) if r.unit == code), None)
        if row is None:
            raise HTTPException(404, f"Không có đơn vị mã {code} trong năm {year}.")
        issues, versions = [], []
        if ws.db_path.exists():
            with Store(ws.db_path) as store:
                if row.submission is not None:
                    issues = store.issues(row.submission.id)
                versions = [s for s in for_year(store, year) if s.unit == code]
        fb = ws.layout(year).feedback_copy(code, row.name)
        fb = fb if row.submission is not None and needs_copy(issues) and fb.is_file() else None
        decided = decisions_for(ws, year, code)
        return self.render(request, "unit.html", "units", row=row, issues=issues, versions=versions,
                      feedback=self.desk.link(fb),
                      reply=messages.reply_message(ws.for_year(year).settings, row.name, row.status, issues, year,
                                                   feedback=fb is not None),
                      decisions=decided,
                      file_links={s.path: self.desk.link(ws.inbox(year) / s.path) for s in versions})

    async def accept_unit(self, request: Request):
        form = await request.form()
        code = request.path_params["code"]
        note = str(form.get("ghi_chu", "")).strip()
        if not note:
            return back_to(f"/don-vi/{code}", "Cần ghi lý do chấp nhận.")
        from pipeline.store.decisions import accept, undo_accept

        fn = undo_accept if form.get("bo") else accept
        return await self._decide(f"/don-vi/{code}", lambda: fn(self.desk.ws, self.desk.year, code, note))

    async def received_unit(self, request: Request):
        form = await request.form()
        code = request.path_params["code"]
        from pipeline.store.decisions import DecisionError, received_date, set_received

        try:
            when = received_date(str(form.get("ngay", "")))  # as «treem received --date»
        except DecisionError as e:
            return back_to(f"/don-vi/{code}", str(e))
        note = str(form.get("ghi_chu", "")).strip()
        file = str(form.get("tep", ""))

        return await self._decide(f"/don-vi/{code}", lambda: set_received(self.desk.ws, self.desk.year, file, when, note))

    async def _decide(self, back: str, call):
        if lock_holder(self.desk.root) or self.desk.jobs.current():
            return back_to(back, "Đang chạy một việc khác trên thư mục này; thử lại sau khi xong.")
        try:
            await run_in_threadpool(call)
        except TreemError as e:
            return back_to(back, str(e))
        return back_to(back, "Đã ghi quyết định.")

    async def merge_page(self, request: Request):
        return await run_in_threadpool(self._merge_page, request)

    def _merge_page(self, request: Request):
        from pipeline.merge.merger import load

        ws, year = self.desk.ws, self.desk.year
        view = self.desk.cached("merge_view", lambda: merge_view(load(ws, year), ws.catalogue))
        files = ws.layout(year)
        charts = [(t, self.desk.link(p)) for p, t in ((files.target_chart, "Mức đạt so với mục tiêu"),
                                                      (files.trend_chart, "Xu hướng"))]
        return self.render(request, "merge.html", "merge", view=view, charts=[c for c in charts if c[1]],
                           workbook=self.desk.link(files.consolidated), csv=self.desk.link(files.long_csv))

    async def run_merge(self, request: Request):
        from pipeline.merge.merger import load, merge
        from pipeline.reporting.chart_data import write_charts

        ws, year = self.desk.ws, self.desk.year

        def work(job, tick):
            merge(ws, year, progress=tick)
            result = load(ws, year)
            with ws.lock("treem ui: vẽ biểu đồ"):
                write_charts(ws, result)
            tick(1)
            return {"text": f"Đã tổng hợp số liệu năm {year}."}

        job = self.desk.jobs.submit("merge", "Tổng hợp", work, total=3)
        return job_response(request, job, "/tong-hop")

    async def report_page(self, request: Request):
        ws, year = self.desk.ws, self.desk.year
        files = ws.layout(year)
        last = self.desk.jobs.last("report")
        return self.render(request, "report.html", "report", docx=self.desk.link(files.report),
                      pdf=self.desk.link(files.report_pdf), last=last.result if last and last.state == "done" else None,
                      merged=(await run_in_threadpool(self.desk.cached, "merged", lambda: is_merged(ws, year))))

    async def run_report(self, request: Request):
        from pipeline.reporting.report import report

        form = await request.form()
        ws, year = self.desk.ws, self.desk.year
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
            return {"text": "Đã viết báo cáo.", "warnings": written.warnings, "messages": written.messages}

        job = self.desk.jobs.submit("report", "Viết báo cáo", work, total=1)
        return job_response(request, job, "/bao-cao")

    async def settings_page(self, request: Request, problems=None, values=None, contact_problems=None, status_code=200):
        from pipeline.config.settings import REORGANISED_FROM, REORGANISED_SECTION
        from pipeline.desk.config_files import SETTINGS_FIELDS, settings_form, settings_section

        ws, year = self.desk.ws, self.desk.year
        units_all = filtered(ws.roster.for_year(year), request.query_params.get("q", ""))
        part = paginate(units_all, page_arg(request))
        return self.render(request, "settings.html", "settings", fields=SETTINGS_FIELDS,
                      values=values or settings_form(ws.for_year(year).settings, year), problems=problems or [],
                      section=settings_section(year), reorganised_from=REORGANISED_FROM,
                      reorganised_section=REORGANISED_SECTION, part=part,
                      contact_problems=contact_problems or [], q=request.query_params.get("q", ""),
                      years=list(range(2021, max(2031, date.today().year + 1))), status_code=status_code)

    async def save_settings_route(self, request: Request):
        from pipeline.desk.config_files import check_settings, save_settings, settings_section

        form = dict((await request.form()).items())
        values, problems = check_settings(form)
        if problems:
            return await self.settings_page(request, problems=problems, values=form, status_code=400)
        year = self.desk.year
        try:
            await run_in_threadpool(save_settings, self.desk.root, values, year)
        except TreemError as e:
            return await self.settings_page(request, problems=[str(e)], values=form, status_code=400)
        from pipeline.config.settings import REORGANISED_FROM

        section = settings_section(year)
        where = (f"mục «{section}» của settings.yaml, dùng cho các năm từ {REORGANISED_FROM} trở đi" if section
                 else f"các mục chung của settings.yaml, dùng cho các năm trước {REORGANISED_FROM}")
        return back_to("/cai-dat", f"Đã lưu thông số vào {where}.")

    async def save_contacts_route(self, request: Request):
        from pipeline.desk.config_files import check_contacts, save_contacts

        form = await request.form()
        ws, year = self.desk.ws, self.desk.year
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
            return await self.settings_page(request, contact_problems=problems, status_code=400)
        try:
            await run_in_threadpool(save_contacts, self.desk.root, units_, rows)
        except TreemError as e:
            return await self.settings_page(request, contact_problems=[str(e)], status_code=400)
        return back_to(f"/cai-dat?trang={page_arg(request)}#lien-he", f"Đã lưu người liên hệ của {len(rows)} đơn vị vào roster.yaml.")

    async def choose_year(self, request: Request):
        form = await request.form()
        try:
            y = int(str(form.get("nam", "")))
        except ValueError:
            y = 0
        if not 2021 <= y <= 2100:
            return back_to("/cai-dat", "Năm báo cáo phải từ 2021 trở đi.")
        self.desk.year = y
        back = str(form.get("ve", "/"))
        return back_to(back if back.startswith("/") and not back.startswith("//") else "/", f"Đã chọn năm {y}.")

    async def job_state(self, request: Request):
        job = self.desk.jobs.jobs.get(int(request.path_params["id"]))
        if job is None:
            raise HTTPException(404, "Không có việc này.")
        return JSONResponse(job.to_dict())

    async def download(self, request: Request):
        path = self.desk.downloads.resolve(request.path_params["id"], self.desk.download_roots())
        if path is None:
            raise HTTPException(404, "Không có tệp này (tải lại trang rồi bấm lại).")
        return FileResponse(path, filename=path.name)

    async def not_found(self, request: Request, exc: HTTPException):
        return self.render(request, "error.html", "", status_code=exc.status_code, message=exc.detail)
