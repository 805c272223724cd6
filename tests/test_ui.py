"""The desk's server without a browser: who may talk to it, what it saves and serves, and that
its pages show the library's own figures."""

from __future__ import annotations

import html
import re
import warnings
from datetime import date, timedelta

import pytest

warnings.filterwarnings("ignore", message=".*httpx.*")
starlette = pytest.importorskip("starlette.testclient", reason="Starlette (treem ui) is not installed")

from starlette.testclient import TestClient  # noqa: E402

from pipeline.base.problems import ERROR, ValidationIssue  # noqa: E402
from pipeline.store.status import Status  # noqa: E402
from pipeline.store.submissions import status  # noqa: E402
from pipeline.store.db import Store  # noqa: E402
from pipeline.store.submissions import current
from pipeline.desk.app import create_app  # noqa: E402
from pipeline.desk.security import safe_name, save_upload  # noqa: E402
from pipeline.config.workspace import Workspace  # noqa: E402
from conftest import COMMUNE_VALUES, YEAR, fill, store_values  # noqa: E402

PORT = 8765
BASE = f"http://127.0.0.1:{PORT}"
ORIGIN = {"origin": BASE}


def client(ws: Workspace, **options) -> TestClient:
    app = create_app(ws.root, "sesame", port=PORT, year=YEAR, **options)
    c = TestClient(app, base_url=BASE)
    c.get("/?token=sesame")  # the first visit sets the cookie
    return c


def wait_job(c: TestClient, job: int) -> dict:
    import time

    for _ in range(600):
        state = c.get(f"/viec/{job}").json()
        if state["state"] in ("done", "failed"):
            return state
        time.sleep(0.1)
    raise AssertionError("job did not finish")


