"""The `treem` command: a thin layer that builds the workspace, calls one stage function and
prints its result. All work lives in the stage modules."""

from __future__ import annotations

import functools
import json
import os
import re
import sys
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import click

from pipeline.catalogue import indicator_label, target_text
from pipeline.errors import TreemError
from pipeline.submissions import Status
from pipeline.text import vn_number, vn_number_apart
from pipeline.workspace import Workspace, init_workspace

HEADINGS = {"Options": "Tùy chọn", "Commands": "Các lệnh", "Arguments": "Tham số"}


class VietnameseHelp(click.HelpFormatter):
    """click's help chrome in Vietnamese: the officer reads --help too."""

    def write_usage(self, prog, args="", prefix=None):
        super().write_usage(prog, args.replace("[OPTIONS]", "[TÙY CHỌN]").replace("COMMAND", "LỆNH")
                            .replace("[ARGS]...", "[THAM SỐ]..."), prefix="Cách dùng: ")

    def write_heading(self, heading):
        super().write_heading(HEADINGS.get(heading, heading))

    def write_dl(self, rows, *args, **kwargs):
        super().write_dl([(term, text.replace("[required]", "[bắt buộc]")) for term, text in rows], *args, **kwargs)


click.Context.formatter_class = VietnameseHelp


class HelpInVietnamese:
    def get_help_option(self, ctx):
        opt = super().get_help_option(ctx)
        if opt is not None:
            opt.help = "Xem hướng dẫn này."
        return opt


class Command(HelpInVietnamese, click.Command):
    pass


class Group(HelpInVietnamese, click.Group):
    command_class = Command


CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
# click's own messages for a mistyped command line, said in Vietnamese.
USAGE_ERRORS = [
    (r"No such option:? '?([^'\s.]+)'?\.?(?: Did you mean '?([^'?]+)'?\?)?", lambda m: f"Không có tùy chọn {m[1]}"
     + (f" (có phải {m[2]}?)" if m[2] else "")),
    (r"No such command '([^']+)'\.", lambda m: f"Không có lệnh «{m[1]}»"),
    (r"Missing argument '([^']+)'\.", lambda m: f"Thiếu tham số {m[1]}"),
    (r"Missing option '([^']+)'\.", lambda m: f"Thiếu tùy chọn {m[1]}"),
    (r"Option '([^']+)' requires an argument\.", lambda m: f"Tùy chọn {m[1]} cần một giá trị"),
    (r"Invalid value for '([^']+)'(?: / '[^']+')*: (.*)", lambda m: f"Giá trị của {m[1]} không hợp lệ: "
     + re.sub(r"'(.*)' is not a valid (integer|date)\.?", r"«\1» không đúng dạng", m[2])),
]


class Failure(click.ClickException):
    """A clear reason, printed in Vietnamese as "Lỗi: …" (click would say "Error:")."""

    def show(self, file=None) -> None:
        click.echo(f"Lỗi: {self.format_message()}", file=file or sys.stderr)


def _this_year() -> int:
    return date.today().year


NEEDS_WORKSPACE = {"collect_cmd", "status_cmd", "merge_cmd", "report_cmd", "run_cmd", "accept_cmd", "received_cmd",
                   "export_cmd"}


def workspace_options(f):
    """--workspace and --json, shared by every command."""

    @click.option("--workspace", "-w", "workspace", type=click.Path(file_okay=False, path_type=Path),
                  default=".", metavar="THƯ_MỤC",
                  help="Thư mục làm việc (chứa input/, output/, treem.sqlite); mặc định: thư mục hiện tại.")
    @click.option("--json", "as_json", is_flag=True, help="In kết quả dạng JSON (cho máy đọc) ra stdout.")
    @functools.wraps(f)
    def wrapper(*args, workspace, as_json, **kwargs):
        try:
            ws = Workspace(workspace)
            if f.__name__ in NEEDS_WORKSPACE:
                ws.require()
            if f.__name__ != "check_settings_cmd":
                ws.settings  # noqa: B018 — every problem of settings.yaml at once, before any work
            return f(*args, ws=ws, as_json=as_json, **kwargs)
        except TreemError as e:
            raise Failure(str(e)) from e
        except BrokenPipeError:
            raise  # the reader of our output went away (`| head`): main() ends quietly
        except PermissionError as e:
            # Typically an output still open in Excel or Word on Windows.
            raise Failure(f"Không ghi được {e.filename or 'tệp'}: tệp đang mở trong Excel/Word hoặc không có quyền "
                          "ghi; đóng tệp rồi chạy lại.") from e
        except OSError as e:
            raise Failure(f"Lỗi đọc/ghi tệp {e.filename or ''}: {e.strerror or e}.") from e

    return wrapper


