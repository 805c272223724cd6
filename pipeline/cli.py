"""The `treem` command: the group, its commands and the entry point. All work lives in the stage
modules; the commands (pipeline/commands/, by the part of the year they serve) parse, call one
stage function and print its result, with what they share in pipeline/commands/common.py. This
module imports them and registers them on the group, never the reverse."""

from __future__ import annotations

import os
import sys
from gettext import ngettext

import click

from pipeline.commands import analysis, cycle, officer
from pipeline.commands.common import TreemContext, TreemGroup
from pipeline.commands.language import speak_vietnamese


@click.group(cls=TreemGroup)
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


for command in (*cycle.COMMANDS, *officer.COMMANDS, *analysis.COMMANDS):
    cli.add_command(command)


def _typed_name(param: click.Parameter) -> str:
    """A parameter as the officer types it: --date (the longest of --date/-d), or TỆP."""
    if isinstance(param, click.Option):
        return max(param.opts, key=len)
    return param.human_readable_name


def usage_message(error: click.UsageError) -> str:
    """click's message for a mistyped command line, in Vietnamese through the catalogue, with
    options and suggestions named as typed (--date), where click quotes them ('--date')."""
    if isinstance(error, click.BadParameter) and error.param is not None and error.param_hint is None:
        error.param_hint = _typed_name(error.param)  # a str is used as it is
    possibilities = getattr(error, "possibilities", None)  # a mistyped option or command
    if not possibilities:
        return error.format_message()
    names = ", ".join(sorted(possibilities))
    suggestion = ngettext("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)", len(possibilities))
    return f"{error.message} {suggestion.format(possibility=names, possibilities=names)}"


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


def _quiet_broken_pipe() -> None:
    """`treem status | head` closes the pipe early: that is not an error to report."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        pass
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


# `treem` alone shows the help (click 8.2 and later raise this; 8.1 shows it and exits).
_HELP_ONLY = getattr(click.exceptions, "NoArgsIsHelpError", ())


def main():
    speak_vietnamese()  # first: click's messages, help and errors alike, in Vietnamese
    _utf8_streams()
    try:
        cli(prog_name="treem", standalone_mode=False)
    except _HELP_ONLY as e:
        e.show()
        sys.exit(e.exit_code)
    except click.UsageError as e:
        # One line, where click would print the usage, a hint and the error on three.
        where = e.ctx.help_command() if isinstance(e.ctx, TreemContext) else "treem --help"
        click.echo(f"Lỗi: {usage_message(e).rstrip('.')}. Xem: {where}", err=True)
        sys.exit(e.exit_code)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except click.Abort:
        click.echo("Đã dừng.", err=True)
        sys.exit(1)
    except BrokenPipeError:
        _quiet_broken_pipe()
