"""The officer's own steps: checking the settings, decisions on units and files, history from
before the tool, and the desk in the browser."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from pipeline.commands.common import TreemCommand, emit, relative_path, workspace_options, year_option
from pipeline.base.problems import Severity
from pipeline.store.status import Status
from pipeline.config.workspace import Workspace


@click.command("check-settings", cls=TreemCommand)
@workspace_options(settings=False)
def check_settings_cmd(ws: Workspace, as_json: bool):
    """Kiểm tra settings.yaml của thư mục làm việc: báo mọi lỗi một lần (dòng nào, sửa thế
    nào). Đọc được tệp Notepad lưu dạng UTF-8, Unicode (UTF-16) hay ANSI (Windows-1258).

    \b
    Ví dụ:
      treem check-settings
      treem check-settings --workspace D:\\ctxhtre --json
    """
    from pipeline.config.settings import check_settings

    path = ws.root / "settings.yaml"
    problems = check_settings(path) if path.exists() else []
    if as_json:
        emit({"path": str(path), "exists": path.exists(), "problems": [p.to_dict() for p in problems]})
    elif not path.exists():
        click.echo(f"Không có {relative_path(ws, path)}: dùng thông số mặc định "
                   "(tạo bản sao để sửa: treem init THƯ_MỤC).")
    elif not problems:
        click.echo(f"{relative_path(ws, path)}: không có lỗi.")
    else:
        click.echo(f"{relative_path(ws, path)}: {len(problems)} lỗi cần sửa:")
        for p in problems:
            click.echo(f"  - {p}")
    if problems:
        raise SystemExit(1)


@click.command("accept", cls=TreemCommand)
@click.argument("unit", metavar="ĐƠN_VỊ")
@year_option
@click.option("--note", default="", metavar="LÝ_DO", help="Lý do (bắt buộc khi chấp nhận), lưu cùng quyết định.")
@click.option("--undo", is_flag=True, help="Bỏ quyết định chấp nhận trước đó.")
@workspace_options(existing=True)
def accept_cmd(ws: Workspace, as_json: bool, unit: str, year: int, note: str, undo: bool):
    """Chấp nhận báo cáo mới nhất của một đơn vị dù còn lỗi: số liệu được tổng hợp, trừ các
    số có lỗi. Quyết định được ghi vào nhật ký (lúc nào, lý do) và hiện trong status, báo cáo
    kiểm tra và Phụ lục III; chạy lại collect không mất. Sau đó chạy lại merge và report.

    \b
    Ví dụ:
      treem accept 15682 --year 2024 --note "Xã xác nhận qua điện thoại, chỉ sai một ô"
      treem accept 15682 --year 2024 --undo --note "Xã sẽ gửi lại"
    """
    from pipeline.store.decisions import accept, undo_accept

    d = undo_accept(ws, year, unit, note) if undo else accept(ws, year, unit, note)
    if as_json:
        emit(d.to_dict())
        return
    click.echo(d.message)
    click.echo(f"Việc tiếp theo: treem merge --year {year}; treem report --year {year}")


def _received_date(ctx, param, value):
    from pipeline.store.decisions import DecisionError, received_date

    try:
        return received_date(value)
    except DecisionError as e:
        raise click.BadParameter(str(e)) from e


@click.command("received", cls=TreemCommand)
@click.argument("file", metavar="TỆP")
@year_option
@click.option("--date", "when", required=True, callback=_received_date, metavar="NGÀY/THÁNG/NĂM",
              help="Ngày thật sự nhận tệp, ví dụ 18/11/2024.")
@click.option("--note", default="", metavar="GHI_CHÚ", help="Ghi chú lưu cùng quyết định, ví dụ «nhận qua Zalo».")
@workspace_options(existing=True)
def received_cmd(ws: Workspace, as_json: bool, file: str, year: int, when, note: str):
    """Sửa ngày nhận một tệp trong input/NĂM/ (tệp tải từ Zalo hay thư điện tử mang ngày tải
    về, không phải ngày nhận). Đúng hạn / muộn được tính lại; quyết định ghi vào nhật ký và
    không mất khi chạy lại collect.

    \b
    Ví dụ:
      treem received 2024_15703_xa-dan-ly.xlsx --year 2024 --date 18/11/2024 --note "nhận qua Zalo"
    """
    from pipeline.store.decisions import set_received

    d = set_received(ws, year, file, when, note)
    if as_json:
        emit(d.to_dict())
        return
    click.echo(d.message)
    click.echo(f"Việc tiếp theo: treem collect --year {year} (cập nhật báo cáo kiểm tra); treem report --year {year}")


@click.command("import-history", cls=TreemCommand)
@click.argument("file", metavar="TỆP.xlsx", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--template", "template_out", metavar="TỆP_MẪU.xlsx", type=click.Path(dir_okay=False, path_type=Path),
              help="Tạo tệp mẫu để điền số liệu các năm trước (mỗi xã, mỗi năm một dòng; HUYEN: toàn huyện).")
@workspace_options()
def import_history_cmd(ws: Workspace, as_json: bool, file: Path | None, template_out: Path | None):
    """Nhập số liệu các năm trước khi dùng treem (ví dụ 2021-2023), theo từng xã hoặc toàn
    huyện, từ tệp mẫu do lệnh này tạo. Số liệu được kiểm tra như biểu mẫu, ghi nhật ký,
    đánh dấu «nhập từ lịch sử», rồi các năm đó được tổng hợp lại.

    \b
    Ví dụ:
      treem import-history --template so_lieu_cac_nam_truoc.xlsx
      treem import-history so_lieu_cac_nam_truoc.xlsx
    """
    from pipeline.analysis.import_history import import_history, write_template

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
    ok = [s for s in result.stored if s.status is not Status.REJECTED]
    click.echo(f"{file.name}: {result.rows} dòng có số liệu; đã nhập {len(ok)} (đơn vị, năm), có lỗi không nhập "
               f"{len(result.stored) - len(ok)}, bỏ qua {len(result.skipped)}.")
    for s in result.stored:
        for i in s.issues:
            if i.severity is Severity.ERROR:
                click.echo(f"  ✗ {s.year} {s.unit} (dòng {s.row}): {i.message}")
    for k in result.skipped:
        click.echo(f"  - {k.message}")
    if result.merged:
        click.echo(f"Đã tổng hợp lại các năm: {', '.join(str(y) for y in result.merged)}.")


@click.command("ui", cls=TreemCommand)
@click.option("--port", "-p", type=click.IntRange(0, 65535), default=8765, metavar="CỔNG",
              help="Cổng của trang (mặc định 8765; 0: tự chọn một cổng trống).")
@click.option("--host", default="127.0.0.1", metavar="ĐỊA_CHỈ",
              help="Địa chỉ nghe; mặc định 127.0.0.1 (chỉ máy này). Địa chỉ khác mở trang cho cả mạng (có cảnh báo).")
@click.option("--no-browser", is_flag=True, help="Không tự mở trình duyệt.")
@workspace_options()
def ui_cmd(ws: Workspace, as_json: bool, port: int, host: str, no_browser: bool):
    """Mở bàn làm việc trên trình duyệt: cả năm báo cáo trong một trang web trên máy này
    (tạo biểu mẫu, nhận tệp, đơn vị, tổng hợp, báo cáo, cài đặt). Dòng đầu tiên in ra là địa
    chỉ trang (kèm mã truy cập); Ctrl+C để tắt.

    \b
    Ví dụ:
      treem ui
      treem ui --workspace D:\\ctxhtre --port 8800 --no-browser
    """
    from pipeline.desk.server import serve

    def say(url: str) -> None:
        click.echo(json.dumps({"url": url, "workspace": str(ws.root)}, ensure_ascii=False) if as_json else url)
        sys.stdout.flush()

    serve(ws.root, host=host, port=port, open_browser=not no_browser, say=say,
          warn=lambda m: click.echo(m, err=True))
    click.echo("Đã tắt bàn làm việc.", err=True)


# The commands of this module, registered on the group by pipeline.cli.
COMMANDS = (check_settings_cmd, accept_cmd, received_cmd, import_history_cmd, ui_cmd)
