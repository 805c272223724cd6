"""The built-in demo: a district of about 210,000 people and 55,000 children whose units
fill their workbooks as real units do, mishaps included, through a whole annual cycle.

Numbers are synthetic but consistent: every commune has its own population and its own
rates, which improve from year to year; all cross-field rules hold unless a mishap breaks
one on purpose."""

from __future__ import annotations

import io
import random
import re
import shutil
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import openpyxl

from pipeline.base.errors import TreemError
from pipeline.config.roster import Unit
from pipeline.config.workspace import Workspace, init_workspace

if TYPE_CHECKING:
    from pipeline.collect.result import CollectResult
    from pipeline.merge.result import MergeResult
    from pipeline.reporting.report import ReportResult

MARKER = ".treem-demo"
# Share of the population (about 26% are children under 16).
AGE_SHARES = {"children_total": 0.262, "children_u1": 0.0142, "children_u5": 0.072, "children_0_8": 0.131,
              "children_age5": 0.0146, "children_7plus": 0.13, "children_11plus": 0.068, "minors_5_17": 0.205,
              "live_births": 0.0145}
# (numerator, denominator, rate in 2021, change per year, spread between communes)
RATES = {
    "ct02_served": ("children_0_8", 0.88, 0.012, 0.03),
    "ct04_measured": ("children_u5", 0.93, 0.005, 0.03),
    "ct05_u1_vaccinated": ("children_u1", 0.935, 0.004, 0.02),
    "ct05_u5_vaccinated": ("children_u5", 0.94, 0.006, 0.02),
    "ct08_special": ("children_total", 0.046, -0.002, 0.008),
    "ct09_abused": ("children_total", 0.0006, -0.00005, 0.0003),
    "ct10_child_labour": ("minors_5_17", 0.05, -0.002, 0.01),
    "ct11_injured": ("children_total", 0.00024, -0.00001, 0.0001),
    "ct14_registered": ("children_u5", 0.992, 0.001, 0.004),
    "ct15_developing": ("children_u5", 0.975, 0.002, 0.006),
    "ct16_age5_enrolled": ("children_age5", 0.982, 0.001, 0.008),
    "ct22_consulted": ("children_7plus", 0.36, 0.012, 0.05),
    "ct23_aware": ("children_total", 0.8, 0.012, 0.04),
    "ct24_participating": ("children_11plus", 0.36, 0.012, 0.05),
}
# Each office's own field of work: (what it leads, what it campaigns on, a shortfall, a request).
OFFICE_WORK = {
    "P-LDTBXH": ("bảo vệ trẻ em, trẻ em có hoàn cảnh đặc biệt và quyền tham gia của trẻ em",
                 "phòng, chống xâm hại và tai nạn thương tích trẻ em", "đội ngũ cộng tác viên bảo vệ trẻ em ở thôn, tổ "
                 "dân phố thường xuyên thay đổi, chưa được tập huấn đầy đủ", "bố trí kinh phí tập huấn cho cộng tác viên "
                 "bảo vệ trẻ em cấp thôn"),
    "P-TP": ("đăng ký khai sinh và trợ giúp pháp lý cho trẻ em", "phổ biến pháp luật về trẻ em và hôn nhân gia đình",
             "một số trường hợp đăng ký khai sinh quá hạn do cha mẹ đi làm ăn xa", "kết nối dữ liệu hộ tịch với cơ sở "
             "dữ liệu dân cư để rà soát trẻ chưa đăng ký khai sinh"),
    "CA-H": ("phòng ngừa, đấu tranh với tội phạm xâm hại trẻ em", "an toàn cho trẻ em trên môi trường mạng",
             "một số vụ xâm hại phát hiện muộn do gia đình ngại trình báo", "tăng cường phối hợp liên ngành trong xử lý "
             "tin báo về xâm hại trẻ em"),
    "P-GDDT": ("giáo dục, vệ sinh trường học và hỗ trợ tâm lý học đường", "kỹ năng sống và phòng, chống bạo lực học "
               "đường", "cơ sở vật chất cho học sinh khuyết tật ở một số trường còn thiếu", "đầu tư công trình vệ sinh "
               "và lối đi cho học sinh khuyết tật ở các trường còn thiếu"),
    "P-YT": ("chăm sóc sức khỏe, dinh dưỡng và tiêm chủng cho trẻ em", "dinh dưỡng hợp lý và tiêm chủng đầy đủ",
             "tỷ lệ suy dinh dưỡng thể thấp còi còn cao ở các xã phía tây", "bổ sung vi chất dinh dưỡng cho trẻ dưới 5 "
             "tuổi ở các xã khó khăn"),
    "P-VHTT": ("văn hóa, vui chơi cho trẻ em và phòng, chống tảo hôn", "xây dựng gia đình văn hóa, không tảo hôn",
               "một số thôn chưa có điểm vui chơi dành riêng cho trẻ em", "hỗ trợ các xã xây dựng điểm vui chơi cho trẻ "
               "em tại nhà văn hóa thôn"),
    "P-TCKH": ("bố trí và quyết toán kinh phí thực hiện Chương trình", "quản lý, sử dụng kinh phí đúng mục đích",
               "kinh phí sự nghiệp dành cho công tác trẻ em còn thấp so với nhu cầu", "ưu tiên kinh phí cho các mô hình "
               "bảo vệ trẻ em dựa vào cộng đồng"),
    "MTTQ": ("giám sát việc thực hiện quyền trẻ em", "phong trào «Toàn dân bảo vệ, chăm sóc và giáo dục trẻ em»",
             "việc vận động nguồn lực xã hội cho trẻ em chưa đồng đều giữa các xã", "biểu dương các tập thể, cá nhân "
             "tiêu biểu trong công tác trẻ em"),
    "HDTN": ("hoạt động thiếu nhi và diễn đàn trẻ em", "quyền và bổn phận của trẻ em trong các trường học",
             "hoạt động hè ở một số xã còn đơn điệu", "tổ chức diễn đàn trẻ em cấp huyện hằng năm"),
    "HLHPN": ("kiến thức nuôi dạy con cho phụ nữ, bà mẹ", "nuôi con khỏe, dạy con ngoan và phòng, chống bạo lực gia "
              "đình", "một bộ phận phụ nữ đi làm ăn xa, trẻ ở với ông bà", "nhân rộng mô hình «Mẹ đỡ đầu» cho trẻ mồ côi"),
    "HBTNTT": ("hỗ trợ trẻ em khuyết tật, trẻ mồ côi", "vận động hỗ trợ trẻ em có hoàn cảnh đặc biệt",
               "nguồn vận động hỗ trợ trẻ khuyết tật chưa ổn định", "hỗ trợ phục hồi chức năng tại cộng đồng cho trẻ "
               "khuyết tật"),
}


