"""Every kind of problem the tool reports, in one table: a stable English code (for scripts and
the store), its usual severity, its group, a short Vietnamese title (for the people who read the
workbooks), the message template and the hint that tells the unit what to do.

Whatever reports a problem builds it here: `issue()` for a problem found in a file (a
`ValidationIssue`), `unreadable()` for a file no reader may open, `skipped_file()` for a file
left in the inbox (a `SkippedFile`). Past this module a severity is the `Severity` enum, never
its bare value (a test holds the package to it). A message template names its values in
braces; `{hint}` is the row's hint and `{Hint}` the same with a capital letter, so that the
advice is written once. A few problems say different things in different cases: those cases
are `variants` of the row, never new codes. Tests walk the table: every code is raised by the
package and met by a test, and the manual's list is this table.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Mapping

from pipeline.base.errors import UnreadableFile

class Severity(StrEnum):
    """How much a problem weighs. The value is what the store and `--json` hold."""
    ERROR = "error"      # the unit must send the file again
    WARNING = "warning"  # the file is accepted; the unit is told
    SKIPPED = "skipped"  # the file is left in the inbox for the next run

    @property
    def label(self) -> str:
        return SEVERITY_LABELS[self]


SEVERITY_LABELS = {Severity.ERROR: "Lỗi", Severity.WARNING: "Cảnh báo", Severity.SKIPPED: "Bỏ qua"}
ERROR, WARNING, SKIPPED = Severity.ERROR, Severity.WARNING, Severity.SKIPPED


class Group(StrEnum):
    FILE = "file"              # the file itself, before or while it is read
    IDENTITY = "identity"      # who sent it, for which year, on which form
    CELL = "cell"              # the form's cells: structure and values
    RULE = "rule"              # a rule over several values of one unit
    CROSS_UNIT = "cross-unit"  # a unit compared with the others
    WORKFLOW = "workflow"      # when and how the file came in

    @property
    def label(self) -> str:
        return GROUP_LABELS[self]


GROUP_LABELS = {Group.FILE: "tệp", Group.IDENTITY: "nhận dạng", Group.CELL: "ô, giá trị", Group.RULE: "quy tắc",
                Group.CROSS_UNIT: "so với đơn vị khác", Group.WORKFLOW: "tiếp nhận"}


@dataclass(frozen=True)
class Problem:
    code: str           # kebab-case, never changes once published
    severity: Severity
    group: Group
    title: str     # Vietnamese, a few words
    message: str   # Vietnamese template; {hint} is the hint below
    hint: str      # what the unit (or the officer, for a skipped file) should do
    variants: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def text(self, variant: str | None = None, /, **values) -> str:
        """The message with its values filled in (`variant` picks one of the row's cases)."""
        template = self.variants[variant] if variant else self.message
        hint = self.hint.format(**values)
        return template.format(hint=hint, Hint=hint[:1].upper() + hint[1:], **values)


@dataclass
class ValidationIssue:
    """One problem found: its code, severity, Vietnamese message and where it is."""

    code: str
    severity: Severity
    message: str
    sheet: str | None = None
    cell: str | None = None
    field: str | None = None
    rule: str | None = None

    def __post_init__(self):
        self.severity = Severity(self.severity)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["severity"] = self.severity.value
        if d["rule"] is None:
            d.pop("rule")
        return d


@dataclass(frozen=True)
class SkippedFile:
    """A file left in the inbox for the next run: where it is below the inbox, why (a code of
    the table whose severity is SKIPPED) and the Vietnamese message that says so."""

    path: str
    code: str
    message: str

    severity = SKIPPED

    def to_dict(self) -> dict:
        return {"path": self.path, "code": self.code, "message": self.message}


def _p(code, severity, group, title, message, hint, /, **variants) -> Problem:
    return Problem(code, severity, group, title, message, hint,
                   MappingProxyType({k.replace("_", "-"): v for k, v in variants.items()}))


F, I, C, R, X, W = Group.FILE, Group.IDENTITY, Group.CELL, Group.RULE, Group.CROSS_UNIT, Group.WORKFLOW
_RESEND = "đề nghị đơn vị điền vào biểu mẫu gốc rồi gửi lại."
_RESAVE = "đề nghị đơn vị mở tệp bằng Excel, lưu lại rồi gửi lại."
_AS_XLSX = "đề nghị đơn vị gửi lại tệp biểu mẫu Excel (.xlsx) đã điền."
_NO_SEPARATOR = "đề nghị nhập lại số không có dấu phân cách."
_SAME_FORM = "đề nghị dùng lại biểu mẫu được gửi"
_IDENTIFIED_BY = "Tệp không còn thông tin nhận dạng của biểu mẫu; đã nhận là của {{unit}} theo {}. {{Hint}}"
_IDENTIFY_NEXT_TIME = "lần sau đề nghị điền trực tiếp vào biểu mẫu được gửi."

_ROWS = [
    # The file itself (refused before any parser sees it, or no parser could read it).
    # Precheck's placeholders are its limits (sizes in MB); they never include anything from the file.
    _p("empty-file", ERROR, F, "Tệp rỗng",
       "Tệp rỗng (0 byte) nên không có số liệu; {hint}", "đề nghị đơn vị gửi lại tệp biểu mẫu đã điền."),
    _p("file-too-large", ERROR, F, "Tệp quá lớn",
       "Tệp lớn hơn {max_file_mb} MB, quá lớn so với biểu mẫu; {hint}",
       "đề nghị đơn vị gửi lại đúng tệp biểu mẫu đã điền, không chèn thêm ảnh hoặc dữ liệu khác."),
    # More precise wording (variants) when it is cheap to tell what the file is.
    _p("not-a-workbook", ERROR, F, "Không phải bảng tính Excel",
       "Tệp không phải là bảng tính Excel; đề nghị đơn vị gửi lại đúng tệp biểu mẫu Excel (.xlsx) đã điền.",
       _AS_XLSX,
       pdf="Đây là tệp PDF, không phải bảng tính Excel; {hint}",
       word="Đây là tệp Word (.docx/.doc), không phải bảng tính Excel; {hint}",
       powerpoint="Đây là tệp PowerPoint, không phải bảng tính Excel; {hint}",
       ods="Tệp được lưu ở định dạng OpenDocument (.ods); đề nghị đơn vị lưu lại dạng Excel (.xlsx) rồi gửi lại.",
       xlsb="Tệp được lưu ở định dạng Excel nhị phân (.xlsb); đề nghị đơn vị lưu lại dạng Excel (.xlsx) rồi "
            "gửi lại.",
       html="Đây là trang web (HTML) được đặt tên như tệp Excel; đề nghị đơn vị mở bằng Excel, lưu lại dạng "
            "Excel (.xlsx) rồi gửi lại.",
       xml_2003="Tệp được lưu ở định dạng XML Spreadsheet 2003; đề nghị đơn vị lưu lại dạng Excel (.xlsx) rồi "
                "gửi lại.",
       text="Đây là tệp văn bản hoặc CSV, không phải bảng tính Excel; {hint}",
       image="Đây là tệp ảnh, không phải bảng tính Excel; đề nghị đơn vị gửi lại tệp biểu mẫu Excel (.xlsx) đã "
             "điền thay vì ảnh chụp.",
       zip_of_workbooks="Đây là tệp nén (zip) có chứa tệp Excel; đề nghị đơn vị gửi riêng tệp biểu mẫu Excel "
                        "(.xlsx), không nén.",
       zip="Đây là tệp nén (zip) không chứa bảng tính Excel; đề nghị đơn vị gửi riêng tệp biểu mẫu Excel (.xlsx) "
           "đã điền."),
    _p("encrypted-file", ERROR, F, "Tệp có mật khẩu",
       "Tệp được đặt mật khẩu nên không đọc được; {hint}", "đề nghị đơn vị gỡ mật khẩu rồi gửi lại."),
    _p("truncated-file", ERROR, F, "Tệp hỏng hoặc tải chưa hết",
       "Tệp bị hỏng hoặc chưa tải về hết nên không mở được; {hint}", _RESAVE),
    _p("too-many-parts", ERROR, F, "Tệp có quá nhiều thành phần",
       "Tệp có cấu trúc bên trong phức tạp bất thường (hơn {max_members} thành phần) so với biểu mẫu; {hint}",
       _RESEND),
    _p("unsafe-zip", ERROR, F, "Cấu trúc tệp không an toàn",
       "Cấu trúc bên trong tệp bất thường, không giống tệp do Excel lưu, nên không được mở; {hint}",
       "đề nghị đơn vị mở tệp bằng Excel, lưu lại dạng .xlsx rồi gửi lại."),
    _p("zip-bomb", ERROR, F, "Tệp nén bất thường (có thể độc hại)",
       "Tệp khi giải nén lớn bất thường so với một biểu mẫu nên không được mở; {hint}",
       "đề nghị đơn vị gửi lại đúng tệp biểu mẫu đã điền, không dán thêm dữ liệu lớn."),
    _p("xml-entities", ERROR, F, "Nội dung tệp có thể độc hại",
       "Tệp chứa khai báo XML (DOCTYPE/ENTITY) mà Excel không bao giờ tạo ra nên không được mở; {hint}", _RESAVE),
    _p("xml-encoding", ERROR, F, "Bảng mã trong tệp không đọc được",
       "Tệp chứa phần XML có bảng mã bất thường (không phải UTF-8) mà Excel không tạo ra nên không được mở; "
       "{hint}", _RESAVE),
    _p("sheet-too-large", ERROR, F, "Trang tính quá lớn",
       "Có trang tính vượt quá {max_rows} dòng, {max_cols} cột hoặc {max_cells} ô; {hint}",
       "đề nghị đơn vị xóa các dòng, cột hoặc ô thừa nằm xa bảng số liệu rồi gửi lại."),
    _p("too-many-names", ERROR, F, "Tệp có quá nhiều tên ô",
       "Tệp có hơn {max_defined_names} tên vùng (Name), nhiều hơn biểu mẫu rất nhiều; {hint}", _RESEND),
    _p("too-many-sheets", ERROR, F, "Tệp có quá nhiều trang tính",
       "Tệp có hơn {max_sheets} trang tính, nhiều hơn biểu mẫu rất nhiều; {hint}", _RESEND),
    _p("unreadable-workbook", ERROR, F, "Không đọc được bảng tính",
       "Không đọc được nội dung bảng tính (tệp bị hỏng); {hint}",
       "đề nghị đơn vị mở lại bằng Excel, lưu dạng .xlsx rồi gửi lại.",
       structure="Phần cấu trúc của bảng tính bị hỏng; {hint}",
       reader_error="Không đọc được tệp ({error}); đề nghị đơn vị mở bằng Excel, lưu dạng .xlsx rồi gửi lại."),
    _p("too-much-memory", ERROR, F, "Tệp cần quá nhiều bộ nhớ",
       "Tệp cần quá nhiều bộ nhớ để đọc (có thể là tệp độc hại hoặc quá lớn); {hint}",
       "đề nghị đơn vị gửi lại đúng biểu mẫu."),
    _p("read-timeout", ERROR, F, "Đọc tệp quá lâu",
       "Đọc tệp quá lâu nên đã dừng (có thể là tệp độc hại hoặc hỏng); {hint}",
       "đề nghị đơn vị gửi lại đúng biểu mẫu."),
    _p("reader-crashed", ERROR, F, "Tệp làm chương trình đọc dừng",
       "Tệp làm chương trình đọc bị dừng đột ngột (có thể là tệp độc hại hoặc hỏng); {hint}",
       "đề nghị đơn vị mở bằng Excel, lưu dạng .xlsx rồi gửi lại."),
    _p("legacy-xls", WARNING, F, "Tệp Excel 97-2003 (.xls)",
       "Tệp dạng Excel 97-2003 (.xls) đã được đọc; {hint}",
       "lần sau đề nghị giữ nguyên định dạng .xlsx của biểu mẫu."),
    _p("macros-ignored", WARNING, F, "Tệp có macro (không chạy)",
       "Tệp có chứa macro; macro không được chạy và không được giữ lại, chỉ số liệu được đọc.",
       "lần sau đề nghị lưu biểu mẫu dạng .xlsx, không thêm macro."),
    _p("external-links", WARNING, F, "Liên kết tới tệp khác",
       "Tệp liên kết tới tệp khác; chỉ đọc giá trị đang hiển thị, {hint}", "đề nghị nhập số trực tiếp."),
    _p("embedded-content", WARNING, F, "Có đối tượng nhúng",
       "Tệp có đối tượng nhúng (ActiveX, tệp đính kèm); các đối tượng này bị bỏ qua.",
       "lần sau đề nghị không chèn đối tượng hay tệp đính kèm vào biểu mẫu."),
    # Files left in the inbox for the next run; the hint is for the officer.
    _p("office-lock-file", SKIPPED, W, "Tệp khóa tạm của Office",
       "Tệp khóa tạm của Excel/LibreOffice (không phải bài nộp), bỏ qua.",
       "không cần làm gì; tệp tự mất khi đóng Excel/LibreOffice."),
    _p("file-in-progress", SKIPPED, W, "Tệp đang chép hoặc tải về",
       "Tệp đang tải về chưa xong, bỏ qua; {hint}", "chạy lại sau khi tải xong.",
       arriving="Tệp đang được chép vào thư mục, bỏ qua lần này; chạy lại sau ít phút."),
    _p("link-outside-inbox", SKIPPED, W, "Lối tắt trỏ ra ngoài thư mục",
       "Lối tắt trỏ ra ngoài thư mục nhận tệp nên không được đọc; {hint}",
       "đề nghị chép chính tệp vào thư mục.",
       folder="Lối tắt tới thư mục ngoài thư mục nhận tệp nên không được đọc; đề nghị chép chính các tệp vào "
              "thư mục."),
    _p("broken-link", SKIPPED, W, "Lối tắt hỏng",
       "Lối tắt hỏng (không trỏ tới tệp nào hoặc trỏ vòng) nên không được đọc; {hint}",
       "đề nghị chép chính tệp vào thư mục."),
    # Excel on Windows locks a workbook it has open: reading it fails until the officer closes it.
    _p("unreadable-file", SKIPPED, W, "Tệp đang mở hoặc không đọc được",
       "tệp đang mở trong Excel hoặc không đọc được; {hint}", "đóng tệp rồi chạy lại."),
    # Who sent it, for which year, on which form.
    _p("unknown-unit", ERROR, I, "Không xác định được đơn vị",
       "Không xác định được đơn vị gửi tệp: tệp không còn thông tin nhận dạng của biểu mẫu và không ghi tên hay "
       "mã đơn vị. {Hint}", "đề nghị đơn vị điền vào biểu mẫu được gửi rồi gửi lại.",
       code="Mã đơn vị «{code}» trong tệp không có trong danh sách đơn vị năm {year}.",
       other_form="Tệp không phải biểu mẫu của Chương trình."),
    _p("wrong-year", ERROR, I, "Sai năm báo cáo",
       "Tệp là biểu mẫu năm {found}, không phải năm {year}; {hint}", "đề nghị đơn vị điền biểu mẫu năm {year}."),
    _p("template-outdated", WARNING, I, "Biểu mẫu phiên bản cũ",
       "Biểu mẫu phiên bản {version} cũ hơn danh mục hiện hành ({current}); {hint}",
       "số liệu vẫn được đọc theo tên ô.",
       catalogue_changed="Danh mục chỉ tiêu đã thay đổi sau khi gửi biểu mẫu; {hint}"),
    _p("identity-conflict", WARNING, I, "Thông tin nhận dạng mâu thuẫn",
       "Thông tin nhận dạng trong thuộc tính tệp và trang ẩn _meta khác nhau; đã dùng thuộc tính tệp. {Hint}",
       "đề nghị dùng đúng biểu mẫu được gửi."),
    _p("identity-mismatch", WARNING, I, "Tên tệp ghi đơn vị khác",
       "Tên tệp ghi {named} nhưng biểu mẫu là của {unit}; số liệu được ghi cho {unit}. {Hint}",
       "nếu đây là số liệu của {named}, đề nghị điền lại vào đúng biểu mẫu của {named}."),
    _p("identity-from-content", WARNING, I, "Đơn vị nhận ra theo nội dung",
       _IDENTIFIED_BY.format("nội dung trang tính"), _IDENTIFY_NEXT_TIME),
    _p("identity-from-filename", WARNING, I, "Đơn vị nhận ra theo tên tệp",
       _IDENTIFIED_BY.format("tên tệp"), _IDENTIFY_NEXT_TIME),
    # The form's structure.
    _p("names-missing", WARNING, C, "Mất tên ô",
       "Tệp không còn tên ô của biểu mẫu (có thể số liệu đã được dán sang tệp khác); số liệu được đọc theo mã ở "
       "cột «Mã». {Hint}", "đề nghị kiểm tra kỹ."),
    _p("missing-sheet", ERROR, C, "Mất trang tính",
       "Thiếu trang tính «{sheet}» của biểu mẫu; {hint}", _SAME_FORM + ", không xóa hoặc đổi tên trang tính."),
    _p("missing-name", ERROR, C, "Mất ô nhập",
       "Không tìm thấy ô nhập «{label}» trong tệp; {hint}", _SAME_FORM + ", không xóa dòng."),
    _p("name-broken", ERROR, C, "Tên ô bị hỏng",
       "Ô nhập «{label}» đã bị xóa (tên ô báo lỗi #REF!); {hint}", _SAME_FORM + "."),
    _p("rows-shifted", ERROR, C, "Dòng bị xóa hoặc chèn",
       "Trang «{sheet}»: {count} ô nhập không còn nằm đúng dòng của mình (ví dụ «{label}»: {seen}); có dòng đã "
       "bị xóa hoặc chèn bằng phần mềm không cập nhật tên ô, nên các số này không được đọc. {Hint}",
       "đề nghị điền lại vào biểu mẫu gốc."),
    _p("formula-overwritten", WARNING, C, "Công thức bị ghi đè",
       "Công thức {what} ở ô {ref} (dòng «{label}») đã bị ghi đè; {hint}", "không nhập số vào cột này."),
    # An error without a value; a warning (variant "with-value") when it has one.
    _p("formula-in-input", ERROR, C, "Công thức trong ô nhập",
       "{where} chứa công thức nhưng chưa có giá trị (tệp chưa được tính lại); {hint}",
       "đề nghị nhập số trực tiếp.",
       with_value="{where} chứa công thức; đã lấy giá trị đang hiển thị «{shown}». {Hint}"),
    # Values.
    _p("type-error", ERROR, C, "Không phải số",
       "{where}: «{shown}» không phải là số; {hint}", "đề nghị chỉ nhập số.",
       said_none="{where}: «{shown}» không phải là số; {hint} Nếu không có trường hợp nào, nhập 0.",
       yes_no="{where}: «{shown}» không phải Có/Không; đề nghị chọn trong danh sách."),
    _p("ambiguous-number", ERROR, C, "Số viết không rõ",
       "{where}: «{shown}» có thể hiểu theo hai cách (dấu phẩy là phân cách hàng nghìn hay thập phân?); {hint}",
       _NO_SEPARATOR),
    _p("percent-sign", WARNING, C, "Số có dấu %",  # an error in a count
       "{where}: «{shown}» là tỷ lệ phần trăm; biểu mẫu chỉ nhận số đếm, tỷ lệ được tính tự động.",
       "nhập số đếm; tỷ lệ được tính tự động."),
    _p("number-as-text", WARNING, C, "Số nhập dạng văn bản",
       "{where}: số «{shown}» được nhập dạng văn bản; đã đọc là {value}.",
       "kiểm tra số đã đọc; lần sau nhập số trực tiếp."),
    _p("decimal-in-count", ERROR, C, "Số lẻ ở số đếm",
       "{where}: {value} không phải số nguyên; {hint}", "số đếm phải là số nguyên."),
    _p("out-of-range", ERROR, C, "Ngoài khoảng cho phép",
       "{where}: {value} nằm ngoài khoảng cho phép {low} - {high}.",
       "kiểm tra lại số đã nhập."),
    _p("required-missing", ERROR, C, "Thiếu số liệu bắt buộc",
       "{where} chưa nhập. {Hint}",
       "nếu kết quả bằng không, nhập 0; nếu chưa có số liệu, ghi lý do ở cột «Giải thích»."),
    _p("explained-blank", WARNING, C, "Để trống có giải thích",
       "{where} chưa có số liệu: {reason}", "bổ sung số liệu khi có."),
    _p("blank-form", ERROR, C, "Biểu mẫu chưa được điền",
       "Biểu mẫu chưa được điền: không có ô nhập nào có số liệu. Có thể đơn vị đã gửi nhầm tệp biểu mẫu trống; "
       "{hint}", "đề nghị điền số liệu (chưa có số liệu thì ghi lý do ở cột «Giải thích») rồi gửi lại."),
    _p("probable-thousands", ERROR, C, "Có thể gõ nhầm dấu nghìn",
       "{where}: {value} không phải số nguyên; có phải {meant}? (Excel đặt theo tiếng Anh hiểu dấu chấm là dấu "
       "thập phân.) {Hint}", _NO_SEPARATOR),
    _p("legacy-encoding", WARNING, C, "Chữ gõ bằng TCVN3/VNI",
       "{where} gõ bằng bảng mã cũ ({encoding}); đã chuyển sang Unicode, {hint}",
       "đề nghị kiểm tra lại nội dung."),
    # Rules over several values of one unit.
    _p("cross-field-rule", ERROR, R, "Số liệu mâu thuẫn nhau",  # each rule sets its own severity
       "{says} ({detail})", "kiểm tra lại các số liệu được nêu."),
    _p("large-change", WARNING, R, "Thay đổi lớn so với năm trước",
       "Ô {cell} («{label}»): {value} so với {previous} năm trước ({direction} {change}%); {hint}",
       "đề nghị kiểm tra hoặc ghi giải thích.",
       explained="Ô {cell} («{label}»): {value} so với {previous} năm trước ({direction} {change}%); đơn vị đã "
                 "giải thích."),
    _p("small-denominator", WARNING, R, "Mẫu số nhỏ",
       "{indicator}: tính trên {denominator} trẻ em nên một trường hợp đã làm tỷ suất thay đổi {step} điểm; "
       "{hint}", "số liệu của đơn vị chỉ nên xem cùng số của toàn huyện."),
    # A unit among the others.
    _p("outlier", WARNING, X, "Khác thường so với đơn vị khác",
       "{indicator}: {rate} khác thường so với {peers} (trung vị {median}); {hint}",
       "đề nghị kiểm tra lại số liệu."),
    # When it came.
    _p("late-submission", WARNING, W, "Gửi muộn",
       "Tệp nhận ngày {received}, sau hạn {deadline} ({days} ngày).", "lần sau đề nghị gửi đúng hạn."),
]

PROBLEMS: Mapping[str, Problem] = MappingProxyType({p.code: p for p in _ROWS})


def title(code: str) -> str:
    """The Vietnamese title of a problem code; an unknown code (from an older store) is shown
    as a generic title rather than in English."""
    p = PROBLEMS.get(code)
    return p.title if p else "Vấn đề khác"


def issue(code: str, variant: str | None = None, /, *, severity: Severity | None = None, sheet: str | None = None,
          cell: str | None = None, field: str | None = None, rule: str | None = None,
          **values) -> ValidationIssue:
    """A problem found in a file, its message filled in from the table; `severity` only where
    the case decides it (a formula with a value, a percentage in a count, a rule's own)."""
    p = PROBLEMS[code]
    text = p.text(variant, sheet=sheet, cell=cell, field=field, **values)
    return ValidationIssue(code, severity or p.severity, text, sheet=sheet, cell=cell, field=field, rule=rule)


def unreadable(code: str, variant: str | None = None, /, **values) -> UnreadableFile:
    """The exception for a file that cannot (or must not) be read."""
    return UnreadableFile(code, PROBLEMS[code].text(variant, **values))


def skipped_file(code: str, path: str, variant: str | None = None) -> SkippedFile:
    """A file left in the inbox for the next run, as the collect result lists it."""
    p = PROBLEMS[code]
    assert p.severity == SKIPPED, code
    return SkippedFile(path, code, p.text(variant))


def markdown_table() -> str:
    """The table as the manual (docs/huong_dan.md) shows it (code, severity, group, title, hint)."""
    words = {ERROR: "lỗi", WARNING: "cảnh báo", SKIPPED: "bỏ qua"}
    lines = ["| Mã | Mức | Nhóm | Vấn đề | Việc cần làm |", "|---|---|---|---|---|"]
    for p in _ROWS:
        hint = p.hint.replace("{year}", "…").replace("{named}", "…")
        lines.append(f"| `{p.code}` | {words[p.severity]} | {p.group.label} | {p.title} | {hint[:1].upper() + hint[1:]} |")
    return "\n".join(lines)