# --- security -------------------------------------------------------------------------------
def test_every_request_needs_the_token(workspace):
    app = create_app(workspace.root, "sesame", port=PORT, year=YEAR)
    c = TestClient(app, base_url=BASE)
    r = c.get("/")
    assert r.status_code == 403 and "mã truy cập" in r.text.lower()
    assert c.get("/?token=wrong").status_code == 403
    assert c.get("/cai-dat").status_code == 403
    r = c.get("/?token=sesame", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"  # the token leaves the address bar
    assert "httponly" in r.headers["set-cookie"].lower() and "samesite=strict" in r.headers["set-cookie"].lower()
    assert c.get("/").status_code == 200  # the cookie now stands for the token
    assert TestClient(app, base_url=BASE, cookies={"treem_token": "guess"}).get("/").status_code == 403


def test_a_foreign_host_is_refused_even_with_the_token(workspace):
    c = client(workspace)
    r = c.get("/", headers={"host": f"evil.example:{PORT}"})
    assert r.status_code == 421 and "Từ chối" in r.text
    assert c.get("/", headers={"host": "127.0.0.1:9999"}).status_code == 421  # another port is another site
    assert c.get("/", headers={"host": f"localhost:{PORT}"}).status_code == 200


def test_a_post_from_another_origin_is_refused(workspace):
    c = client(workspace)
    before = (workspace.root / "settings.yaml").read_text(encoding="utf-8")
    form = {"nam": "2023", "ve": "/"}
    assert c.post("/nam", data=form, headers={"origin": "http://evil.example"}).status_code == 403
    assert c.post("/nam", data=form).status_code == 403  # no Origin, no Referer: refused too
    assert c.post("/nam", data=form, headers={"referer": "http://evil.example/page"}).status_code == 403
    assert c.app.app.state.desk.year == YEAR
    r = c.post("/nam", data=form, headers=ORIGIN, follow_redirects=False)
    assert r.status_code == 303 and c.app.app.state.desk.year == 2023
    assert (workspace.root / "settings.yaml").read_text(encoding="utf-8") == before


def test_an_upload_named_to_climb_out_lands_in_the_inbox(workspace):
    c = client(workspace)
    r = c.post("/nhan-tep/tai-len", headers=ORIGIN,
               files=[("tep", ("../../x.xlsx", b"PK not really", "application/octet-stream")),
                      ("tep", ("..\\..\\CON.xlsx", b"PK", "application/octet-stream"))])
    assert r.status_code == 200, r.text
    assert r.json()["saved"] == ["x.xlsx", "_CON.xlsx"]
    inbox = workspace.inbox(YEAR)
    assert sorted(p.name for p in inbox.iterdir()) == ["_CON.xlsx", "x.xlsx"]
    assert not (workspace.root / "x.xlsx").exists() and not (workspace.root.parent / "x.xlsx").exists()
    wait_job(c, r.json()["job"])


def test_an_oversized_upload_is_refused_and_leaves_nothing(workspace):
    c = client(workspace, max_upload=4096, max_file=1024)
    big = b"x" * 8192
    r = c.post("/nhan-tep/tai-len", headers=ORIGIN, files=[("tep", ("lon.xlsx", big, "application/octet-stream"))])
    assert r.status_code == 413 and "quá lớn" in r.text
    r = c.post("/nhan-tep/tai-len", headers=ORIGIN, files=[("tep", ("vua.xlsx", b"y" * 2000, "application/octet-stream"))])
    assert r.status_code == 413 and r.json()["error"] == "vua.xlsx: quá 1 KB, không nhận."
    assert not workspace.inbox(YEAR).exists() or list(workspace.inbox(YEAR).iterdir()) == []


@pytest.mark.parametrize("given, saved", [
    ("../../x.xlsx", "x.xlsx"), ("C:\\Windows\\system32\\a.xlsx", "a.xlsx"), ("CON", "_CON"),
    ("nul.xlsx", "_nul.xlsx"), ("com1.xls", "_com1.xls"), ("..", "tep_tai_len"), ("", "tep_tai_len"),
    ("bao cao: xã <Dân Lực>?.xlsx", "bao cao_ xã _Dân Lực__.xlsx"), ("a\x00b.xlsx", "a_b.xlsx"),
    (".hidden.xlsx", "hidden.xlsx"), ("Xa\u0303 Dân Lực.xlsx", "Xã Dân Lực.xlsx"),
])
def test_upload_names_are_made_harmless(given, saved):
    assert safe_name(given) == saved


def test_an_upload_never_overwrites(tmp_path):
    first = save_upload(tmp_path, "bao_cao.xlsx", [b"one"], 100)
    second = save_upload(tmp_path, "bao_cao.xlsx", [b"two"], 100)
    third = save_upload(tmp_path, "../bao_cao.xlsx", [b"three"], 100)
    assert [p.name for p in (first, second, third)] == ["bao_cao.xlsx", "bao_cao (2).xlsx", "bao_cao (3).xlsx"]
    assert [p.read_bytes() for p in (first, second, third)] == [b"one", b"two", b"three"]
    with pytest.raises(ValueError):
        save_upload(tmp_path, "big.xlsx", [b"x" * 60, b"x" * 60], 100)
    assert not (tmp_path / "big.xlsx").exists()


def test_downloads_go_by_id_and_only_from_output_and_inbox(workspace):
    c = client(workspace)
    secret = workspace.root / "treem.sqlite"
    secret.write_bytes(b"store")
    desk = c.app.app.state.desk
    assert desk.link(secret) is not None  # even a handed-out id for a file elsewhere is not served
    assert c.get(desk.link(secret)).status_code == 404
    out = workspace.output(YEAR)
    out.mkdir(parents=True)
    (out / "du_lieu.csv").write_text("a;b\n", encoding="utf-8")
    assert c.get(desk.link(out / "du_lieu.csv")).text == "a;b\n"
    for probe in ("/tai/../treem.sqlite", "/tai/%2e%2e%2ftreem.sqlite", "/tai/0000", "/static/../../treem.sqlite"):
        r = c.get(probe)
        assert r.status_code == 404 and b"store" not in r.content


def test_what_a_unit_typed_is_never_html(workspace):
    """A unit's name (from the roster) and its file's problems (from what it typed) are shown as
    text: a <script> comes out escaped."""
    evil = '<script>alert("x")</script>'
    roster = (workspace.root / "roster.yaml").read_text(encoding="utf-8")
    (workspace.root / "roster.yaml").write_text(roster.replace('name: "Xã Dân Lực"', f"name: '{evil}'"), encoding="utf-8")
    store_values(workspace, YEAR, "15700", COMMUNE_VALUES, status="rejected")
    with Store(workspace.db_path) as store:
        sid = next(s.id for s in store.submissions(YEAR) if s.unit == "15700")
        store.replace_issues(YEAR, "type-error", {sid: [ValidationIssue("type-error", ERROR,
                                                                        f"Giá trị «{evil}» không phải là số.",
                                                                        sheet="Số liệu", cell="F12",
                                                                        field="children_total")]})
    c = client(workspace)
    for page in ("/don-vi", "/don-vi/15700", "/nhan-tep", "/bieu-mau", "/cai-dat", f"/don-vi?q={evil}"):
        html = c.get(page).text
        assert "<script>alert" not in html, page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in c.get("/don-vi/15700").text


# --- pages ----------------------------------------------------------------------------------
def test_overview_shows_the_years_figures_from_the_library(workspace):
    for code in ("15700", "15703"):
        store_values(workspace, YEAR, code, COMMUNE_VALUES)
    store_values(workspace, YEAR, "15682", COMMUNE_VALUES, status="rejected")
    st = status(workspace, YEAR)
    html = client(workspace).get("/").text
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert f"Phải nộp {st.expected} đơn vị" in text
    assert "Đã nhận 3" in text and "Hợp lệ 2" in text and "Có lỗi 1" in text
    assert f"Chưa gửi {len(st.missing)}" in text
    assert "Hạn nộp 20/11/2024" in text
    assert "Gửi tệp phản hồi cho 1 đơn vị có lỗi" in text
    assert "Nhận tệp" in text  # the audit shows what came in


def test_tables_are_paginated_and_searchable(workspace):
    c = client(workspace)
    n = len(workspace.roster.for_year(YEAR))
    html = c.get("/don-vi").text
    assert html.count('<tr class="missing">') == min(n, 50)
    html = c.get("/don-vi?q=dân lực").text
    assert html.count('<tr class="missing">') == 1 and "Xã Dân Lực" in html
    assert "Xã Dân Lực" in c.get("/bieu-mau?q=15700").text


def test_the_year_chosen_once_holds_on_every_page(workspace):
    c = client(workspace)
    c.post("/nam", data={"nam": "2023", "ve": "/tong-hop"}, headers=ORIGIN)
    for page in ("/", "/bieu-mau", "/nhan-tep", "/don-vi", "/tong-hop", "/bao-cao", "/cai-dat"):
        assert "treem năm 2023</title>" in c.get(page).text, page
    r = c.post("/nam", data={"nam": "1999"}, headers=ORIGIN)
    assert "từ 2021" in r.text and c.app.app.state.desk.year == 2023


def test_merge_page_without_a_merge_says_what_to_do(workspace):
    html = client(workspace).get("/tong-hop").text
    assert "Chưa tổng hợp số liệu năm 2024" in html


def test_merge_page_names_each_indicator_as_the_plan_does(workspace):
    from pipeline.merge.merger import merge

    store_values(workspace, YEAR, "15700", COMMUNE_VALUES)
    merge(workspace, YEAR)
    page = client(workspace).get("/tong-hop").text
    labels = re.findall(r'<tr><td class="label">([^<]*)</td>', page)
    assert len(labels) == len(set(labels)) > 20  # one row per indicator, none named twice
    assert labels[labels.index("Chỉ tiêu 3a"):labels.index("Chỉ tiêu 3a") + 3] == ["Chỉ tiêu 3a", "Chỉ tiêu 3b",
                                                                                   "Chỉ tiêu 3c"]
    assert "Chỉ tiêu 4a" in labels and "Chỉ tiêu 12" in labels


def test_a_job_waits_while_the_cli_holds_the_lock(workspace):
    """A command running on the same workspace: the page says so and the button's work waits
    for it, then runs."""
    import threading
    import time

    c = client(workspace)
    release = threading.Event()

    def cli_run():
        with workspace.lock("treem collect"):
            release.wait(10)

    t = threading.Thread(target=cli_run)
    t.start()
    time.sleep(0.3)
    assert "Đang chạy: một lệnh treem khác" in c.get("/").text
    job = c.post("/bieu-mau/tao", headers={**ORIGIN, "accept": "application/json"}).json()["job"]
    time.sleep(1.0)
    state = c.get(f"/viec/{job}").json()
    assert state["state"] == "waiting" and "treem collect" in state["message"]
    assert not (workspace.output(YEAR) / "bieu_mau").exists()
    release.set()
    t.join()
    assert wait_job(c, job)["state"] == "done"
    assert len(list((workspace.output(YEAR) / "bieu_mau").glob("*.xlsx"))) == len(workspace.roster.for_year(YEAR))


def test_upload_then_verdict(workspace):
    from pipeline.forms.writer import generate

    generate(workspace, YEAR, ["15700", "15682"])
    forms = workspace.output(YEAR) / "bieu_mau"
    good = fill(forms / "2024_15700_xa-dan-luc.xlsx", workspace.root / "a.xlsx", COMMUNE_VALUES)
    bad = fill(forms / "2024_15682_xa-hop-thanh.xlsx", workspace.root / "b.xlsx",
               {**COMMUNE_VALUES, "ct05_u1_vaccinated": 400})
    c = client(workspace)
    r = c.post("/nhan-tep/tai-len", headers=ORIGIN, files=[("tep", ("dan luc.xlsx", good.read_bytes(), "x")),
                                                             ("tep", ("hop thanh.xlsx", bad.read_bytes(), "x"))])
    assert wait_job(c, r.json()["job"])["state"] == "done"
    html = c.get(r.json()["next"]).text
    rows = {name: status for status, name in re.findall(r'<tr class="(\w+) recent">\s*<td>(?:<a [^>]*>)?([^<]+)<', html)}
    assert rows.keys() == {"dan luc.xlsx", "hop thanh.xlsx"}
    assert rows["dan luc.xlsx"].startswith("accepted") and rows["hop thanh.xlsx"] == "rejected"
    assert sorted(p.name for p in workspace.inbox(YEAR).iterdir()) == ["dan luc.xlsx", "hop thanh.xlsx"]
    assert "Tệp phản hồi" in html and "không thể vượt" in html


def _replies(page: str) -> dict[str, str]:
    """Each file's reply on «Nhận tệp», by file name."""
    rows = re.findall(r'<tr class="\w+[^"]*">\s*<td>(?:<a [^>]*>)?([^<]+)<.*?</tr>', page, re.S)
    texts = re.findall(r'<tr class="\w+[^"]*">.*?(?:<textarea readonly rows="3" class="paste">([^<]*)</textarea>|</tr>)',
                       page, re.S)
    return {name: html.unescape(text) for name, text in zip(rows, texts)}


def test_replies_name_a_feedback_file_only_when_one_was_made(workspace, templates):
    from datetime import datetime

    from pipeline.collect.run import collect
    from conftest import inbox_copy

    late = fill(templates["15700"], workspace.root / "a.xlsx", COMMUNE_VALUES)
    inbox_copy(workspace, late, "dan luc.xlsx", datetime(YEAR, 11, 25, 9, 0))  # five days after 20/11
    bad = fill(templates["15682"], workspace.root / "b.xlsx", {**COMMUNE_VALUES, "ct05_u1_vaccinated": 400})
    inbox_copy(workspace, bad, "hop thanh.xlsx")
    pdf = workspace.root / "bao cao.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    inbox_copy(workspace, pdf, "bao cao.pdf")  # a unit sent its printed report instead of the form
    collect(workspace, YEAR)
    made = sorted(p.name for p in (workspace.output(YEAR) / "phan_hoi").glob("*.xlsx"))
    assert made == ["2024_15682_xa-hop-thanh_phan_hoi.xlsx"]  # late alone gets no copy
    replies = _replies(client(workspace).get("/nhan-tep").text)
    assert set(replies) == {"dan luc.xlsx", "hop thanh.xlsx", "bao cao.pdf"}
    assert all(".." not in r for r in replies.values()), replies
    late_reply = replies["dan luc.xlsx"]
    assert "sau hạn 20/11/2024" in late_reply and "Đơn vị không cần sửa hay gửi lại." in late_reply
    assert "phản hồi" not in late_reply and "cảnh báo" not in late_reply
    assert "Gửi kèm tệp phản hồi" in replies["hop thanh.xlsx"]
    pdf = replies["bao cao.pdf"]
    assert "tệp PDF" in pdf and "phản hồi" not in pdf and "Đề nghị sửa các lỗi trên rồi gửi lại." in pdf


@pytest.mark.parametrize("issues, feedback, says, never", [
    ([{"code": "legacy-xls", "severity": "warning", "message": "Tệp dạng Excel 97-2003 (.xls) đã được đọc; lần sau "
       "đề nghị giữ nguyên định dạng .xlsx của biểu mẫu."}], False,
     ["lần sau đề nghị giữ nguyên định dạng .xlsx", "Đơn vị không cần sửa hay gửi lại."], ["phản hồi", "cảnh báo"]),
    ([{"code": "late-submission", "severity": "warning", "message": "Tệp nhận ngày 25/11/2024, sau hạn 20/11/2024 "
       "(5 ngày)."}, {"code": "legacy-xls", "severity": "warning", "message": "Tệp dạng .xls."}], False,
     ["sau hạn 20/11/2024 (5 ngày); lần sau đề nghị gửi đúng hạn.", "Tệp dạng .xls.", "không cần sửa"], ["phản hồi"]),
    ([{"code": "yoy-change", "severity": "warning", "cell": "E12", "field": "ct02", "message": "Tăng 80%."}], True,
     ["tô vàng trong tệp phản hồi gửi kèm", "nếu số liệu đúng thì không cần gửi lại"], ["không cần sửa hay"]),
    ([{"code": "yoy-change", "severity": "warning", "cell": "E12", "field": "ct02", "message": "Tăng 80%."}], False,
     ["đề nghị kiểm tra lại: Tăng 80%; nếu số liệu đúng"], ["phản hồi"]),
])
def test_reply_to_an_accepted_file_says_what_the_unit_must_do(workspace, issues, feedback, says, never):
    from pipeline.desk.messages import reply_message

    text = reply_message(workspace.settings, "Xã Dân Lực", Status.ACCEPTED_WITH_WARNINGS,
                         [ValidationIssue(**i) for i in issues], YEAR, feedback=feedback)
    assert ".." not in text
    for s in says:
        assert s in text, (s, text)
    for s in never:
        assert s not in text, (s, text)


# --- settings -------------------------------------------------------------------------------
def test_settings_are_checked_all_at_once_in_vietnamese(workspace):
    c = client(workspace)
    before = (workspace.root / "settings.yaml").read_text(encoding="utf-8")
    form = {"issuer": "", "issuer_short": "UBND", "issuer_header": "", "place": "Triệu Sơn", "document_code": "BC-UBND",
            "signer_title": "CHỦ TỊCH", "signer_name": "", "recipient": "Sở Y tế", "recipients": "- Sở Y tế;",
            "deadline": "13-40", "contact_phone": "09x", "contact_email": "khong-phai-thu"}
    r = c.post("/cai-dat/luu", data=form, headers=ORIGIN)
    assert r.status_code == 400
    for expected in ("«Cơ quan ban hành» không được để trống", "«Phần đầu văn bản (mỗi dòng một dòng)» cần ít nhất",
                     "«Họ tên người ký» không được để trống", "«Hạn nộp»: «13-40»", "«Điện thoại đầu mối» «09x»",
                     "«Thư điện tử đầu mối» «khong-phai-thu»"):
        assert expected in r.text, expected
    assert (workspace.root / "settings.yaml").read_text(encoding="utf-8") == before


def test_settings_are_saved_with_the_files_comments(workspace):
    c = client(workspace)
    form = dict(re.findall(r'name="(\w+)" value="([^"]*)"', c.get("/cai-dat").text))
    form.update({"issuer": "Ủy ban nhân dân xã Triệu Sơn", "issuer_header": "ỦY BAN NHÂN DÂN\nXÃ TRIỆU SƠN",
                 "recipients": "- Sở Y tế tỉnh Thanh Hóa (để b/c);\n- Lưu: VT.", "signer_name": "Nguyễn Văn A",
                 "signer_title": "CHỦ TỊCH", "signer_deputy": "", "deadline": "5/11", "contact_phone": "0912 345 678",
                 "recipient": "Sở Y tế tỉnh Thanh Hóa"})
    r = c.post("/cai-dat/luu", data=form, headers=ORIGIN)
    assert r.status_code == 200 and "Đã lưu thông số" in r.text
    text = (workspace.root / "settings.yaml").read_text(encoding="utf-8")
    assert "# Thông số của đơn vị tổng hợp báo cáo." in text
    assert "# ngày/tháng hạn nộp hằng năm" in text and "# mã thống kê của huyện" in text
    ws = Workspace(workspace.root)
    assert ws.settings["issuer"] == "Ủy ban nhân dân xã Triệu Sơn"
    assert ws.settings["issuer_header"] == ["ỦY BAN NHÂN DÂN", "XÃ TRIỆU SƠN"]
    assert ws.settings["recipients"] == ["- Sở Y tế tỉnh Thanh Hóa (để b/c);", "- Lưu: VT."]
    assert ws.settings["signer"] == {"on_behalf": "TM. ỦY BAN NHÂN DÂN", "deputy": "", "title": "CHỦ TỊCH",
                                     "name": "Nguyễn Văn A"}
    assert ws.settings.deadline(2024).isoformat() == "2024-11-05"
    assert ws.settings["contact"]["phone"] == "0912 345 678"
    assert ws.settings.check("outlier_z") == 3.5  # what the form does not show is left alone


def _settings_form(page: str) -> dict:
    form = dict(re.findall(r'<input name="(\w+)" value="([^"]*)"', page))
    form.update({m[0]: html.unescape(m[1]) for m in re.findall(r'<textarea name="(\w+)"[^>]*>([^<]*)</textarea>', page)})
    return {k: html.unescape(v) for k, v in form.items()}


def test_settings_from_2025_are_the_reorganised_section_and_reach_the_report(workspace):
    from docx import Document

    from pipeline.merge.merger import merge
    from pipeline.reporting.report import report

    c = client(workspace)
    c.post("/nam", data={"nam": "2025", "ve": "/cai-dat"}, headers=ORIGIN)
    page = c.get("/cai-dat").text
    # What is in force in 2025: the health department, not the district's committee.
    form = _settings_form(page)
    assert form["issuer"] == "Sở Y tế tỉnh Thanh Hóa" and form["signer_title"] == "PHÓ GIÁM ĐỐC"
    assert form["issuer_header"] == "UBND TỈNH THANH HÓA\nSỞ Y TẾ" and form["signer_name"] == ""
    assert "đang xem và sửa mục «from_2025»" in page and "áp dụng cho các năm báo cáo từ 2025 trở đi" in page
    # The signer's name stays required.
    r = c.post("/cai-dat/luu", data=form, headers=ORIGIN)
    assert r.status_code == 400 and "«Họ tên người ký» không được để trống" in r.text
    form["signer_name"] = "Trần Thị Bình"
    r = c.post("/cai-dat/luu", data=form, headers=ORIGIN)
    assert r.status_code == 200 and "Đã lưu thông số vào mục «from_2025» của settings.yaml" in r.text
    text = (workspace.root / "settings.yaml").read_text(encoding="utf-8")
    assert "# «toàn địa bàn»: các xã mới trên địa bàn huyện cũ" in text  # the section's comments are kept
    ws = Workspace(workspace.root)
    assert ws.settings["signer"]["name"] == "Lê Quang Trung"  # the district's own years are untouched
    assert ws.settings["issuer"] == "Ủy ban nhân dân huyện Triệu Sơn"
    assert ws.for_year(2025).settings["signer"]["name"] == "Trần Thị Bình"
    assert ws.for_year(2025).settings["issuer"] == "Sở Y tế tỉnh Thanh Hóa"
    merge(ws, 2025)
    doc = Document(report(ws, 2025).docx)
    words = "\n".join([p.text for p in doc.paragraphs]
                      + [cell.text for t in doc.tables for row in t.rows for cell in row.cells])
    assert "Trần Thị Bình" in words and "Lê Quang Trung" not in words
    # Back in 2024 the page shows and edits the top level again.
    c.post("/nam", data={"nam": "2024", "ve": "/cai-dat"}, headers=ORIGIN)
    page = c.get("/cai-dat").text
    assert _settings_form(page)["signer_name"] == "Lê Quang Trung" and "đang xem và sửa các mục chung" in page


def test_a_deadline_set_year_by_year_is_shown_and_saved_for_the_chosen_year(workspace):
    path = workspace.root / "settings.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "deadline: 20/11 ", "deadline:\n  2024: 15/12\n  mac_dinh: 20/11\n#"), encoding="utf-8")
    assert Workspace(workspace.root).settings.deadline(2024).isoformat() == "2024-12-15"
    c = client(workspace)
    form = _settings_form(c.get("/cai-dat").text)
    assert form["deadline"] == "15/12"
    form["deadline"] = "10/12"
    assert c.post("/cai-dat/luu", data=form, headers=ORIGIN).status_code == 200
    ws = Workspace(workspace.root)
    assert ws.settings.deadline(2024).isoformat() == "2024-12-10" and ws.settings.deadline(2023).isoformat() == "2023-11-20"


def test_unit_contacts_are_saved_into_the_roster_with_its_comments(workspace):
    c = client(workspace)
    page = c.get("/cai-dat?q=15700").text
    assert 'name="person-15700"' in page
    r = c.post("/cai-dat/lien-he", headers=ORIGIN, data={"ma": "15700", "person-15700": "Lê Thị Hoa",
                                                         "phone-15700": "0912345678", "email-15700": "hoa@danluc.vn"})
    assert r.status_code == 200 and "Đã lưu người liên hệ của 1 đơn vị" in r.text
    text = (workspace.root / "roster.yaml").read_text(encoding="utf-8")
    assert "# DANH SÁCH ĐƠN VỊ BÁO CÁO" in text and "# ---- Cấp xã 2021-2024" in text
    assert 'contact: {person: "Lê Thị Hoa", phone: "0912345678", email: "hoa@danluc.vn"}' in text or \
        "Lê Thị Hoa" in text
    u = Workspace(workspace.root).roster.get("15700", __import__("datetime").date(2024, 11, 20))
    assert (u.contact.person, u.contact.phone, u.contact.email) == ("Lê Thị Hoa", "0912345678", "hoa@danluc.vn")
    # the reused code 15664 keeps its other period untouched
    r = c.post("/cai-dat/lien-he", headers=ORIGIN, data={"ma": "15700", "person-15700": "x", "phone-15700": "số",
                                                         "email-15700": "a@"})
    assert r.status_code == 400 and "điện thoại «số»" in r.text and "thư điện tử «a@»" in r.text


# --- the command ----------------------------------------------------------------------------
@pytest.mark.skipif(__import__("os").name == "nt", reason="Ctrl+C is sent as SIGINT here")
@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0"])
def test_treem_ui_prints_its_address_first_and_stops_on_ctrl_c(workspace, host):
    import signal
    import subprocess
    import sys
    import urllib.request

    proc = subprocess.Popen([sys.executable, "-m", "pipeline", "ui", "-w", str(workspace.root), "--port", "0",
                             "--no-browser", "--host", host], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/\?token=[\w-]{20,}", url), url
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        page = opener.open(url, timeout=30).read().decode("utf-8")  # the token becomes a cookie, then the page
        assert "Tổng quan năm" in page
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url.split("?")[0], timeout=30)  # no token, no cookie
        assert refused.value.code == 403
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Đã tắt bàn làm việc." in err
    assert ("Cảnh báo: bàn làm việc đang mở cho các máy khác" in err) == (host == "0.0.0.0")


# --- the officer's decisions --------------------------------------------------------------
def test_accept_and_received_date_buttons_record_decisions(workspace):
    from pipeline.store import decisions

    store_values(workspace, YEAR, "15682", COMMUNE_VALUES, status="rejected")
    c = client(workspace)
    page = c.get("/don-vi/15682").text
    assert 'action="/don-vi/15682/chap-nhan"' in page and 'action="/don-vi/15682/ngay-nhan"' in page
    r = c.post("/don-vi/15682/chap-nhan", headers=ORIGIN, data={"ghi_chu": ""})
    assert "Cần ghi lý do" in r.text
    assert decisions.decisions(workspace, YEAR) == []
    r = c.post("/don-vi/15682/chap-nhan", headers=ORIGIN, data={"ghi_chu": "Đã gọi điện xác nhận số liệu"})
    assert "Đã ghi quyết định" in r.text
    made = decisions.decisions(workspace, YEAR)
    assert len(made) == 1 and "Đã gọi điện xác nhận số liệu" in str(made[0])
    # The date is typed as the officer writes it (a date box would show mm/dd/yyyy in an English browser).
    assert 'type="datetime-local"' not in page and 'type="date"' not in page
    assert re.search(r'<input name="ngay" required[^>]*placeholder="18/11/2024"', page)
    for typed, refused in (("11/31/2024", "Ngày «11/31/2024» không đúng; ghi ngày/tháng/năm, ví dụ 18/11/2024."),
                           ("hôm qua", "Ngày «hôm qua» không đúng"), ("2024-11-19T16:30", "không đúng"),
                           (f"{date.today() + timedelta(days=1):%d/%m/%Y}", "chưa tới")):
        r = c.post("/don-vi/15682/ngay-nhan", headers=ORIGIN, data={"tep": "15682.xlsx", "ngay": typed, "ghi_chu": ""})
        assert refused in html.unescape(r.text), typed
    assert len(decisions.decisions(workspace, YEAR)) == 1
    r = c.post("/don-vi/15682/ngay-nhan", headers=ORIGIN,
               data={"tep": "15682.xlsx", "ngay": "19/11/2024", "ghi_chu": "Thư gửi đúng hạn, máy chủ chậm"})
    assert "Đã ghi quyết định" in r.text and len(decisions.decisions(workspace, YEAR)) == 2
    with Store(workspace.db_path) as store:
        assert current(store, YEAR)["15682"].received_at.startswith("2024-11-19")
    r = c.post("/don-vi/15682/ngay-nhan", headers=ORIGIN, data={"tep": "15682.xlsx", "ngay": "2024-11-18"})
    assert "Đã ghi quyết định" in r.text and len(decisions.decisions(workspace, YEAR)) == 3


@pytest.mark.parametrize("typed, day", [("18/11/2024", "2024-11-18"), ("8.11.2024", "2024-11-08"),
                                        ("18-11-2024", "2024-11-18"), (" 2024-11-18 ", "2024-11-18")])
def test_a_received_date_is_read_as_the_command_reads_it(typed, day):
    from pipeline.store.decisions import received_date

    assert received_date(typed).date().isoformat() == day


@pytest.mark.parametrize("typed", ["31/11/2024", "11/31/2024", "18/11", "", "2024-11-18T16:30"])
def test_a_bad_received_date_is_refused_in_vietnamese(typed):
    from pipeline.store.decisions import DecisionError, received_date

    with pytest.raises(DecisionError, match="không đúng; ghi ngày/tháng/năm, ví dụ 18/11/2024"):
        received_date(typed)