def _check_year(ctx, param, value):
    if value is not None and not 2021 <= value <= 2100:
        raise click.BadParameter(f"năm {value} nằm ngoài giai đoạn của Chương trình (2021-2030) và các năm sau.")
    return value


def force_option(f):
    return click.option("--force", is_flag=True,
                        help="Ghi đè cả tệp kết quả đã được sửa tay (bản đã sửa được lưu vào output/NĂM/cu/).")(f)


def _print_output_messages(messages) -> None:
    """The output guard's lines: an edited file kept, a backup made, a stale PDF removed."""
    for m in messages or []:
        click.echo(f"  * {m}")


def year_option(f):
    return click.option("--year", "-y", type=int, default=_this_year, metavar="NĂM", callback=_check_year,
                        help="Năm báo cáo; mặc định: năm nay.")(f)


def emit(data: dict) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _quiet_broken_pipe() -> None:
    """`treem status | head` closes the pipe early: that is not an error to report."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        pass
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


@contextmanager
def progress(label: str, total: int, quiet: bool):
    """A progress bar on stderr (never on stdout, which --json keeps clean)."""
    if quiet or total == 0:
        yield lambda n=1: None
        return
    with click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True) as bar:
        yield bar.update


@click.group(context_settings=CONTEXT, cls=Group)
@click.version_option(package_name="treem", message="treem %(version)s", help="Xem phiên bản.")
def cli():
    """treem: tạo biểu mẫu, thu nhận, kiểm tra, tổng hợp và viết báo cáo Chương trình hành
    động vì trẻ em.

    \b
    Chu trình hằng năm:
      treem init ./ctxhtre                 tạo thư mục làm việc
      treem generate --year 2024           tháng 10: tạo biểu mẫu gửi các đơn vị
      treem collect --year 2024            sau 20/11: thu nhận, kiểm tra các tệp gửi về
      treem status --year 2024             ai đã gửi, ai còn thiếu
      treem merge --year 2024              tổng hợp số liệu toàn huyện
      treem report --year 2024             viết báo cáo Word gửi tỉnh
      treem export --years 2021-2025       xuất số liệu mọi năm (Excel, CSV) để phân tích
      treem demo                           chạy thử toàn bộ trên số liệu mẫu
      treem ui                             mở bàn làm việc trên trình duyệt
    """


@cli.command("init", context_settings=CONTEXT)
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


@cli.command("catalogue", context_settings=CONTEXT)
@workspace_options
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
        t = "; ".join(f"{y}: {target_text(ind.targets[y]) or '-'}" for y in ("2025", "2030"))
        click.echo(f"  CT{ind.chi_tieu:<3} {ind.code:<6} {ind.name} [{ind.unit}] ({t})")
        if ind.plan:
            click.echo(f"{'':12}Kế hoạch: «{ind.plan}»")


@cli.command("units", context_settings=CONTEXT)
@year_option
@workspace_options
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


@cli.command("generate", context_settings=CONTEXT)
@year_option
@click.option("--unit", "-u", "units", multiple=True, metavar="MÃ",
              help="Chỉ tạo cho đơn vị có mã này (lặp lại được).")
@force_option
@workspace_options
def generate_cmd(ws: Workspace, as_json: bool, year: int, units: tuple[str, ...], force: bool):
    """Tạo biểu mẫu Excel cho từng đơn vị và danh sách gửi (output/NĂM/bieu_mau/).

    \b
    Ví dụ:
      treem generate --year 2024
      treem generate --year 2024 --unit 15700 --unit P-YT
    """
    from pipeline.template import generate

    total = len(units) or len(ws.roster.for_year(year))
    with progress("Tạo biểu mẫu", total, as_json) as tick:
        result = generate(ws, year, list(units) or None, progress=tick, force=force)
    if as_json:
        emit(result.to_dict())
        return
    click.echo(f"Đã tạo {len(result.files)} biểu mẫu năm {year} trong {_rel(ws, result.files[0]['path'].parent)}")
    click.echo(f"Danh sách gửi (đơn vị, tệp, người liên hệ, hạn nộp): {_rel(ws, result.distribution_list)}")
    _print_output_messages(result.messages)
    for w in result.warnings:
        click.echo(f"  ! {w}")
    click.echo(f"Việc tiếp theo: gửi mỗi đơn vị tệp của mình; hạn gửi lại {ws.settings.deadline(year):%d/%m/%Y}. "
               f"Các tệp nhận về đặt vào {_rel(ws, ws.inbox(year))}/ rồi chạy: treem collect --year {year}")


@cli.command("collect", context_settings=CONTEXT)
@year_option
@click.option("--no-feedback", is_flag=True, help="Không tạo tệp phản hồi cho từng đơn vị.")
@force_option
@workspace_options
def collect_cmd(ws: Workspace, as_json: bool, year: int, no_feedback: bool, force: bool):
    """Thu nhận và kiểm tra các tệp trong input/NĂM/: ghi vào kho dữ liệu, lập báo cáo kiểm
    tra và tệp phản hồi (đánh dấu ô lỗi) cho từng đơn vị có lỗi. Thư mục nhận tệp không bị
    sửa, chuyển hay xóa; chạy lại nhiều lần không sao.

    \b
    Ví dụ:
      treem collect --year 2024
      treem collect --year 2024 --json > kiem_tra.json
    """
    from pipeline.collect import collect, scan_inbox

    files, _ = scan_inbox(ws.inbox(year), settle=False)  # only to size the progress bar
    with progress("Đọc và kiểm tra", len(files), as_json) as tick:
        result = collect(ws, year, progress=tick, feedback=not no_feedback, force=force)
    if as_json:
        emit(result.to_dict())
        return
    _print_collect(ws, result)


def _print_collect(ws: Workspace, result) -> None:
    for w in result.warnings:
        click.echo(f"  ! {w}")
    if not result.submissions and not result.skipped:
        click.echo(f"Chưa có tệp nào trong {_rel(ws, ws.inbox(result.year))}/: đặt các tệp các đơn vị gửi về vào đó "
                   f"(để nguyên tên, thư mục con cũng được) rồi chạy lại lệnh này.")
        return
    c = result.counts()
    click.echo(f"Năm {result.year}: {result.new_files} tệp mới. Tổng cộng: hợp lệ {c.get(Status.ACCEPTED, 0)}, "
               f"hợp lệ có cảnh báo {c.get(Status.ACCEPTED_WITH_WARNINGS, 0)}, có lỗi {c.get(Status.REJECTED, 0)}, "
               f"bản cũ đã thay {c.get(Status.SUPERSEDED, 0)}, đơn vị chưa gửi {c[Status.MISSING]}.")
    names = {u.code: u.name for u in ws.roster.for_year(result.year)}
    for s in result.submissions:
        if s["status"] != Status.REJECTED:
            continue
        who = names.get(s["unit"], s["unit"] or "không xác định")
        errors = [i for i in s["issues"] if i["severity"] == "error"] or s["issues"]
        first = errors[0]["message"] if errors else ""
        more = f" (+{len(s['issues']) - 1} vấn đề khác)" if len(s["issues"]) > 1 else ""
        click.echo(f"  ✗ {s['path']} [{who}]: {first}{more}")
    for k in result.skipped:
        click.echo(f"  - bỏ qua {k['path']}: {k['message']}")
    if result.missing:
        shown = ", ".join(names.get(c, c) for c in result.missing[:15])
        more = f" và {len(result.missing) - 15} đơn vị khác" if len(result.missing) > 15 else ""
        click.echo(f"Chưa gửi ({len(result.missing)}): {shown}{more}")
    out = result.outputs
    click.echo(f"Báo cáo kiểm tra: {_rel(ws, out['validation_report'])}")
    if out.get("feedback"):
        click.echo(f"Tệp phản hồi gửi lại đơn vị ({len(out['feedback'])}), trong {_rel(ws, out['feedback'][0].parent)}/:")
        with_errors = {s["unit"] for s in result.submissions if s["status"] == Status.REJECTED and s["unit"]}

        def has_errors(p: Path) -> bool:
            return any(p.name.startswith(f"{result.year}_{u.lower()}_") for u in with_errors)

        listed = sorted(out["feedback"], key=lambda p: (not has_errors(p), p.name))
        for p in listed[:12]:
            click.echo(f"  {p.name}  ({'có lỗi, phải gửi lại' if has_errors(p) else 'chỉ có cảnh báo'})")
        if len(listed) > 12:
            click.echo(f"  và {len(listed) - 12} tệp khác")
    _print_output_messages(out.get("messages"))
    click.echo(f"Việc tiếp theo: gửi tệp phản hồi cho các đơn vị có lỗi; xem ai còn thiếu: treem status --year {result.year}; "
               f"tổng hợp: treem merge --year {result.year}")


@cli.command("check-settings", context_settings=CONTEXT)
@workspace_options
def check_settings_cmd(ws: Workspace, as_json: bool):
    """Kiểm tra settings.yaml của thư mục làm việc: báo mọi lỗi một lần (dòng nào, sửa thế
    nào). Đọc được tệp Notepad lưu dạng UTF-8, Unicode (UTF-16) hay ANSI (Windows-1258).

    \b
    Ví dụ:
      treem check-settings
      treem check-settings --workspace D:\\ctxhtre --json
    """
    from pipeline.settings import check_settings

    path = ws.root / "settings.yaml"
    problems = check_settings(path) if path.exists() else []
    if as_json:
        emit({"path": str(path), "exists": path.exists(), "problems": [p.to_dict() for p in problems]})
    elif not path.exists():
        click.echo(f"Không có {_rel(ws, path)}: dùng thông số mặc định (tạo bản sao để sửa: treem init THƯ_MỤC).")
    elif not problems:
        click.echo(f"{_rel(ws, path)}: không có lỗi.")
    else:
        click.echo(f"{_rel(ws, path)}: {len(problems)} lỗi cần sửa:")
        for p in problems:
            click.echo(f"  - {p}")
    if problems:
        raise SystemExit(1)


@cli.command("status", context_settings=CONTEXT)
@year_option
@workspace_options
def status_cmd(ws: Workspace, as_json: bool, year: int):
    """Tình hình nộp báo cáo: phải nộp, đã nhận, hợp lệ, đúng hạn, còn thiếu, số ngày còn
    lại, và người liên hệ của các đơn vị cần đôn đốc.

    \b
    Ví dụ:
      treem status --year 2024
    """
    from pipeline.submissions import status

    st = status(ws, year)
    if as_json:
        emit(st)
        return
    left = st["days_left"]
    when = f"còn {left} ngày" if left > 0 else ("hôm nay là hạn cuối" if left == 0 else f"đã quá hạn {-left} ngày")
    click.echo(f"Năm {year} - hạn nộp {date.fromisoformat(st['deadline']):%d/%m/%Y} ({when}).")
    click.echo(f"Phải nộp {st['expected']}, đã nhận {st['received']}, hợp lệ {st['valid']} "
               f"({vn_number(st['reporting_rate'], 1)}%), có lỗi {st['with_errors']}, đúng hạn {st['on_time']}, muộn {st['late']}, "
               f"chưa gửi {len(st['missing'])}.")
    if st["chase"]:
        click.echo("Cần đôn đốc:")
        for c in st["chase"]:
            contact = ", ".join(x for x in (c["person"], c["phone"], c["email"]) if x) or "chưa có người liên hệ trong roster.yaml"
            click.echo(f"  {c['unit']:<9} {c['name']:<40} {c['status_label']:<22} {contact}")
    if st["decisions"]:
        click.echo("Quyết định đã ghi:")
        for d in st["decisions"]:
            click.echo(f"  - {d['message']}")


@cli.command("accept", context_settings=CONTEXT)
@click.argument("unit", metavar="ĐƠN_VỊ")
@year_option
@click.option("--note", default="", metavar="LÝ_DO", help="Lý do (bắt buộc khi chấp nhận), lưu cùng quyết định.")
@click.option("--undo", is_flag=True, help="Bỏ quyết định chấp nhận trước đó.")
@workspace_options
def accept_cmd(ws: Workspace, as_json: bool, unit: str, year: int, note: str, undo: bool):
    """Chấp nhận báo cáo mới nhất của một đơn vị dù còn lỗi: số liệu được tổng hợp, trừ các
    số có lỗi. Quyết định được ghi vào nhật ký (lúc nào, lý do) và hiện trong status, báo cáo
    kiểm tra và Phụ lục III; chạy lại collect không mất. Sau đó chạy lại merge và report.

    \b
    Ví dụ:
      treem accept 15682 --year 2024 --note "Xã xác nhận qua điện thoại, chỉ sai một ô"
      treem accept 15682 --year 2024 --undo --note "Xã sẽ gửi lại"
    """
    from pipeline.decisions import accept, undo_accept

    d = undo_accept(ws, year, unit, note) if undo else accept(ws, year, unit, note)
    if as_json:
        emit(d.to_dict())
        return
    click.echo(d.message)
    click.echo(f"Việc tiếp theo: treem merge --year {year}; treem report --year {year}")


def _received_date(ctx, param, value):
    from pipeline.decisions import DecisionError, received_date

    try:
        return received_date(value)
    except DecisionError as e:
        raise click.BadParameter(str(e)) from e


@cli.command("received", context_settings=CONTEXT)
@click.argument("file", metavar="TỆP")
@year_option
@click.option("--date", "when", required=True, callback=_received_date, metavar="NGÀY/THÁNG/NĂM",
              help="Ngày thật sự nhận tệp, ví dụ 18/11/2024.")
@click.option("--note", default="", metavar="GHI_CHÚ", help="Ghi chú lưu cùng quyết định, ví dụ «nhận qua Zalo».")
@workspace_options
def received_cmd(ws: Workspace, as_json: bool, file: str, year: int, when, note: str):
    """Sửa ngày nhận một tệp trong input/NĂM/ (tệp tải từ Zalo hay thư điện tử mang ngày tải
    về, không phải ngày nhận). Đúng hạn / muộn được tính lại; quyết định ghi vào nhật ký và
    không mất khi chạy lại collect.

    \b
    Ví dụ:
      treem received 2024_15703_xa-dan-ly.xlsx --year 2024 --date 18/11/2024 --note "nhận qua Zalo"
    """
    from pipeline.decisions import set_received

    d = set_received(ws, year, file, when, note)
    if as_json:
        emit(d.to_dict())
        return
    click.echo(d.message)
    click.echo(f"Việc tiếp theo: treem collect --year {year} (cập nhật báo cáo kiểm tra); treem report --year {year}")


@cli.command("import-history", context_settings=CONTEXT)
@click.argument("file", metavar="TỆP.xlsx", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--template", "template_out", metavar="TỆP_MẪU.xlsx", type=click.Path(dir_okay=False, path_type=Path),
              help="Tạo tệp mẫu để điền số liệu các năm trước (mỗi xã, mỗi năm một dòng; HUYEN: toàn huyện).")
@workspace_options
def import_history_cmd(ws: Workspace, as_json: bool, file: Path | None, template_out: Path | None):
    """Nhập số liệu các năm trước khi dùng treem (ví dụ 2021-2023), theo từng xã hoặc toàn
    huyện, từ tệp mẫu do lệnh này tạo. Số liệu được kiểm tra như biểu mẫu, ghi nhật ký,
    đánh dấu «nhập từ lịch sử», rồi các năm đó được tổng hợp lại.

    \b
    Ví dụ:
      treem import-history --template so_lieu_cac_nam_truoc.xlsx
      treem import-history so_lieu_cac_nam_truoc.xlsx
    """
    from pipeline.import_history import import_history, write_template

    if template_out is not None:
        out = write_template(ws, template_out)
        if as_json:
            emit({"template": str(out)})
            return
        click.echo(f"Đã tạo tệp mẫu {out}: điền số liệu vào trang «Số liệu» rồi chạy: treem import-history {out.name}")
        return
    if file is None:
        raise click.UsageError("thiếu tên tệp; tạo tệp mẫu trước: treem import-history --template TỆP.xlsx")
    ws.require()
    result = import_history(ws, file)
    if as_json:
        emit(result.to_dict())
        return
    ok = [s for s in result.stored if s["status"] != Status.REJECTED]
    click.echo(f"{file.name}: {result.rows} dòng có số liệu; đã nhập {len(ok)} (đơn vị, năm), có lỗi không nhập "
               f"{len(result.stored) - len(ok)}, bỏ qua {len(result.skipped)}.")
    for s in result.stored:
        for i in s["issues"]:
            if i["severity"] == "error":
                click.echo(f"  ✗ {s['year']} {s['unit']} (dòng {s['row']}): {i['message']}")
    for k in result.skipped:
        click.echo(f"  - {k['message']}")
    if result.merged:
        click.echo(f"Đã tổng hợp lại các năm: {', '.join(str(y) for y in result.merged)}.")


@cli.command("run", context_settings=CONTEXT)
@year_option
@click.option("--pdf", is_flag=True, help="Xuất thêm báo cáo PDF (cần LibreOffice).")
@force_option
@workspace_options
def run_cmd(ws: Workspace, as_json: bool, year: int, pdf: bool, force: bool):
    """Chạy liền các bước sau hạn nộp trên thư mục nhận tệp thật: thu nhận và kiểm tra
    (collect), tổng hợp (merge), viết báo cáo (report).

    \b
    Ví dụ:
      treem run --year 2024
      treem run --year 2024 --workspace D:\\ctxhtre --pdf
    """
    from pipeline.collect import collect, scan_inbox
    from pipeline.merge import json_summary, merge
    from pipeline.report import report

    files, _ = scan_inbox(ws.inbox(year), settle=False)  # only to size the progress bar
    with progress("Đọc và kiểm tra", len(files), as_json) as tick:
        collected = collect(ws, year, progress=tick, force=force)
    merged = merge(ws, year, force=force)
    written = report(ws, year, pdf=pdf, force=force)
    if as_json:
        emit({"year": year, "collect": collected.to_dict(), "merge": json_summary(merged), "report": written})
        return
    _print_collect(ws, collected)
    click.echo("")
    _print_merge(ws, merged)
    click.echo("")
    _print_report(ws, written)


@cli.command("demo", context_settings=CONTEXT)
@click.option("--year", "-y", type=int, default=2024, metavar="NĂM", callback=_check_year,
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
    from pipeline.merge import json_summary

    say = (lambda msg: None) if as_json else (lambda msg: click.echo(f"… {msg}", err=True))
    try:
        result = run_demo(workspace, year, progress=say)
    except TreemError as e:
        raise Failure(str(e)) from e
    ws = Workspace(result.workspace)
    if as_json:
        emit({"workspace": str(result.workspace), "year": year, "history_years": result.history_years,
              "mishaps": result.mishaps, "collect": result.collect.to_dict(), "merge": json_summary(result.merge),
              "report": result.report})
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


def _print_report(ws: Workspace, written: dict) -> None:
    click.echo(f"Báo cáo Word: {_rel(ws, written['docx'])}" + (f"; PDF: {_rel(ws, written['pdf'])}"
                                                                 if written.get("pdf") else ""))
    for w in written.get("warnings", []):
        click.echo(f"  ! {w}")
    _print_output_messages(written.get("messages"))
    click.echo("Việc tiếp theo: mở báo cáo bằng Word, sửa lời văn, ghi số và ngày văn bản, trình lãnh đạo ký.")


@cli.command("merge", context_settings=CONTEXT)
@year_option
@force_option
@workspace_options
def merge_cmd(ws: Workspace, as_json: bool, year: int, force: bool):
    """Tổng hợp số liệu toàn huyện của 24 chỉ tiêu từ các báo cáo hợp lệ, đánh giá so với
    mục tiêu 2025 và 2030; ghi bảng tổng hợp Excel và tệp CSV (output/NĂM/).

    \b
    Ví dụ:
      treem merge --year 2024
      treem merge --year 2024 --json
    """
    from pipeline.merge import json_summary, merge

    with progress("Tổng hợp", 2, as_json) as tick:
        result = merge(ws, year, progress=tick, force=force)
    if as_json:
        emit(json_summary(result))
        return
    _print_merge(ws, result)


def _print_merge(ws: Workspace, result) -> None:
    from pipeline.merge import Verdict
    from pipeline.reporting.context import communes_word

    cov = result.coverage
    inds = result.indicators
    # The same rule as the report: each indicator against its next target (2025, or 2030 for
    # those the plan sets only for 2030).
    judged = [r.verdict for r in inds if r.reference_year]
    click.echo(f"Năm {result.year}: số liệu của {cov['communes_reported']}/{cov['communes_expected']} "
               f"{communes_word(result.unit_types)}. "
               f"So với mục tiêu: đạt {judged.count(Verdict.MET)}, chưa đạt {judged.count(Verdict.NOT_MET)}, chưa đủ "
               f"số liệu để đánh giá {judged.count(Verdict.UNDECIDED)}, chưa có số liệu {judged.count(Verdict.NO_DATA)} "
               f"(trên {len(inds)} nội dung của {len({r.chi_tieu for r in inds})} chỉ tiêu).")
    for r in inds:
        t25 = r.targets["2025"] if isinstance(r.targets["2025"], (int, float)) else None
        value = ("chưa có số liệu" if r.value is None
                 else f"{vn_number_apart(r.value, t25 if t25 is not None else r.targets['2030'])} {r.unit}")
        flag = " [số liệu chưa đủ đơn vị]" if r.partial else ""
        click.echo(f"  {indicator_label(r.code):<13} {value:<22} 2025: {r.verdict_for('2025').label:<27} "
                   f"2030: {r.verdict_for('2030').label:<27}{flag}")
    by_code = {r.code: r for r in inds}
    for d in result.office_differences:
        r = by_code[d["indicator"]]
        office = result.unit_names.get(d["unit"], d["unit"])
        communes = r.communes_value if r.communes_value is not None else r.value
        click.echo(f"  ! {indicator_label(r.code)}: {office} báo {vn_number(d['value'], 2)} {r.unit}, tổng các xã "
                   f"{vn_number(communes, 2)} {r.unit}; đề nghị hai bên đối chiếu.")
    out = result.outputs
    click.echo(f"Bảng tổng hợp: {_rel(ws, out['workbook'])}; dữ liệu CSV: {_rel(ws, out['csv'])}")
    _print_output_messages(result.output_messages)
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


@cli.command("report", context_settings=CONTEXT)
@year_option
@click.option("--pdf", is_flag=True, help="Xuất thêm bản PDF qua LibreOffice (báo lỗi nếu chưa cài).")
@click.option("--date", "report_date", callback=_report_date, metavar="YYYY-MM-DD",
              help="Ngày ghi trên báo cáo; bỏ trống thì để dấu chấm và ghi tay khi ký.")
@force_option
@workspace_options
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
    from pipeline.report import report

    written = report(ws, year, pdf=pdf, date=report_date, force=force)
    if as_json:
        emit(written)
        return
    _print_report(ws, written)
    if written.get("charts"):
        click.echo(f"Biểu đồ (ảnh PNG, dùng lại được): {_rel(ws, Path(written['charts'][0]).parent)}/")


@cli.command("export", context_settings=CONTEXT)
@click.option("--years", "years", metavar="NĂM-NĂM",
              help="Các năm cần xuất: 2021-2025, 2024 hoặc 2021,2023; mặc định: mọi năm đã có số liệu.")
@click.option("--format", "fmt", default="xlsx", metavar="xlsx|csv",
              help="xlsx (mặc định): một tệp Excel, mỗi bảng một trang; csv: mỗi bảng một tệp CSV (UTF-8).")
@click.option("--out", "out", type=click.Path(path_type=Path), metavar="TỆP",
              help="Nơi ghi: tệp .xlsx, hoặc thư mục chứa các tệp CSV; mặc định: output/xuat_du_lieu_NĂM-NĂM.")
@workspace_options
def export_cmd(ws: Workspace, as_json: bool, years: str | None, fmt: str, out: Path | None):
    """Xuất số liệu mọi năm cho người phân tích (Excel pivot, Jupyter, R): chỉ tiêu toàn
    huyện, chỉ tiêu từng đơn vị (trang sẵn sàng cho PivotTable: đơn vị × chỉ tiêu × năm),
    số liệu từng đơn vị, tệp đã nhận, lỗi và cảnh báo.

    \b
    Ví dụ:
      treem export --years 2021-2025
      treem export --years 2021-2025 --format csv --out D:\\phan_tich
    """
    from pipeline.api import WorkspaceData
    from pipeline.export import export, parse_years

    result = export(WorkspaceData(ws), parse_years(years), fmt, out)
    if as_json:
        emit(result.to_dict())
        return
    span = f"{result.years[0]}-{result.years[-1]}" if len(result.years) > 1 else str(result.years[0])
    tables = "; ".join(f"{result.sheets[k]} {vn_number(n)} dòng" for k, n in result.rows.items())
    click.echo(f"Đã xuất số liệu {'các năm' if len(result.years) > 1 else 'năm'} {span}: {tables}.")
    for p in result.outputs:
        click.echo(f"  {_rel(ws, p)}")


@cli.command("ui", context_settings=CONTEXT)
@click.option("--port", "-p", type=click.IntRange(0, 65535), default=8765, metavar="CỔNG",
              help="Cổng của trang (mặc định 8765; 0: tự chọn một cổng trống).")
@click.option("--host", default="127.0.0.1", metavar="ĐỊA_CHỈ",
              help="Địa chỉ nghe; mặc định 127.0.0.1 (chỉ máy này). Địa chỉ khác mở trang cho cả mạng (có cảnh báo).")
@click.option("--no-browser", is_flag=True, help="Không tự mở trình duyệt.")
@workspace_options
def ui_cmd(ws: Workspace, as_json: bool, port: int, host: str, no_browser: bool):
    """Mở bàn làm việc trên trình duyệt: cả năm báo cáo trong một trang web trên máy này
    (tạo biểu mẫu, nhận tệp, đơn vị, tổng hợp, báo cáo, cài đặt). Dòng đầu tiên in ra là địa
    chỉ trang (kèm mã truy cập); Ctrl+C để tắt.

    \b
    Ví dụ:
      treem ui
      treem ui --workspace D:\\ctxhtre --port 8800 --no-browser
    """
    from pipeline.ui.server import serve

    def say(url: str) -> None:
        click.echo(json.dumps({"url": url, "workspace": str(ws.root)}, ensure_ascii=False) if as_json else url)
        sys.stdout.flush()

    serve(ws.root, host=host, port=port, open_browser=not no_browser, say=say,
          warn=lambda m: click.echo(m, err=True))
    click.echo("Đã tắt bàn làm việc.", err=True)


def _rel(ws: Workspace, p) -> str:
    try:
        return str(Path(p).resolve().relative_to(ws.root))
    except ValueError:
        return str(p)


def _utf8_streams() -> None:
    """Write UTF-8 whatever the console or redirection. On Windows, Python encodes redirected
    output in the ANSI code page (cp1252 and the like), which has no Vietnamese letters: a
    batch file, a scheduled task or `| more` would crash on the first «ă»."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            try:
                stream.reconfigure(encoding="utf-8", errors="replace")
            except (ValueError, OSError):
                pass  # already written to in another encoding, or not a real stream


def main():
    _utf8_streams()
    try:
        cli(prog_name="treem", standalone_mode=False)
    except click.UsageError as e:
        message = e.format_message()
        for pattern, say in USAGE_ERRORS:
            m = re.match(pattern, message)
            if m:
                message = say(m)
                break
        where = f"treem {e.ctx.command_path.split(' ', 1)[1]} --help" if e.ctx and " " in e.ctx.command_path \
            else "treem --help"
        click.echo(f"Lỗi: {message.rstrip('.')}. Xem: {where}", err=True)
        sys.exit(2)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except click.Abort:
        click.echo("Đã dừng.", err=True)
        sys.exit(1)
    except BrokenPipeError:
        _quiet_broken_pipe()


if __name__ == "__main__":
    main()
