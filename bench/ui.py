"""Benchmark of the desk (`treem ui`): how long each page takes for a district and for a
10,000-unit roster, and how long one uploaded file takes to its verdict on a district.

    python bench/ui.py [--units 10000] [--repeat 5]

Pages are timed over HTTP against a running server (uvicorn in a thread): the first request
after new data (the desk's cache of store reads emptied), then the median and worst of
--repeat further requests. The large workspace has a
synthetic roster, one stored submission per unit (every 7th with an error) and a merge."""

from __future__ import annotations

import argparse
import http.client
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from run import commune_values, synthetic_roster  # noqa: E402

from pipeline.store.db import Store, SubmissionRecord  # noqa: E402
from pipeline.desk.server import Running  # noqa: E402
from pipeline.config.workspace import init_workspace  # noqa: E402

YEAR = 2024
PAGES = ["/", "/bieu-mau", "/nhan-tep", "/don-vi", "/don-vi?trang=100", "/tong-hop", "/bao-cao", "/cai-dat"]
LIMIT_MS = 300


class Client:
    def __init__(self, desk: Running):
        self.port, self.headers = desk.port, {"Host": f"127.0.0.1:{desk.port}"}
        status, headers, _ = self.request("GET", f"/?token={desk.token}")
        self.headers["Cookie"] = headers["set-cookie"].split(";")[0]

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        c.request(method, path, body=body, headers={**self.headers, **(headers or {})})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data

    def time_page(self, path: str, repeat: int, desk: Running) -> dict:
        desk.app.app.state.desk._cache.clear()  # as after new data: the store is read again
        t = time.perf_counter()
        status, _, _ = self.request("GET", path)
        cold = (time.perf_counter() - t) * 1000
        assert status == 200, (path, status)
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            self.request("GET", path)
            times.append((time.perf_counter() - t) * 1000)
        return {"median_ms": round(statistics.median(times), 1), "worst_ms": round(max(times), 1),
                "after_new_data_ms": round(cold, 1)}

    def run_job(self, path: str) -> None:
        status, _, data = self.request("POST", path, b"", {"Origin": f"http://127.0.0.1:{self.port}",
                                                           "Accept": "application/json"})
        job = json.loads(data)["job"]
        while json.loads(self.request("GET", f"/viec/{job}")[2])["state"] not in ("done", "failed"):
            time.sleep(0.05)

    def first_view(self, path: str) -> float:
        t = time.perf_counter()
        status, _, _ = self.request("GET", path)
        assert status == 200
        return round((time.perf_counter() - t) * 1000, 1)

    def upload(self, path: Path) -> float:
        """Seconds from sending the file to its verdict being stored."""
        boundary = "treembench"
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"tep\"; filename=\"{path.name}\"\r\n"
                f"Content-Type: application/octet-stream\r\n\r\n").encode() + path.read_bytes() + \
            f"\r\n--{boundary}--\r\n".encode()
        t = time.perf_counter()
        status, _, data = self.request("POST", "/nhan-tep/tai-len", body, {
            "Content-Type": f"multipart/form-data; boundary={boundary}", "Origin": f"http://127.0.0.1:{self.port}"})
        assert status == 200, data
        job = json.loads(data)["job"]
        while True:
            _, _, data = self.request("GET", f"/viec/{job}")
            state = json.loads(data)
            if state["state"] in ("done", "failed"):
                break
            time.sleep(0.02)
        took = time.perf_counter() - t
        assert state["state"] == "done", state
        return took


def district(work: Path, repeat: int) -> dict:
    from pipeline.demo import fill_workbook, run_demo

    ws_dir = work / "district"
    run_demo(ws_dir, YEAR)
    out: dict = {"units": 45}
    with Running(ws_dir, year=YEAR) as desk:
        client = Client(desk)
        out["pages"] = {p: client.time_page(p, repeat, desk) for p in PAGES}
        form = ws_dir / "output" / str(YEAR) / "bieu_mau" / "2024_15760_xa-tho-vuc.xlsx"
        sent = fill_workbook(form, work / "tho vuc gui lai.xlsx", {"children_total": 5000, "children_u1": 300})
        out["upload_to_verdict_seconds"] = [round(client.upload(sent), 2) for _ in range(3)]
    return out


def large(work: Path, n: int, repeat: int) -> dict:
    from pipeline.merge.merger import merge

    ws, _ = init_workspace(work / f"n{n}")
    (ws.root / "roster.yaml").write_text(yaml.safe_dump(synthetic_roster(n), allow_unicode=True), encoding="utf-8")
    t = time.perf_counter()
    with Store(ws.db_path) as store, store.transaction():
        for i in range(n):
            unit = f"B{i:05d}"
            bad = i % 7 == 0
            rec = SubmissionRecord(year=YEAR, sha256=f"sha{i}", path=f"{YEAR}_{unit.lower()}_xa.xlsx", size=90_000,
                                   received_at=f"{YEAR}-11-15T09:00:00", status="rejected" if bad else "accepted",
                                   unit=unit, saved_at=f"{YEAR}-11-15T08:00:00", on_time=True, collected_at="now")
            issues = [{"code": "cross-field-rule", "severity": "error", "sheet": "Số liệu", "cell": "F30",
                       "field": "ct05_u1_vaccinated", "message": "Số trẻ dưới 1 tuổi tiêm chủng đầy đủ không thể vượt "
                                                                 "số trẻ em dưới 1 tuổi."}] if bad else []
            store.add_submission(rec, [{"field": k, "value": v if not isinstance(v, str) else None,
                                        "text": v if isinstance(v, str) else None}
                                       for k, v in commune_values(i).items()], issues)
    fill_s = time.perf_counter() - t
    t = time.perf_counter()
    merge(ws, YEAR)
    out: dict = {"units": n, "setup": {"store_seconds": round(fill_s, 1), "merge_seconds": round(time.perf_counter() - t, 1)}}
    with Running(ws.root, year=YEAR) as desk:
        client = Client(desk)
        t = time.perf_counter()
        client.request("GET", "/")
        out["first_page_seconds"] = round(time.perf_counter() - t, 2)  # reads the roster once
        out["pages"] = {p: client.time_page(p, repeat, desk) for p in PAGES}
        t = time.perf_counter()
        client.run_job("/tong-hop/chay")  # a merge from the desk: it reads the pages' data again itself
        out["merge_from_desk_seconds"] = round(time.perf_counter() - t, 1)
        out["first_view_after_desk_merge_ms"] = {p: client.first_view(p) for p in PAGES}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--units", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--keep", action="store_true", help="keep the workspaces (printed)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="treem-ui-bench-"))
    try:
        results = {"district": district(work, args.repeat), "large": large(work, args.units, args.repeat)}
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(results, ensure_ascii=False, indent=2))
    slow = [(k, p, v["worst_ms"]) for k, r in results.items() for p, v in r["pages"].items() if v["median_ms"] > LIMIT_MS]
    slow += [("large after a desk merge", p, ms) for p, ms in results["large"]["first_view_after_desk_merge_ms"].items()
             if ms > LIMIT_MS]
    for k, p, ms in slow:
        print(f"SLOW: {k} {p}: over {LIMIT_MS} ms (worst {ms} ms)")
    if max(results["district"]["upload_to_verdict_seconds"]) >= 2:
        print("SLOW: upload to verdict took 2 s or more")
    sys.exit(1 if slow else 0)


if __name__ == "__main__":
    main()
