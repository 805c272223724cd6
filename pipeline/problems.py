"""Every kind of problem the tool reports: a stable English code (for scripts and the store),
its usual severity and a short Vietnamese title (for the people who read the workbooks).

The message of each problem says what exactly is wrong where; the title names the kind of
problem in a few words, the way a column of a spreadsheet can show it. A test checks that
every code raised anywhere in the package has its row here.
"""

from __future__ import annotations

from dataclasses import dataclass

ERROR, WARNING, SKIPPED = "error", "warning", "skipped"


@dataclass(frozen=True)
class Problem:
    code: str      # kebab-case, never changes once published
    severity: str  # ERROR (the unit must send again), WARNING (accepted), SKIPPED (left for the next run)
    title: str     # Vietnamese, a few words


_ROWS = [
    # The file itself (refused before any parser sees it, or no parser could read it).
    Problem("empty-file", ERROR, "Tệp rỗng"),
    Problem("file-too-large", ERROR, "Tệp quá lớn"),
    Problem("not-a-workbook", ERROR, "Không phải bảng tính Excel"),
    Problem("encrypted-file", ERROR, "Tệp có mật khẩu"),
    Problem("truncated-file", ERROR, "Tệp hỏng hoặc tải chưa hết"),
    Problem("too-many-parts", ERROR, "Tệp có quá nhiều thành phần"),
    Problem("unsafe-zip", ERROR, "Cấu trúc tệp không an toàn"),
    Problem("zip-bomb", ERROR, "Tệp nén bất thường (có thể độc hại)"),
    Problem("xml-entities", ERROR, "Nội dung tệp có thể độc hại"),
    Problem("xml-encoding", ERROR, "Bảng mã trong tệp không đọc được"),
    Problem("sheet-too-large", ERROR, "Trang tính quá lớn"),
    Problem("too-many-names", ERROR, "Tệp có quá nhiều tên ô"),
    Problem("too-many-sheets", ERROR, "Tệp có quá nhiều trang tính"),
    Problem("unreadable-workbook", ERROR, "Không đọc được bảng tính"),
    Problem("too-much-memory", ERROR, "Tệp cần quá nhiều bộ nhớ"),
    Problem("read-timeout", ERROR, "Đọc tệp quá lâu"),
    Problem("reader-crashed", ERROR, "Tệp làm chương trình đọc dừng"),
    Problem("legacy-xls", WARNING, "Tệp Excel 97-2003 (.xls)"),
    Problem("macros-ignored", WARNING, "Tệp có macro (không chạy)"),
    Problem("external-links", WARNING, "Liên kết tới tệp khác"),
    Problem("embedded-content", WARNING, "Có đối tượng nhúng"),
    # Files left in the inbox for the next run.
    Problem("office-lock-file", SKIPPED, "Tệp khóa tạm của Office"),
    Problem("file-in-progress", SKIPPED, "Tệp đang chép hoặc tải về"),
    Problem("link-outside-inbox", SKIPPED, "Lối tắt trỏ ra ngoài thư mục"),
    Problem("broken-link", SKIPPED, "Lối tắt hỏng"),
    Problem("unreadable-file", SKIPPED, "Tệp đang mở hoặc không đọc được"),
    # Who sent it, for which year, on which form.
    Problem("unknown-unit", ERROR, "Không xác định được đơn vị"),
    Problem("wrong-year", ERROR, "Sai năm báo cáo"),
    Problem("template-outdated", WARNING, "Biểu mẫu phiên bản cũ"),
    Problem("identity-conflict", WARNING, "Thông tin nhận dạng mâu thuẫn"),
    Problem("identity-mismatch", WARNING, "Tên tệp ghi đơn vị khác"),
    Problem("identity-from-content", WARNING, "Đơn vị nhận ra theo nội dung"),
    Problem("identity-from-filename", WARNING, "Đơn vị nhận ra theo tên tệp"),
    Problem("late-submission", WARNING, "Gửi muộn"),
    # The form's structure.
    Problem("names-missing", WARNING, "Mất tên ô"),
    Problem("missing-sheet", ERROR, "Mất trang tính"),
    Problem("missing-name", ERROR, "Mất ô nhập"),
    Problem("name-broken", ERROR, "Tên ô bị hỏng"),
    Problem("rows-shifted", ERROR, "Dòng bị xóa hoặc chèn"),
    Problem("formula-overwritten", WARNING, "Công thức bị ghi đè"),
    Problem("formula-in-input", ERROR, "Công thức trong ô nhập"),  # a warning when it has a value
    # Values.
    Problem("type-error", ERROR, "Không phải số"),
    Problem("ambiguous-number", ERROR, "Số viết không rõ"),
    Problem("percent-sign", WARNING, "Số có dấu %"),  # an error in a count
    Problem("number-as-text", WARNING, "Số nhập dạng văn bản"),
    Problem("decimal-in-count", ERROR, "Số lẻ ở số đếm"),
    Problem("out-of-range", ERROR, "Ngoài khoảng cho phép"),
    Problem("required-missing", ERROR, "Thiếu số liệu bắt buộc"),
    Problem("explained-blank", WARNING, "Để trống có giải thích"),
    Problem("blank-form", ERROR, "Biểu mẫu chưa được điền"),
    Problem("probable-thousands", ERROR, "Có thể gõ nhầm dấu nghìn"),
    Problem("legacy-encoding", WARNING, "Chữ gõ bằng TCVN3/VNI"),
    Problem("cross-field-rule", ERROR, "Số liệu mâu thuẫn nhau"),  # each rule sets its own severity
    # Plausibility.
    Problem("large-change", WARNING, "Thay đổi lớn so với năm trước"),
    Problem("outlier", WARNING, "Khác thường so với đơn vị khác"),
    Problem("small-denominator", WARNING, "Mẫu số nhỏ"),
]

PROBLEMS: dict[str, Problem] = {p.code: p for p in _ROWS}


def title(code: str) -> str:
    """The Vietnamese title of a problem code; an unknown code (from an older store) is shown
    as a generic title rather than in English."""
    p = PROBLEMS.get(code)
    return p.title if p else "Vấn đề khác"
