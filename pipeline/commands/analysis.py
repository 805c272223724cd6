"""The analyst's export of every year's figures."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.commands.common import TreemCommand, emit, relative_path, workspace_options
from pipeline.base.text import vn_number
from pipeline.config.workspace import Workspace


@click.command("export", cls=TreemCommand)
@click.option("--years", "years", metavar="NĂM-NĂM",
              help="Các năm cần xuất: 2021-2025, 2024 hoặc 2021,2023; mặc định: mọi năm đã có số liệu.")
@click.option("--format", "fmt", default="xlsx", metavar="xlsx|csv",
              help="xlsx (mặc định): một tệp Excel, mỗi bảng một trang; csv: mỗi bảng một tệp CSV (UTF-8).")
@click.option("--out", "out", type=click.Path(path_type=Path), metavar="TỆP",
              help="Nơi ghi: tệp .xlsx, hoặc thư mục chứa các tệp CSV; mặc định: output/xuat_du_lieu_NĂM-NĂM.")
@workspace_options(existing=True)
def export_cmd(ws: Workspace, as_json: bool, years: str | None, fmt: str, out: Path | None):
    """Xuất số liệu mọi năm cho người phân tích (Excel pivot, Jupyter, R): chỉ tiêu toàn
    huyện, chỉ tiêu từng đơn vị (trang sẵn sàng cho PivotTable: đơn vị × chỉ tiêu × năm),
    số liệu từng đơn vị, tệp đã nhận, lỗi và cảnh báo.

    \b
    Ví dụ:
      treem export --years 2021-2025
      treem export --years 2021-2025 --format csv --out D:\\phan_tich
    """
    from pipeline.analysis.api import WorkspaceData
    from pipeline.analysis.export import export, parse_years

    result = export(WorkspaceData(ws), parse_years(years), fmt, out)
    if as_json:
        emit(result.to_dict())
        return
    span = f"{result.years[0]}-{result.years[-1]}" if len(result.years) > 1 else str(result.years[0])
    tables = "; ".join(f"{result.sheets[k]} {vn_number(n)} dòng" for k, n in result.rows.items())
    click.echo(f"Đã xuất số liệu {'các năm' if len(result.years) > 1 else 'năm'} {span}: {tables}.")
    for p in result.outputs:
        click.echo(f"  {relative_path(ws, p)}")


# The commands of this module, registered on the group by pipeline.cli.
COMMANDS = (export_cmd,)