def narratives(code: str, year: int, rng: random.Random) -> dict[str, str]:
    lead, campaign, shortfall, request = OFFICE_WORK[code]
    return {
        "narr_direction": f"Tham mưu ban hành văn bản chỉ đạo về {lead} năm {year}; hướng dẫn, kiểm tra các xã, thị "
                          "trấn thực hiện.",
        "narr_communication": f"Tổ chức {rng.randint(4, 18)} hoạt động truyền thông về {campaign}, thu hút khoảng "
                              f"{rng.randint(6, 30) * 100} lượt người tham gia.",
        "narr_results": f"Các nhiệm vụ về {lead} cơ bản hoàn thành kế hoạch năm {year}.",
        "narr_limitations": f"{shortfall[0].upper()}{shortfall[1:]}.",
        "narr_next_year": f"Tiếp tục đẩy mạnh truyền thông về {campaign}; nâng cao chất lượng {lead}.",
        "narr_recommendations": f"Đề nghị UBND tỉnh, các sở, ngành {request}.",
    }


@dataclass
class DemoResult:
    workspace: Path
    year: int
    history_years: list[int] = field(default_factory=list)
    mishaps: list[str] = field(default_factory=list)
    collect: CollectResult | None = None
    merge: MergeResult | None = None
    report: ReportResult | None = None


