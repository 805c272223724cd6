"""The commands of the annual cycle: set up, forms, collecting, status, merging, the report,
the whole run and the demo."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from pipeline.config.catalogue import indicator_label
from pipeline.commands.common import (Failure, TreemCommand, check_year, emit, force_option, print_output_messages,
                                     progress, relative_path, workspace_options, year_option)
from pipeline.base.errors import TreemError
from pipeline.base.problems import Severity
from pipeline.store.status import Status
from pipeline.base.text import vn_number, vn_number_apart
from pipeline.config.workspace import Workspace, init_workspace

if TYPE_CHECKING:  # the stages are imported when a command runs: `treem --help` stays quick
    from pipeline.collect.result import CollectResult
    from pipeline.reporting.report import ReportResult


@click.command("init", cls=TreemCommand)
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), metavar="THƯ_MỤC")
@click.option("--json", "as_json", is_flag=True, help="In kết quả dạng JSON.")
def init_cmd(directory: Path, as_json: bool):
    """Tạo thư mục làm việc với bản sao danh mục chỉ tiêu, danh sách đơn vị, thông số và mẫu
    báo cáo để sửa.

    \b
    Ví dụ:
      treem init ./ctxhtre
    """
    try:
        ws, written = init_workspace(directory)
    except (OSError, TreemError) as e:
        raise Failure(f"Không tạo được thư mục làm việc {directory}: {e}") from e
    if as_json:
        emit({"workspace": str(ws.root), "written": [str(p) for p in written]})
        return
    click.echo(f"Đã tạo thư mục làm việc {ws.root}")
    for p in written:
        click.echo(f"  {p.relative_to(ws.root)}")
    click.echo("Sửa settings.yaml (người ký, nơi nhận, hạn nộp) và roster.yaml (người liên hệ) trước khi tạo biểu mẫu.")


@click.command("catalogue", cls=TreemCommand)
@workspace_options()
def catalogue_cmd(ws: Workspace, as_json: bool):
    """Xem danh mục số liệu, chỉ tiêu và quy tắc kiểm tra đang dùng.

    \b
    Ví dụ:
      treem catalogue
      treem catalogue --json > danh_muc.json
    """
    cat = ws.catalogue
    if as_json:
        emit(cat.to_dict())
        return
    click.echo(f"Danh mục phiên bản {cat.version} (mã {cat.hash}): {len(cat.fields)} số liệu, "
               f"{len(cat.indicators)} chỉ tiêu con của {len(cat.chi_tieu_numbers)} chỉ tiêu, {len(cat.rules)} quy tắc.")
    for ind in cat.indicators:
        t = "; ".join(f"{y}: {ind.target_text(y) or '-'}" for y in ("2025", "2030"))
        click.echo(f"  CT{ind.chi_tieu:<3} {ind.code:<6} {ind.name} [{ind.unit}] ({t})")
        if ind.plan:
            click.echo(f"{'':12}Kế hoạch: «{ind.plan}»")


@click.command("units", cls=TreemCommand)
@year_option
@workspace_options()
def units_cmd(ws: Workspace, as_json: bool, year: int):
    """Danh sách đơn vị báo cáo có hiệu lực trong năm (theo ngày hạn nộp).

    \b
    Ví dụ:
      treem units --year 2024
      treem units --year 2025 --json
    """
    units = ws.roster.for_year(year)
    if as_json:
        emit({"year": year, "units": [u.to_dict() for u in units]})
        return
    click.echo(f"Năm {year}: {len(units)} đơn vị")
    for u in units:
        click.echo(f"  {u.code:<9} {u.type_label:<18} {u.name}")


@click.command("generate", cls=TreemCommand)
@year_option
@click.option("--unit", "-u", "units", multiple=True, metavar="MÃ",
              help="Chỉ tạo cho đơn vị có mã này (lặp lại được).")
@force_option
@workspace_options()
def generate_cmd(ws: Workspace, as_json: bool, year: int, units: tuple[str, ...], force: bool):
    """Tạo biểu mẫu Excel cho từng đơn vị và danh sách gửi (output/NĂM/bieu_mau/).

    \b
    Ví dụ:
      treem generate --year 2024
      treem generate --year 2024 --unit 15700 --unit P-YT
    """
    from pipeline.forms.writer import generate

    total = len(units) or len(ws.roster.for_year(year))
    with progress("Tạo biểu mẫu", total, as_json) as tick:
        result = generate(ws, year, list(units) or None, progress=tick, force=force)
    if as_json:
        emit(result.to_dict())
        return
    folder = relative_path(ws, result.files[0].path.parent)
    click.echo(f"Đã tạo {len(result.files)} biểu mẫu năm {year} trong {folder}")
    click.echo(f"Danh sách gửi (đơn vị, tệp, người liên hệ, hạn nộp): {relative_path(ws, result.distribution_list)}")
    print_output_messages(result.messages)
    for w in result.warnings:
        click.echo(f"  ! {w}")
    click.echo(f"Việc tiếp theo: gửi mỗi đơn vị tệp của mình; hạn gửi lại {ws.settings.deadline(year):%d/%m/%Y}. "
               f"Các tệp nhận về đặt vào {relative_path(ws, ws.inbox(year))}/ rồi chạy: treem collect --year {year}")


@click.command("collect", cls=TreemCommand)
@year_option
@click.option("--no-feedback", is_flag=True, help="Không tạo tệp phản hồi cho từng đơn vị.")
@force_option
@workspace_options(existing=True)
def collect_cmd(ws: Workspace, as_json: bool, year: int, no_feedback: bool, force: bool):
    """Thu nhận và kiểm tra các tệp trong input/NĂM/: ghi vào kho dữ liệu, lập báo cáo kiểm
    tra và tệp phản hồi (đánh dấu ô lỗi) cho từng đơn vị có lỗi. Thư mục nhận tệp không bị
    sửa, chuyển hay xóa; chạy lại nhiều lần không sao.

    \b
    Ví dụ:
      treem collect --year 2024
      treem collect --year 2024 --json > kiem_tra.json
    """
    from pipeline.collect.run import collect, scan_inbox

    files, _ = scan_inbox(ws.inbox(year), settle=False)  # only to size the progress bar
    with progress("Đọc và kiểm tra", len(files), as_json) as tick:
        result = collect(ws, year, progress=tick, feedback=not no_feedback, force=force)
    if as_json:
        emit(result.to_dict())
        return
    _print_collect(ws, result)


def _print_collect(ws: Workspace, result: CollectResult) -> None:
    for w in result.warnings:
        click.echo(f"  ! {w}")
    if not result.submissions and not result.skipped:
        click.echo(f"Chưa có tệp nào trong {relative_path(ws, ws.inbox(result.year))}/: đặt các tệp các đơn vị gửi "
                   f"về vào đó (để nguyên tên, thư mục con cũng được) rồi chạy lại lệnh này.")
        return
    c = result.counts()
    click.echo(f"Năm {result.year}: {result.new_files} tệp mới. Tổng cộng: hợp lệ {c.get(Status.ACCEPTED, 0)}, "
               f"hợp lệ có cảnh báo {c.get(Status.ACCEPTED_WITH_WARNINGS, 0)}, có lỗi {c.get(Status.REJECTED, 0)}, "
               f"bản cũ đã thay {c.get(Status.SUPERSEDED, 0)}, đơn vị chưa gửi {c[Status.MISSING]}.")
    names = {u.code: u.name for u in ws.roster.for_year(result.year)}
    for s in result.submissions:
        if s.status is not Status.REJECTED:
            continue
        who = names.get(s.unit, s.unit or "không xác định")
        errors = [i for i in s.issues if i.severity is Severity.ERROR] or s.issues
        first = errors[0].message if errors else ""
        more = f" (+{len(s.issues) - 1} vấn đề khác)" if len(s.issues) > 1 else ""
        click.echo(f"  ✗ {s.path} [{who}]: {first}{more}")
    for k in result.skipped:
        click.echo(f"  - bỏ qua {k.path}: {k.message}")
    if result.missing:
        shown = ", ".join(names.get(c, c) for c in result.missing[:15])
        more = f" và {len(result.missing) - 15} đơn vị khác" if len(result.missing) > 15 else ""
        click.echo(f"Chưa gửi ({len(result.missing)}): {shown}{more}")
    out = result.outputs
    click.echo(f"Báo cáo kiểm tra: {relative_path(ws, out.validation_report)}")
    if out.feedback:
        click.echo(f"Tệp phản hồi gửi lại đơn vị ({len(out.feedback)}), "
                   f"trong {relative_path(ws, out.feedback[0].path.parent)}/:")
        # Those who must fix and resend first; the others have warnings to check.
        listed = sorted(out.feedback, key=lambda f: (f.status is not Status.REJECTED, f.path.name))
        for f in listed[:12]:
            said = {Status.REJECTED: "có lỗi, phải gửi lại",
                    Status.ACCEPTED_BY_OFFICER: "có lỗi, đã chấp nhận theo quyết định"}.get(f.status, "chỉ có cảnh báo")
            click.echo(f"  {f.path.name}  ({said})")
        if len(listed) > 12:
            click.echo(f"  và {len(listed) - 12} tệp khác")
    print_output_messages(out.messages)
    click.echo(f"Việc tiếp theo: gửi tệp phản hồi cho các đơn vị có lỗi; xem ai còn thiếu: treem status --year {result.year}; "
               f"tổng hợp: treem merge --year {result.year}")


@click.command("status", cls=TreemCommand)
@year_option
@workspace_options(existing=True)
def status_cmd(ws: Workspace, as_json: bool, year: int):
    """Tình hình nộp báo cáo: phải nộp, đã nhận, hợp lệ, đúng hạn, còn thiếu, số ngày còn
    lại, và người liên hệ của các đơn vị cần đôn đốc.

    \b
    Ví dụ:
      treem status --year 2024
    """
    from pipeline.store.submissions import status

    st = status(ws, year)
    if as_json:
        emit(st.to_dict())
        return
    left = st.days_left
    when = f"còn {left} ngày" if left > 0 else ("hôm nay là hạn cuối" if left == 0 else f"đã quá hạn {-left} ngày")
    click.echo(f"Năm {year} - hạn nộp {st.deadline:%d/%m/%Y} ({when}).")
    click.echo(f"Phải nộp {st.expected}, đã nhận {st.received}, hợp lệ {st.valid} "
               f"({vn_number(st.reporting_rate, 1)}%), có lỗi {st.with_errors}, đúng hạn {st.on_time}, muộn {st.late}, "
               f"chưa gửi {len(st.missing)}.")
    if st.chase:
        click.echo("Cần đôn đốc:")
        for r in st.chase:
            c = r.contact
            contact = ", ".join(x for x in (c.person, c.phone, c.email) if x) or "chưa có người liên hệ trong roster.yaml"
            click.echo(f"  {r.unit:<9} {r.name:<40} {r.status.label:<22} {contact}")
    if st.decisions:
        click.echo("Quyết định đã ghi:")
        for d in st.decisions:
            click.echo(f"  - {d.message}")


@click.command("run", cls=TreemCommand)
@year_option
@click.option("--pdf", is_flag=True, help="Xuất thêm báo cáo PDF (cần LibreOffice).")
@force_option
@workspace_options(existing=True)
def run_cmd(ws: Workspace, as_json: bool, year: int, pdf: bool, force: bool):
    """Chạy liền các bước sau hạn nộp trên thư mục nhận tệp thật: thu nhận và kiểm tra
    (collect), tổng hợp (merge), viết báo cáo (report).

    \b
    Ví dụ:
      treem run --year 2024
      treem run --year 2024 --workspace D:\\ctxhtre --pdf
    """
    from pipeline.collect.run import collect, scan_inbox
    from pipeline.merge.merger import json_summary, merge
    from pipeline.reporting.report import report

    files, _ = scan_inbox(ws.inbox(year), settle=False)  # only to size the progress bar
    with progress("Đọc và kiểm tra", len(files), as_json) as tick:
        collected = collect(ws, year, progress=tick, force=force)
    merged = merge(ws, year, force=force)
    written = report(ws, year, pdf=pdf, force=force)
    if as_json:
        emit({"year": year, "collect": collected.to_dict(), "merge": json_summary(merged), "report": written.to_dict()})
        return
    _print_collect(ws, collected)
    click.echo("")
    _print_merge(ws, merged)
    click.echo("")
    _print_report(ws, written)


@click.command("demo", cls=TreemCommand)
@click.option("--year", "-y", type=int, default=2024, metavar="NĂM", callback=check_year,
              help="Năm báo cáo của bản chạy thử (các năm trước được tạo sẵn làm số liệu lịch sử); mặc định 2024.")
@click.option("--workspace", "-w", "workspace", type=click.Path(file_okay=False, path_type=Path),
              default="treem-demo", metavar="THƯ_MỤC",
              help="Thư mục chạy thử (bị xóa và tạo lại); mặc định: treem-demo.")
@click.option("--json", "as_json", is_flag=True, help="In kết quả dạng JSON ra stdout.")
def demo_cmd(workspace: Path, as_json: bool, year: int):
    """Chạy thử cả chu trình một năm trên số liệu mẫu của huyện Triệu Sơn (khoảng 55.000 trẻ
    em): tạo biểu mẫu, các đơn vị điền (có cả lỗi thường gặp), thu nhận, kiểm tra, tổng hợp
    và viết báo cáo. Không đụng tới số liệu thật.

    \b
    Ví dụ:
      treem demo
      treem demo --year 2024 --workspace /tmp/thu
    """
    from pipeline.demo import run_demo
    from pipeline.merge.merger import json_summary

    say = (lambda msg: None) if as_json else (lambda msg: click.echo(f"… {msg}", err=True))
    try:
        result = run_demo(workspace, year, progress=say)
    except TreemError as e:
        raise Failure(str(e)) from e
    ws = Workspace(result.workspace)
    if as_json:
        emit({"workspace": str(result.workspace), "year": year, "history_years": result.history_years,
              "mishaps": result.mishaps, "collect": result.collect.to_dict(), "merge": json_summary(result.merge),
              "report": result.report.to_dict()})
        return
    click.echo(f"Thư mục chạy thử: {result.workspace}")
    click.echo(f"Số liệu lịch sử {result.history_years[0]}-{result.history_years[-1]} đã được thu nhận và tổng hợp."
               if result.history_years else "")
    click.echo(f"Năm {year}, những gì các đơn vị đã gửi về input/{year}/:")
    for m in result.mishaps:
        click.echo(f"  - {m}")
    click.echo("")
    _print_collect(ws, result.collect)
    click.echo("")
    _print_merge(ws, result.merge)
    click.echo("")
    _print_report(ws, result.report)


def _print_report(ws: Workspace, written: ReportResult) -> None:
    click.echo(f"Báo cáo Word: {relative_path(ws, written.docx)}"
               + (f"; PDF: {relative_path(ws, written.pdf)}" if written.pdf else ""))
    for w in written.warnings:
        click.echo(f"  ! {w}")
    print_output_messages(written.messages)
    click.echo("Việc tiếp theo: mở báo cáo bằng Word, sửa lời văn, ghi số và ngày văn bản, trình lãnh đạo ký.")


@click.command("merge", cls=TreemCommand)
@year_option
@force_option
@workspace_options(existing=True)
def merge_cmd(ws: Workspace, as_json: bool, year: int, force: bool):
    """Tổng hợp số liệu toàn huyện của 24 chỉ tiêu từ các báo cáo hợp lệ, đánh giá so với
    mục tiêu 2025 và 2030; ghi bảng tổng hợp Excel và tệp CSV (output/NĂM/).

    \b
    Ví dụ:
      treem merge --year 2024
      treem merge --year 2024 --json
    """
    from pipeline.merge.merger import json_summary, merge

    with progress("Tổng hợp", 2, as_json) as tick:
        result = merge(ws, year, progress=tick, force=force)
    if as_json:
        emit(json_summary(result))
        return
    _print_merge(ws, result)


def _print_merge(ws: Workspace, result) -> None:
    from pipeline.config.roster import communes_word

    cov = result.coverage
    inds = result.indicators
    # merge's own count: each indicator against its target of reference (2025, or 2030 for
    # those the plan sets only for 2030)
    counts = result.verdict_counts()
    click.echo(f"Năm {result.year}: số liệu của {cov['communes_reported']}/{cov['communes_expected']} "
               f"{communes_word(result.unit_types.values())}. "
               f"So với mục tiêu: đạt {len(counts.met)}, chưa đạt {len(counts.not_met)}, chưa đủ "
               f"số liệu để đánh giá {len(counts.undecided)}, chưa có số liệu {len(counts.no_data)} "
               f"(trên {len(inds)} nội dung của {len({r.chi_tieu for r in inds})} chỉ tiêu).")
    for r in inds:
        value = "chưa có số liệu" if r.value is None else f"{vn_number_apart(r.value, r.target_numbers)} {r.unit}"
        flag = " [số liệu chưa đủ đơn vị]" if r.partial else ""
        click.echo(f"  {indicator_label(r.code):<13} {value:<22} 2025: {r.verdict_for('2025').label:<27} "
                   f"2030: {r.verdict_for('2030').label:<27}{flag}")
    by_code = {r.code: r for r in inds}
    for d in result.office_differences:
        r = by_code[d["indicator"]]
        office = result.unit_names.get(d["unit"], d["unit"])
        communes = r.communes_value if r.communes_value is not None else r.value
        click.echo(f"  ! {indicator_label(r.code)}: {office} báo {vn_number_apart(d['value'], r.target_numbers)} "
                   f"{r.unit}, tổng các xã {vn_number_apart(communes, r.target_numbers)} {r.unit}; đề nghị hai bên "
                   f"đối chiếu.")
    out = result.outputs
    click.echo(f"Bảng tổng hợp: {relative_path(ws, out['workbook'])}; dữ liệu CSV: {relative_path(ws, out['csv'])}")
    print_output_messages(result.output_messages)
    click.echo(f"Việc tiếp theo: treem report --year {result.year}")


def _report_date(ctx, param, value):
    """--date as YYYY-MM-DD (or DD/MM/YYYY, as typed in Vietnam)."""
    from datetime import datetime

    if value is None:
        return None
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(value.strip(), fmt).date()
        except ValueError:
            continue
    raise click.BadParameter(f"ngày «{value}» không đúng dạng; ghi YYYY-MM-DD, ví dụ 2024-11-25.")


@click.command("report", cls=TreemCommand)
@year_option
@click.option("--pdf", is_flag=True, help="Xuất thêm bản PDF qua LibreOffice (báo lỗi nếu chưa cài).")
@click.option("--date", "report_date", callback=_report_date, metavar="YYYY-MM-DD",
              help="Ngày ghi trên báo cáo; bỏ trống thì để dấu chấm và ghi tay khi ký.")
@force_option
@workspace_options(existing=True)
def report_cmd(ws: Workspace, as_json: bool, year: int, pdf: bool, report_date, force: bool):
    """Viết báo cáo kết quả thực hiện Chương trình hành động vì trẻ em của năm gửi tỉnh
    (Word, thể thức Nghị định 30/2020/NĐ-CP) từ số liệu đã tổng hợp: output/NĂM/bao_cao_NĂM.docx,
    kèm phụ lục chỉ tiêu, số liệu từng xã, tình hình báo cáo và biểu đồ. Chạy treem merge trước.

    \b
    Ví dụ:
      treem report --year 2024
      treem report --year 2024 --date 2024-11-25 --pdf
      treem report --year 2025 --json
    """
    from pipeline.reporting.report import report

    written = report(ws, year, pdf=pdf, date=report_date, force=force)
    if as_json:
        emit(written.to_dict())
        return
    _print_report(ws, written)
    if written.charts:
        click.echo(f"Biểu đồ (ảnh PNG, dùng lại được): {relative_path(ws, written.charts[0].parent)}/")


# The commands of this module, registered on the group by pipeline.cli.
COMMANDS = (init_cmd, catalogue_cmd, units_cmd, generate_cmd, collect_cmd, status_cmd, merge_cmd, report_cmd, run_cmd,
            demo_cmd)
