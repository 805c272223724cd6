"""The `treem` command: a thin layer that builds the workspace, calls one stage function and
prints its result. All work lives in the stage modules. This module holds what every command
shares (the group, Vietnamese help and errors, the workspace, year and --json options, progress
bars, the entry point); the commands themselves are in pipeline/commands/, by the part of the
year they serve."""

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

from pipeline.base.errors import TreemError
from pipeline.config.workspace import Workspace

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


# Last, once everything they use is defined: the commands register themselves on the group.
from pipeline.commands import analysis, cycle, officer  # noqa: E402,F401
