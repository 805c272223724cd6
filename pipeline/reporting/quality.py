"""The data-quality appendix (Phụ lục III): who reported, who was on time, which
problems are open, and which figures lack units or disagree with the lead office."""

from __future__ import annotations

from datetime import date as Date

from pipeline.config.catalogue import COMMUNE_TYPES
from pipeline.merge.result import IndicatorResult, MergeResult
from pipeline.reporting.words import NO_DATA, lower_first
from pipeline.base.text import vn_number_apart

UNIT_TABLE_LIMIT = 300
# The province reads the problems summarised by kind (and by unit in the units' table), with the
# few that matter listed (errors first); the full list stays in the validation workbook.
PROBLEM_LIMIT = 10
NAMES_LIMIT = 12
KIND_NAMES_LIMIT = 4

# --- data quality (read from the store) ------------------------------------------------------
def data_quality(ws, store, year: int) -> dict:
    """Who reported, who was on time, which problems are still open, as plain rows."""
    from pipeline.store.decisions import unit_notes
    from pipeline.base.problems import ERROR
    from pipeline.store.status import Status
    from pipeline.store.submissions import for_year, row_counts, unit_rows

    subs, issues = for_year(store, year), store.issues_for_year(year)
    rows = unit_rows(ws, year, subs, issues)
    fields = {f.code: f for f in ws.catalogue.fields}
    decided = unit_notes(store, year)  # the officer's decisions, said beside the unit
    units, problems = [], []
    for n, r in enumerate(rows, start=1):
        s = r.submission
        note = []
        if r.versions > 1:
            note.append(f"Đã gửi {r.versions} bản")
        note += decided.get(r.unit, [])
        if s is not None and s.identity_source == "imported":
            note.append("Số liệu nhập từ lịch sử (treem import-history)")
        units.append({
            "tt": n, "name": r.name, "status": r.status.label,
            "received": _vn_date(r.received_at), "on_time": {True: "Có", False: "Không"}.get(r.on_time, ""),
            "errors": r.errors or "", "warnings": r.warnings or "", "note": "; ".join(note),
        })
        if s is None:
            continue
        for i in issues.get(s.id, []):
            if i.code == "late-submission":
                continue  # timeliness is the table's own column
            problems.append({"unit": r.name, "topic": _topic(fields.get(i.field or "")),
                             # the cell, for report templates made before the indicator column
                             "cell": "!".join(x for x in (i.sheet, i.cell) if x),
                             "severity": i.severity.label, "message": i.message, "_error": i.severity is ERROR,
                             "_code": i.code})
    problems.sort(key=lambda p: not p["_error"])
    kinds = _kinds(problems)
    if len(units) > UNIT_TABLE_LIMIT:
        # At province or national scale, list the units that need attention first (by status
        # code, never by its label).
        order = {Status.MISSING: 0, Status.REJECTED: 1}
        ranked = sorted(zip(units, rows), key=lambda pair: order.get(pair[1].status, 2))
        units = [u for u, _ in ranked][:UNIT_TABLE_LIMIT]
    total = len(problems)
    if total > PROBLEM_LIMIT:
        # Many: summarised by kind (and by unit, in the units' table); the errors listed.
        problems = [p for p in problems if p["_error"]]
    else:
        kinds = []  # few: the list itself is the summary
    problems = [{k: v for k, v in p.items() if not k.startswith("_")} | {"tt": n}
                for n, p in enumerate(problems[:PROBLEM_LIMIT], start=1)]
    c = row_counts(rows)
    summary = (f"Phải báo cáo: {c.expected} đơn vị; đã gửi: {c.received}; hợp lệ: {c.valid}; "
               f"có lỗi phải gửi lại: {c.rejected}; gửi đúng hạn ({ws.settings.deadline(year):%d/%m/%Y}): "
               f"{c.on_time}; gửi muộn: {c.late}; chưa gửi: {c.missing}.")
    footer = _footer(ws, store, year, total, len(rows))
    collected = [s.collected_at for s in subs if s.collected_at]
    return {"summary": summary, "units": units, "problems": problems, "problems_total": total, "kinds": kinds,
            "counts": c.to_dict(), "footer": footer, "last_collected": max(collected, default="")}


def _kinds(problems: list[dict]) -> list[dict]:
    """The problems by kind (their stable code): how many, of which severity, in how many units
    and which; errors first, then the most frequent."""
    from pipeline.base.problems import title

    groups: dict[str, dict] = {}
    for p in problems:
        g = groups.setdefault(p["_code"], {"title": title(p["_code"]), "severity": p["severity"], "count": 0,
                                            "units": [], "_error": p["_error"]})
        g["count"] += 1
        if p["unit"] not in g["units"]:
            g["units"].append(p["unit"])
    ordered = sorted(groups.values(), key=lambda g: (not g["_error"], -g["count"], g["title"]))
    return [{"tt": n, "title": g["title"], "severity": g["severity"], "count": g["count"],
             "units": f"{len(g['units'])}: " + ", ".join(g["units"][:KIND_NAMES_LIMIT])
             + (f" và {len(g['units']) - KIND_NAMES_LIMIT} đơn vị khác" if len(g["units"]) > KIND_NAMES_LIMIT else "")}
            for n, g in enumerate(ordered, start=1)]