def fill_workbook(template: Path, dest: Path, values: dict, saved_at: datetime | None = None) -> Path:
    """Type values into the named cells of a template and save, as a unit's Excel would.
    Strings are stored as typed text, never as formulas. A name missing from the workbook
    raises KeyError, so nothing is silently left unfilled."""
    wb = openpyxl.load_workbook(template)
    for name, value in values.items():
        (sheet, ref), = wb.defined_names[name].destinations
        cell = wb[sheet][ref]
        cell.value = value
        if isinstance(value, str):
            cell.data_type = "s"
    dest.parent.mkdir(parents=True, exist_ok=True)
    wb.save(dest)
    if saved_at is not None:
        set_saved_time(dest, saved_at)
    return dest


def set_saved_time(path: Path, when: datetime) -> None:
    """Record `when` as the workbook's save time (docProps/core.xml), as Excel writes it;
    openpyxl stamps its own clock on save."""
    stamp = when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(path) as zf:
        members = [(i, zf.read(i)) for i in zf.infolist()]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in members:
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]+", lambda m: m.group(1) + stamp, data)
            out.writestr(info, data)
    path.write_bytes(buf.getvalue())


class Town:
    """One commune's synthetic figures, stable from year to year."""

    def __init__(self, unit: Unit, rng: random.Random):
        self.unit = unit
        urban = unit.type == "thi_tran"
        self.population = rng.randint(9000, 14000) if urban else rng.randint(4200, 7600)
        self.offsets = {k: rng.gauss(0, spread) for k, (_, _, _, spread) in RATES.items()}
        self.seed = rng.random()
        self.urban = urban

    def values(self, year: int) -> dict:
        rng = random.Random(f"{self.unit.code}-{year}-{self.seed}")
        t = year - 2021
        pop = self.population * (1 + 0.008 * t)
        v: dict = {k: round(pop * share * rng.uniform(0.97, 1.03)) for k, share in AGE_SHARES.items()}
        v["children_u5"] = max(v["children_u5"], v["children_u1"] + 1)
        v["children_0_8"] = max(v["children_0_8"], v["children_u5"] + v["children_age5"])
        v["children_11plus"] = min(v["children_11plus"], v["children_7plus"])
        v["children_total"] = max(v["children_total"], v["children_u5"] + v["children_7plus"] + 1)
        for num, (den, base, slope, _) in RATES.items():
            rate = min(0.999, max(0.0, base + slope * t + self.offsets[num]))
            v[num] = min(v[den], round(v[den] * rate))
        v["ct03_deaths_u1"] = rng.choice([0, 0, 1, 1, 1, 2])
        v["ct03_deaths_neonatal"] = rng.randint(0, v["ct03_deaths_u1"]) if rng.random() < 0.4 else 0
        v["ct03_deaths_u5"] = v["ct03_deaths_u1"] + rng.choice([0, 0, 0, 1])
        v["ct04_underweight"] = round(v["ct04_measured"] * max(0.03, 0.095 - 0.006 * t + rng.gauss(0, 0.01)))
        v["ct04_stunted"] = round(v["ct04_measured"] * max(0.08, 0.185 - 0.006 * t + rng.gauss(0, 0.015)))
        obese = (0.07 if self.urban else 0.035) + rng.gauss(0, 0.006)
        v["ct04_obese"] = round(v["ct04_measured"] * max(0.005, obese))
        v["ct06_hiv_exposed"] = rng.choice([0, 0, 0, 1, 1, 2])
        v["ct06_hiv_infected"] = 0
        v["ct07_facilities"] = rng.randint(3, 6) + (3 if self.urban else 0)
        v["ct07_sanitary"] = v["ct07_facilities"] - (1 if rng.random() < max(0.05, 0.35 - 0.08 * t) else 0)
        v["ct08_special_cared"] = round(v["ct08_special"] * min(1, 0.93 + 0.008 * t + rng.gauss(0, 0.01)))
        v["ct11_injury_deaths"] = min(v["ct11_injured"], rng.choice([0, 0, 0, 1]))
        affected = round(self.population * 0.004 * rng.uniform(0.8, 1.2))
        v["ct12_disaster_affected"] = affected
        v["ct12_disaster_assisted"] = affected if rng.random() < 0.85 else round(affected * 0.9)
        v["ct13_child_marriages"] = max(0, round(self.population / 1500 * (1 - 0.06 * t) + rng.gauss(0, 0.4)))
        final = round(v["children_7plus"] * 0.125)
        v["ct17_primary_final"] = final
        v["ct17_primary_completed"] = round(final * min(1, 0.984 + 0.001 * t + rng.gauss(0, 0.004)))
        final9 = round(v["children_11plus"] * 0.24)
        v["ct18_lower_sec_final"] = final9
        v["ct18_lower_sec_completed"] = round(final9 * min(1, 0.945 + 0.004 * t + rng.gauss(0, 0.01)))
        v["ct19_schools"] = rng.randint(2, 4) + (2 if self.urban else 0)
        v["ct19_psych_support"] = min(v["ct19_schools"], round(v["ct19_schools"] * (0.7 + 0.08 * t)))
        v["ct20_disability_ready"] = min(v["ct19_schools"], round(v["ct19_schools"] * (0.5 + 0.05 * t)))
        v["ct20_disabled_needs"] = rng.randint(6, 18)
        v["ct20_disabled_access"] = round(v["ct20_disabled_needs"] * min(1, 0.76 + 0.03 * t))
        v["ct01_child_friendly"] = "Có" if rng.random() < min(0.98, 0.8 + 0.05 * t) else "Không"
        v["ct21_play_spot"] = "Có" if rng.random() < min(0.97, 0.7 + 0.06 * t) else "Không"
        planned = round(self.population / 80 * (1 + 0.05 * t))
        v["budget_ns_dia_phuong_planned"] = planned
        v["budget_ns_dia_phuong_spent"] = round(planned * rng.uniform(0.85, 1.0), 1)
        v["budget_cong_dong_planned"] = round(self.population / 400)
        v["budget_cong_dong_spent"] = v["budget_cong_dong_planned"]
        return v


