"""Words the desk shows: numbers and dates the Vietnamese way, what to do next, and the short
messages the officer pastes into Zalo or an e-mail to a unit."""

from __future__ import annotations

from datetime import date, datetime

from pipeline.base.problems import Severity, ValidationIssue
from pipeline.store.status import Status
from pipeline.store.submissions import YearStatus
from pipeline.base.text import vn_number


def vn_int(x) -> str:
    return "" if x is None else vn_number(x, 0 if float(x).is_integer() else 1)


def figure(x) -> str:
    """A value or target as the table shows it (text targets such as CT13's are kept)."""
    if x is None:
        return ""
    if isinstance(x, (int, float)):
        return vn_number(x, 2)
    return str(x)


def day_text(x) -> str:
    if not x:
        return ""
    if isinstance(x, str):
        try:
            x = date.fromisoformat(x[:10])
        except ValueError:
            return x
    return f"{x:%d/%m/%Y}"


def moment_text(x) -> str:
    if not x:
        return ""
    try:
        d = datetime.fromisoformat(str(x))
    except ValueError:
        return str(x)
    return f"{d:%d/%m/%Y %H:%M}"


def _contact(settings) -> str:
    c = settings.get("contact") or {}
    bits = [x for x in (c.get("person"), c.get("phone"), c.get("email")) if x]
    return ", ".join(bits) or settings.get("coordinator", "")


def form_message(settings, unit, year: int, deadline: date, file: str) -> str:
    """Sending a unit its form: what to fill, by when, whom to ask."""
    who = settings.get("coordinator_short") or settings.get("coordinator", "")
    return (f"Kính gửi {unit.name}: {who} gửi biểu mẫu báo cáo kết quả thực hiện Chương trình hành động vì trẻ em "
            f"năm {year} (tệp {file}). Đề nghị điền các ô nền vàng ở các trang «Số liệu» và «Kinh phí» (xem trang "
            f"«Hướng dẫn»), giữ nguyên tên và cấu trúc tệp, gửi lại trước ngày {deadline:%d/%m/%Y}. "
            f"Cần hỏi xin liên hệ: {_contact(settings)}.")


# Notices about the file as a whole that ask nothing of the unit this year.
NOTHING_TO_FIX = ("late-submission", "legacy-xls")


def _clause(message) -> str:
    """A problem's message inside a longer sentence: without its own full stop."""
    return str(message).strip().rstrip(".").rstrip()


def _listed(issues: list[ValidationIssue], what: str) -> str:
    shown = "; ".join(_clause(i.message) for i in issues[:3])
    return shown + (f" (và {len(issues) - 3} {what} khác)" if len(issues) > 3 else "")


def reply_message(settings, name: str, status: Status, issues: list[ValidationIssue], year: int,
                  feedback: bool = False) -> str:
    """Answering a unit (`name`) about the file it sent, which stands at `status`. `feedback`
    says whether a feedback copy of this submission exists to send with it
    (feedback.needs_copy: none for a file whose only problems concern the file as a whole, such
    as being late or saved as .xls, and none for a file of no known unit); the message names
    one only then."""
    name = name or "đơn vị"
    ask = f" Cần hỏi xin liên hệ: {_contact(settings)}."
    if status == Status.MISSING:
        return (f"Kính gửi {name}: đến nay chưa nhận được báo cáo Chương trình hành động vì trẻ em năm {year} của "
                f"đơn vị; đề nghị gửi sớm.{ask}")
    if status == Status.REJECTED:
        errors = [i for i in issues if i.severity is Severity.ERROR]
        todo = (" Gửi kèm tệp phản hồi (các ô lỗi tô đỏ, có ghi chú); đề nghị sửa trên chính tệp đó và gửi lại."
                if feedback else " Đề nghị sửa các lỗi trên rồi gửi lại.")
        return f"Kính gửi {name}: tệp báo cáo năm {year} đơn vị gửi còn lỗi phải sửa: {_listed(errors, 'lỗi')}.{todo}{ask}"
    if status in (Status.ACCEPTED, Status.ACCEPTED_WITH_WARNINGS):
        text = f"Kính gửi {name}: đã nhận báo cáo năm {year} của đơn vị, số liệu hợp lệ. Cảm ơn đơn vị."
        checks = [i for i in issues if i.field or i.cell]
        notices = [i for i in issues if not (i.field or i.cell)]
        for i in notices:
            if i.code == "late-submission":
                text += f" {_clause(i.message)}; lần sau đề nghị gửi đúng hạn."
            else:
                text += f" {_clause(i.message)}."
        if checks and feedback:
            text += (" Một số số liệu có cảnh báo (tô vàng trong tệp phản hồi gửi kèm), đề nghị kiểm tra lại; nếu số "
                     "liệu đúng thì không cần gửi lại.")
        elif checks:
            text += (f" Một số số liệu có cảnh báo, đề nghị kiểm tra lại: {_listed(checks, 'cảnh báo')}; nếu số liệu "
                     "đúng thì không cần gửi lại.")
        elif notices and all(i.code in NOTHING_TO_FIX for i in notices):
            text += " Đơn vị không cần sửa hay gửi lại."
        return text
    return ""


def next_steps(st: YearStatus, state: dict, year: int) -> list[tuple[str, str]]:
    """What the officer does next (from the year's `YearStatus`), with the page where it is done."""
    steps = []
    if not state["forms"] and st.received == 0:
        steps.append(("Tạo biểu mẫu cho các đơn vị và gửi đi.", "/bieu-mau"))
        return steps
    if st.received == 0:
        steps.append(("Gửi mỗi đơn vị biểu mẫu của mình; tệp nhận về thì đưa vào trang Nhận tệp.", "/nhan-tep"))
        return steps
    if st.with_errors:
        steps.append((f"Gửi tệp phản hồi cho {st.with_errors} đơn vị có lỗi để sửa và gửi lại.",
                      f"/don-vi?tt={Status.REJECTED.value}"))
    if st.missing:
        when = "trước hạn" if st.days_left >= 0 else "đã quá hạn"
        steps.append((f"Đôn đốc {len(st.missing)} đơn vị chưa gửi ({when}).", f"/don-vi?tt={Status.MISSING.value}"))
    if not state["merged"]:
        steps.append(("Tổng hợp số liệu toàn huyện.", "/tong-hop"))
    elif not state["report"]:
        steps.append(("Viết báo cáo gửi tỉnh.", "/bao-cao"))
    else:
        steps.append(("Mở báo cáo bằng Word, sửa lời văn, ghi số và ngày, trình ký.", "/bao-cao"))
    return steps