def _footer(ws, store, year: int, total: int, units: int) -> str:
    """Where the full lists are kept, what the tables leave out, and which years were imported."""
    from pipeline.store.status import Status

    keeper = ws.settings.get("coordinator") or "đơn vị tổng hợp"
    footer = (f"Danh sách đầy đủ các lỗi, cảnh báo (đến từng ô của biểu mẫu) và các tệp đã nhận: tệp "
              f"{ws.layout(year).validation_report.name}, lưu tại {keeper}.")
    if total > PROBLEM_LIMIT:
        footer = (f"Có {total} lỗi, cảnh báo: bảng trên tổng hợp theo loại, bảng tình hình gửi báo cáo ghi số của "
                  f"từng đơn vị, và chỉ liệt kê các lỗi (tối đa {PROBLEM_LIMIT}). ") + footer
    imported = [y for y in range(ws.catalogue.baseline_year, year + 1)
                if any(x.identity_source == "imported" and x.status != Status.SUPERSEDED for x in store.submissions(y))]
    if imported:
        footer += (f" Số liệu năm {', '.join(str(y) for y in imported)} (toàn bộ hoặc một phần) được nhập từ số liệu "
                   f"lịch sử (treem import-history), không qua biểu mẫu.")
    if units > UNIT_TABLE_LIMIT:
        footer = (f"Bảng đơn vị nêu {UNIT_TABLE_LIMIT}/{units} đơn vị, các đơn vị chưa gửi hoặc có lỗi trước. "
                  + footer)
    return footer


def _topic(f) -> str:
    """Which part of the report a problem concerns, for a reader of the report (the cell is in
    the validation workbook): "CT4", "Số liệu chung", "Kinh phí", "Báo cáo"; "" for the file."""
    if f is None:
        return ""
    if f.chi_tieu:
        return f"CT{f.chi_tieu}"
    return {"budget": "Kinh phí", "narrative": "Báo cáo"}.get(f.section, "Số liệu chung")


def _vn_date(iso: str) -> str:
    if not iso:
        return ""
    try:
        return Date.fromisoformat(iso[:10]).strftime("%d/%m/%Y")
    except ValueError:
        return iso


def names_text(items: list[str]) -> str:
    more = f" và {len(items) - NAMES_LIMIT} đơn vị khác" if len(items) > NAMES_LIMIT else ""
    return ", ".join(items[:NAMES_LIMIT]) + more


def quality_context(quality: dict | None, result: MergeResult, rows: list[IndicatorResult], tts: dict, cw: str) -> dict:
    q = dict(quality or {})
    names = result.unit_names or {}
    communes = [u for u, t in (result.unit_types or {}).items() if t in COMMUNE_TYPES]
    silent = set((result.coverage or {}).get("missing") or []) & set(communes)
    gaps = []
    if silent:
        gaps.append(f"{len(silent)} {cw} chưa có báo cáo hợp lệ nên thiếu số liệu ở mọi chỉ tiêu: "
                    f"{names_text([names.get(u, u) for u in communes if u in silent])}.")
    for new, olds in sorted((result.carry_gaps or {}).items()):
        gaps.append(f"{names.get(new, new)}: không so sánh với năm trước vì đơn vị cũ chưa báo cáo năm "
                    f"{int(result.year) - 1}: {names_text([names.get(o, o) for o in olds])}.")
    for r in rows:
        if r.value is None:
            gaps.append(f"Chỉ tiêu {tts[r.code]} ({lower_first(r.name)}): {NO_DATA}.")
        elif r.partial and r.source != "office":
            extra = [names.get(u, u) for u in r.missing_units or [] if u not in silent]
            if extra:
                gaps.append(f"Chỉ tiêu {tts[r.code]}: có số liệu của {r.units_reported}/{r.units_expected} "
                            f"{cw}; ngoài các đơn vị trên, còn thiếu: {names_text(extra)}.")
    doubts = []
    for d in result.office_differences or []:
        row = next((r for r in rows if r.code == d.get("indicator")), None)
        if row is None:
            continue
        communes = row.communes_value if row.communes_value is not None else row.value
        beside = row.target_numbers + [x for x in (communes, d["value"]) if x is not None]
        doubts.append(f"Chỉ tiêu {tts[row.code]}: {row.lead_office_name or d.get('unit')} báo cáo "
                      f"{vn_number_apart(d['value'], beside)}, tổng hợp từ các {cw} là "
                      f"{vn_number_apart(communes, beside) if communes is not None else NO_DATA}"
                      f" (chênh lệch {vn_number_apart(abs(d.get('difference') or 0), 0)}).")
    if q.get("problems_total"):
        doubts.append(f"Còn {q['problems_total']} lỗi, cảnh báo trong các báo cáo đang dùng (lỗi phải sửa, cảnh báo "
                      f"cần đơn vị giải thích), " + ("tổng hợp theo loại ở bảng dưới." if q.get("kinds") else
                                                   "liệt kê ở bảng dưới."))
    if not doubts:
        doubts.append("Không có số liệu nghi vấn hoặc vấn đề còn tồn tại.")
    q.setdefault("summary", "Chưa có thông tin thu nhận báo cáo.")
    q.setdefault("units", [])
    q.setdefault("problems", [])
    q.setdefault("kinds", [])
    q.setdefault("footer", "")
    q["gaps"], q["doubts"] = gaps, doubts
    return q


