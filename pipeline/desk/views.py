"""What the desk's pages show, read from the library, and the small helpers the pages share
(pages of a long list, a search, redirects with a message)."""


from __future__ import annotations

import math
from datetime import datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse

from pipeline.base.problems import Severity
from pipeline.config.roster import Unit
from pipeline.store.status import Status
from pipeline.desk import messages

PAGE_SIZE = 50


def paginate(items: list, page: int, size: int = PAGE_SIZE) -> dict:
    pages = max(1, math.ceil(len(items) / size))
    page = min(max(1, page), pages)
    return {"items": items[(page - 1) * size: page * size], "page": page, "pages": pages, "total": len(items)}


def page_arg(request: Request) -> int:
    try:
        return int(request.query_params.get("trang", "1"))
    except ValueError:
        return 1


# --- what the pages show, read from the library --------------------------------------------------
def merge_view(result, catalogue=None) -> dict | None:
    """The one place that reads a merge result (merge.MergeResult) for the Tổng hợp page: the
    verdicts, their counts and each figure's source are merge's own, never worked out again here;
    a figure is never rounded into one of its targets (the rule of every output)."""
    if result is None:
        return None
    from pipeline.config.catalogue import indicator_label, target_text
    from pipeline.config.roster import communes_word, roster_words
    from pipeline.base.text import vn_number_apart

    def shown(value, targets) -> str:
        if value is None:
            return ""
        return vn_number_apart(value, targets) if targets else messages.figure(value)

    def target(r, year: str) -> str:
        known = {i.code: i for i in catalogue.indicators} if catalogue is not None else {}
        if r.code in known:
            return known[r.code].target_text(year)
        return target_text(r.targets.get(year))

    types = result.unit_types.values()
    rows = []
    for r in result.indicators:
        now = r.years.get(str(r.year))
        rows.append({
            "chi_tieu": r.chi_tieu, "label": indicator_label(r.code), "code": r.code,
            "name": roster_words(r.name, types), "unit": r.unit, "value": shown(r.value, r.target_numbers),
            "source": now.source_label if now else "", "t2025": target(r, "2025"), "t2030": target(r, "2030"),
            "s2025": r.verdict_for("2025").label,
            "s2030": r.verdict_for("2030").label, "partial": r.partial, "provisional": r.provisional,
        })
    counts = result.verdict_counts()
    by_code = {r.code: r for r in result.indicators}
    return {"year": result.year, "rows": rows, "coverage": result.coverage, "communes_word": communes_word(types),
            "met": len(counts.met), "not_met": len(counts.not_met),
            "undecided": len(counts.undecided), "no_data": len(counts.no_data),
            "differences": [{"office": result.unit_names.get(d["unit"], d["unit"]),
                             "chi_tieu": by_code[d["indicator"]].chi_tieu, "label": indicator_label(d["indicator"]),
                             "name": by_code[d["indicator"]].name,
                             "unit": by_code[d["indicator"]].unit,
                             "office_value": shown(d["value"], by_code[d["indicator"]].target_numbers),
                             "value": shown(by_code[d["indicator"]].communes_value
                                            if by_code[d["indicator"]].communes_value is not None
                                            else by_code[d["indicator"]].value, by_code[d["indicator"]].target_numbers)}
                            for d in result.office_differences if d["indicator"] in by_code]}


def last_actions(ws, year) -> list[dict]:
    from pipeline.store.db import Store

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


def is_merged(ws, year) -> bool:
    from pipeline.store.db import Store

    if not ws.db_path.exists():
        return False
    with Store(ws.db_path) as store:
        return year in store.merged_years()


def names_by_code(ws, year) -> dict:
    return {u.code: u.name for u in ws.roster.for_year(year)}


def units_table(ws, year) -> list:
    from pipeline.store.submissions import for_year, unit_rows
    from pipeline.store.db import Store

    if not ws.db_path.exists():
        return unit_rows(ws, year, [], {})
    with Store(ws.db_path) as store:
        return unit_rows(ws, year, for_year(store, year), store.issues_for_year(year))


def received_files(ws, year) -> list[dict]:
    """Every file of the year: what collect stored (with its verdict) and what lies in the
    inbox not yet collected."""
    from pipeline.collect.run import scan_inbox
    from pipeline.collect.feedback import needs_copy
    from pipeline.store.db import Store
    from pipeline.store.submissions import for_year

    names = names_by_code(ws, year)
    settings = ws.for_year(year).settings
    rows, seen = [], set()
    if ws.db_path.exists():
        with Store(ws.db_path) as store:
            subs = for_year(store, year)
            issues = store.issues_for_year(year)
        for s in reversed(subs):
            its = issues.get(s.id, [])
            errors = [i for i in its if i.severity is Severity.ERROR]
            name = names.get(s.unit or "", s.unit or "")
            # The copy feedback.write_feedback_files made for this submission, if it made one.
            fb = ws.layout(year).feedback_copy(s.unit, name) \
                if s.unit and s.status != Status.SUPERSEDED and needs_copy(its) else None
            fb = fb if fb is not None and fb.is_file() else None
            rows.append({"path": s.path, "unit": s.unit, "name": name, "status": s.status,
                         "label": s.status.label, "received_at": s.received_at,
                         "problems": (errors or its)[:3], "more": max(0, len(errors or its) - 3),
                         "feedback": fb,
                         "reply": messages.reply_message(settings, name, s.status, its, year,
                                                         feedback=fb is not None)})
            seen.update(s.paths or [s.path])
    files, skipped = scan_inbox(ws.inbox(year), settle=False)
    waiting = [{"path": f.relative, "unit": None, "name": "", "status": "new", "label": "Chưa kiểm tra",
                "received_at": datetime.fromtimestamp(f.mtime).isoformat(timespec="seconds"), "problems": [],
                "more": 0, "feedback": None, "reply": ""} for f in files if f.relative not in seen]
    left = [{"path": k.path, "unit": None, "name": "", "status": k.severity, "label": k.severity.label,
             "received_at": "", "problems": [k], "more": 0, "feedback": None, "reply": ""} for k in skipped]
    return waiting + rows + left


def filtered(items: list, q: str) -> list:
    q = " ".join(q.lower().split())
    if not q:
        return items
    def text(x):  # a unit of the roster, or a row of units_table
        return f"{x.code} {x.name}" if isinstance(x, Unit) else f"{x.unit} {x.name}"

    return [x for x in items if q in text(x).lower()]


def decisions_for(ws, year, code) -> list:
    from pipeline.store.decisions import decisions

    return [d for d in decisions(ws, year) if d.unit == code]


def size_text(n: int) -> str:
    return f"{n // (1024 * 1024)} MB" if n >= 1024 * 1024 else f"{n // 1024} KB"


def quoted(s: str) -> str:
    from urllib.parse import quote
    return quote(s, safe="")


def back_to(url: str, message: str | None = None) -> RedirectResponse:
    if message:
        from urllib.parse import quote
        sep = "&" if "?" in url.split("#")[0] else "?"
        base, _, frag = url.partition("#")
        url = f"{base}{sep}tb={quote(message)}" + (f"#{frag}" if frag else "")
    return RedirectResponse(url, status_code=303)


def job_response(request: Request, job, back: str):
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"job": job.id, "next": back})
    return back_to(f"{back}?viec={job.id}")
