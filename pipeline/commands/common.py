"""What every `treem` command shares: the click classes that make the help Vietnamese, the
--workspace/--json, --year and --force options, the turning of a library error into one
"Lỗi: …" line, and the small printing helpers (JSON, progress bars, paths, the output guard's
lines). The command modules import from here; pipeline.cli imports the command modules and
registers them on its group: nothing here imports pipeline.cli."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import click

from pipeline.base.errors import TreemError
from pipeline.commands.language import speak_vietnamese
from pipeline.config.workspace import Workspace

HELP_OPTION_NAMES = ["-h", "--help"]
MAX_HELP_WIDTH = 100


class TreemContext(click.Context):
    """The context of every treem command: -h as well as --help, help up to 100 columns wide.

    click's own words (Usage, Options, [required], its error messages) are Vietnamese through
    the gettext catalogue of pipeline/locale (see pipeline.commands.language), not through a
    formatter that rewrites them."""

    def __init__(self, command: click.Command, parent: click.Context | None = None, *args,
                 help_option_names: list[str] | None = None, max_content_width: int | None = None, **kwargs) -> None:
        if parent is None:  # a command's context inherits them from the group's
            help_option_names = help_option_names or HELP_OPTION_NAMES
            max_content_width = max_content_width or MAX_HELP_WIDTH
        super().__init__(command, parent, *args, help_option_names=help_option_names,
                         max_content_width=max_content_width, **kwargs)

    def help_command(self) -> str:
        """The command line that shows this command's help, e.g. "treem generate --help"."""
        return f"{self.command_path} {max(self.help_option_names, key=len)}"


class TreemCommand(click.Command):
    """A treem command: its context is a TreemContext, its usage line says [TÙY CHỌN] (click's
    "[OPTIONS]" is a default argument, not a message the catalogue can translate)."""

    context_class = TreemContext

    def __init__(self, *args, options_metavar: str | None = "[TÙY CHỌN]", **kwargs) -> None:
        super().__init__(*args, options_metavar=options_metavar, **kwargs)


class TreemGroup(click.Group):
    """The `treem` group: its commands are TreemCommands, its usage line says LỆNH [THAM SỐ]...,
    and whoever runs it (main(), CliRunner in the tests, tools/cli_reference.py) gets click's
    messages in Vietnamese."""

    context_class = TreemContext
    command_class = TreemCommand

    def __init__(self, *args, options_metavar: str | None = "[TÙY CHỌN]",
                 subcommand_metavar: str | None = "LỆNH [THAM SỐ]...", **kwargs) -> None:
        super().__init__(*args, options_metavar=options_metavar, subcommand_metavar=subcommand_metavar, **kwargs)

    def main(self, *args, **kwargs):
        # Before click builds any help option or message: it caches the help option's text.
        speak_vietnamese()
        return super().main(*args, **kwargs)


class Failure(click.ClickException):
    """A clear reason, printed in Vietnamese as "Lỗi: …" whether or not click's catalogue is in
    use (click would say "Error:")."""

    def show(self, file=None) -> None:
        click.echo(f"Lỗi: {self.format_message()}", file=file or sys.stderr)


@contextmanager
def failures() -> Iterator[None]:
    """A library error, or a file that cannot be read or written, becomes one "Lỗi: …" line and
    exit code 1, never a traceback."""
    try:
        yield
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


def workspace_options(*, existing: bool = False, settings: bool = True) -> Callable:
    """--workspace and --json; the command receives the Workspace as `ws` and the flag as
    `as_json`, and its library errors become "Lỗi: …" (see failures()).

    existing: the command reads what earlier steps left (the store, the inbox), so a folder
    that is not a workspace yet is refused before any work.
    settings: every problem of settings.yaml is reported at once before any work; off for the
    command that reports them itself (check-settings)."""

    def decorate(f: Callable) -> Callable:
        @click.option("--workspace", "-w", "workspace", type=click.Path(file_okay=False, path_type=Path),
                      default=".", metavar="THƯ_MỤC",
                      help="Thư mục làm việc (chứa input/, output/, treem.sqlite); mặc định: thư mục hiện tại.")
        @click.option("--json", "as_json", is_flag=True, help="In kết quả dạng JSON (cho máy đọc) ra stdout.")
        @functools.wraps(f)
        def wrapper(*args, workspace: Path, as_json: bool, **kwargs):
            with failures():
                ws = Workspace(workspace)
                if existing:
                    ws.require()
                if settings:
                    ws.settings  # noqa: B018 — every problem of settings.yaml at once, before any work
                return f(*args, ws=ws, as_json=as_json, **kwargs)

        return wrapper

    return decorate


def check_year(ctx: click.Context, param: click.Parameter, value: int | None) -> int | None:
    """The callback of every --year: a year of the programme (2021-2030) or after."""
    if value is not None and not 2021 <= value <= 2100:
        raise click.BadParameter(f"năm {value} nằm ngoài giai đoạn của Chương trình (2021-2030) và các năm sau.")
    return value


def _this_year() -> int:
    return date.today().year


def year_option(f: Callable) -> Callable:
    """--year/-y, this year by default."""
    return click.option("--year", "-y", type=int, default=_this_year, metavar="NĂM", callback=check_year,
                        help="Năm báo cáo; mặc định: năm nay.")(f)


def force_option(f: Callable) -> Callable:
    """--force: overwrite outputs the officer edited by hand (the edited copy is kept)."""
    return click.option("--force", is_flag=True,
                        help="Ghi đè cả tệp kết quả đã được sửa tay (bản đã sửa được lưu vào output/NĂM/cu/).")(f)


def emit(data: dict) -> None:
    """The --json output: one JSON document on stdout, Vietnamese letters as they are."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


@contextmanager
def progress(label: str, total: int, quiet: bool) -> Iterator[Callable[..., None]]:
    """A progress bar on stderr (never on stdout, which --json keeps clean)."""
    if quiet or total == 0:
        yield lambda n=1: None
        return
    with click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True) as bar:
        yield bar.update


def relative_path(ws: Workspace, p: str | Path) -> str:
    """A path as the officer finds it from the workspace (output/2024/…), or as given when it
    lies outside."""
    try:
        return str(Path(p).resolve().relative_to(ws.root))
    except ValueError:
        return str(p)


def print_output_messages(messages: list[str] | None) -> None:
    """The output guard's lines: an edited file kept, a backup made, a stale PDF removed."""
    for m in messages or []:
        click.echo(f"  * {m}")