def office_values(ws: Workspace, unit: Unit, towns: list[Town], year: int, drift: float = 0.0) -> dict:
    """An office reports the district-wide counts of the indicators it leads (the commune sums,
    give or take its own sources), its narratives and its budget."""
    rng = random.Random(f"{unit.code}-{year}")
    fields = ws.catalogue.fields_for(unit.type, unit.code)
    numerators = {i.numerator for i in ws.catalogue.indicators}
    totals: dict[str, float] = {}
    for t in towns:
        for k, v in t.values(year).items():
            if isinstance(v, (int, float)):
                totals[k] = totals.get(k, 0) + v
    v: dict = {}
    for f in fields:
        if f.section == "data" and f.code in totals:
            v[f.code] = round(totals[f.code] * (1 + drift if f.code in numerators else 1))
        elif f.section == "narrative" and unit.code in OFFICE_WORK:
            v[f.code] = narratives(unit.code, year, rng)[f.code]
    base = 80 + sum(map(ord, unit.code)) % 150
    v["budget_ns_dia_phuong_planned"] = round(base * (1 + 0.05 * (year - 2021)))
    v["budget_ns_dia_phuong_spent"] = round(v["budget_ns_dia_phuong_planned"] * rng.uniform(0.85, 1.0), 1)
    if unit.code in ("P-LDTBXH", "HBTNTT"):
        v["budget_vien_tro_planned"] = 120 + 10 * (year - 2021)
        v["budget_vien_tro_spent"] = round(v["budget_vien_tro_planned"] * 0.9, 1)
    return v


def prepare_workspace(root: Path) -> Workspace:
    root = Path(root)
    if root.exists() and any(root.iterdir()):
        if not (root / MARKER).exists():
            raise TreemError(f"Thư mục {root} đã có dữ liệu không phải của bản chạy thử; hãy chọn thư mục khác "
                             "(--workspace) để không ghi đè số liệu thật.")
        shutil.rmtree(root)
    ws, _ = init_workspace(root)
    (ws.root / MARKER).write_text("Thư mục chạy thử của treem; lệnh treem demo xóa và tạo lại thư mục này.\n",
                                  encoding="utf-8")
    return ws


def run_demo(root: Path, year: int = 2024, history_from: int = 2021,
             progress: Callable[[str], None] | None = None) -> DemoResult:
    """Create the demo workspace and run the cycle: earlier years quietly (so trends, last
    year's values and the year-over-year checks have data), then `year` with mishaps."""
    from pipeline.collect.run import collect
    from pipeline.merge.merger import merge
    from pipeline.reporting.report import report
    from pipeline.forms.writer import generate

    say = progress or (lambda msg: None)
    ws = prepare_workspace(root)
    result = DemoResult(ws.root, year)
    rng = random.Random(397)
    base = {u.code: Town(u, rng) for u in ws.roster.for_year(history_from) if u.is_commune}
    for y in range(history_from, year + 1):
        last = y == year
        say(f"Năm {y}: tạo biểu mẫu" if last else f"Năm {y}: tạo số liệu các năm trước")
        towns = towns_in_force(ws, base, history_from, y)
        gen = generate(ws, y)
        files = {f.unit: f.path for f in gen.files}
        say(f"Năm {y}: các đơn vị điền biểu mẫu")
        if last:
            result.mishaps = _fill_with_mishaps(ws, y, files, towns)
        else:
            _fill_clean(ws, y, files, towns)
            result.history_years.append(y)
        say(f"Năm {y}: thu nhận và kiểm tra")
        coll = collect(ws, y, feedback=last)
        say(f"Năm {y}: tổng hợp")
        merged = merge(ws, y)
        if last:
            result.collect, result.merge = coll, merged
    say(f"Năm {year}: viết báo cáo")
    result.report = report(ws, year)
    return result


def towns_in_force(ws: Workspace, base: dict[str, Town], base_year: int, year: int) -> dict:
    """The communes of `year`, each made of the base-year communes it took over: after the
    2025 reform one new commune reports what its four or five predecessors reported."""
    mapping = ws.roster.mapping(base_year, year)
    out = {}
    for u in ws.roster.for_year(year):
        if not u.is_commune:
            continue
        parts = [base[old] for old, new in mapping.items() if new == u.code and old in base]
        if len(parts) == 1 and parts[0].unit == u:
            out[u.code] = parts[0]
        elif parts:
            out[u.code] = MergedTown(u, parts)
    return out


class MergedTown:
    """A commune formed from several: counts add up, a yes needs every part to say yes."""

    def __init__(self, unit: Unit, parts: list[Town]):
        self.unit, self.parts = unit, parts

    def values(self, year: int) -> dict:
        out: dict = {}
        for part in self.parts:
            for k, v in part.values(year).items():
                if isinstance(v, str):
                    out[k] = "Có" if out.get(k, "Có") == "Có" and v == "Có" else "Không"
                else:
                    out[k] = round(out.get(k, 0) + v, 1)
        return out


def _received(year: int, day: int, hour: int = 9) -> datetime:
    return datetime(year, 11, day, hour, 0)


def _put(ws: Workspace, year: int, src: Path, name: str, when: datetime) -> Path:
    import os

    dst = ws.inbox(year) / name
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
    os.utime(dst, (when.timestamp(), when.timestamp()))
    return dst


def _fill_clean(ws: Workspace, year: int, files: dict, towns: dict) -> None:
    tmp = ws.root / "tmp-fill"
    for code, template in files.items():
        unit = ws.roster.get(code, ws.settings.deadline(year))
        values = towns[code].values(year) if code in towns else office_values(ws, unit, list(towns.values()), year)
        out = fill_workbook(template, tmp / template.name, _only(ws, unit, values), _received(year, 12))
        _put(ws, year, out, template.name, _received(year, 14))
    shutil.rmtree(tmp, ignore_errors=True)


def _only(ws: Workspace, unit: Unit, values: dict) -> dict:
    codes = {f.code for f in ws.catalogue.fields_for(unit.type, unit.code)}
    return {k: v for k, v in values.items() if k in codes}


def _fill_with_mishaps(ws: Workspace, year: int, files: dict, towns: dict) -> list[str]:
    """The usual state of the shared folder on 20 November."""
    from pipeline.reporting import libreoffice

    tmp = ws.root / "tmp-fill"
    codes = list(files)
    communes = [c for c in codes if c in towns]
    missing, late, twice, over, text_nums, as_xls = random.Random(year).sample(communes, 6)
    names = {c: ws.roster.get(c, ws.settings.deadline(year)).name for c in codes}
    said = [f"{names[missing]} không gửi báo cáo.", f"{names[late]} gửi muộn (ngày 25/11).",
            f"{names[twice]} gửi hai lần: lần đầu nhập nhầm, lần sau đã sửa.",
            f"{names[over]} nhập số trẻ tiêm chủng lớn hơn số trẻ dưới 1 tuổi.",
            f"{names[text_nums]} nhập số dạng văn bản («1.234», dấu phẩy thập phân).",
            "Một tệp PDF (bản scan công văn) bị để lẫn vào thư mục."]
    if "P-YT" in files:
        said.append("Phòng Y tế báo số liệu toàn huyện lệch với tổng các xã.")
    if "P-VHTT" in files:
        said.append("Phòng Văn hoá - Thông tin gõ báo cáo bằng phông chữ TCVN3 (.VnTime).")
    for n, code in enumerate(codes):
        if code == missing:
            continue
        unit = ws.roster.get(code, ws.settings.deadline(year))
        template = files[code]
        if code in towns:
            values = towns[code].values(year)
        else:
            values = office_values(ws, unit, list(towns.values()), year, drift=-0.06 if code == "P-YT" else 0.0)
        values = _only(ws, unit, values)
        day = 13 + n % 7
        name = template.name
        if code == text_nums:
            values["children_total"] = f"{values['children_total']:,}".replace(",", ".")
            values["budget_ns_dia_phuong_spent"] = str(values["budget_ns_dia_phuong_spent"]).replace(".", ",")
        if code == over:
            values["ct05_u1_vaccinated"] = values["children_u1"] + 12
        if code == "P-VHTT":
            from pipeline.base.text import encode_tcvn3

            values["narr_limitations"] = encode_tcvn3(values["narr_limitations"])
        if code == twice:
            wrong = dict(values, ct14_registered=values["children_u5"] + 40, children_u1=str(values["children_u1"]) + ",5")
            out = fill_workbook(template, tmp / ("v1-" + name), wrong, _received(year, 14, 8))
            _put(ws, year, out, f"zalo/{names[code]} - báo cáo trẻ em.xlsx", _received(year, 14, 10))
            day, name = 18, f"zalo/{names[code]} - báo cáo trẻ em (bản sửa).xlsx"
        when = _received(year, 25 if code == late else day, 9 + n % 8)
        out = fill_workbook(template, tmp / name.replace("/", "_"), values, when.replace(hour=8))
        if code == as_xls and libreoffice.available():
            try:
                out = libreoffice.convert(out, "xls", tmp / "xls")
                name = Path(name).with_suffix(".xls").name
                said.append(f"{names[code]} lưu lại tệp dạng .xls (Excel 97-2003).")
            except libreoffice.LibreOfficeError:
                pass
        _put(ws, year, out, name, when)
    scan = tmp / "cong-van-scan.pdf"
    scan.write_bytes(b"%PDF-1.4\n% scanned letter\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n")
    _put(ws, year, scan, "cong-van-scan.pdf", _received(year, 19))
    shutil.rmtree(tmp, ignore_errors=True)
    return said
