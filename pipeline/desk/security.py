"""What keeps the desk to its officer: a token per run (a cookie after the first visit), the
server's own Host and Origin only, bounded uploads with harmless names, and downloads by an
id the server handed out, never by a path."""

from __future__ import annotations

import hashlib
import ipaddress
import re
import secrets
import unicodedata
from pathlib import Path
from urllib.parse import urlencode

from starlette.datastructures import URL, QueryParams
from starlette.responses import HTMLResponse, RedirectResponse

COOKIE = "treem_token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
_WINDOWS_DEVICES = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}
_BAD_CHARS = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')


def new_token() -> str:
    return secrets.token_urlsafe(24)


def allowed_hosts(host: str, port: int) -> tuple[set[str], bool]:
    """The Host headers this server answers to, and whether any IP literal is fine too (when
    it listens on every interface, its addresses are not known in advance; an IP literal
    cannot be a rebound DNS name)."""
    names = {f"{n}:{port}" for n in LOOPBACK_NAMES}
    shown = f"[{host}]" if ":" in host else host
    names.add(f"{shown}:{port}")
    return names, host in ("0.0.0.0", "::")


def _is_ip_literal(hostport: str) -> bool:
    host = hostport.rsplit(":", 1)[0].strip("[]")
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def _refuse(status: int, message: str):
    page = (f"<!doctype html><meta charset='utf-8'><title>Từ chối</title><body style='font-family:sans-serif'>"
            f"<h1>Từ chối truy cập</h1><p>{message}</p></body>")
    return HTMLResponse(page, status_code=status)


class Guard:
    """ASGI middleware for every request."""

    def __init__(self, app, token: str, hosts: set[str], any_ip: bool, max_body: int):
        self.app, self.token, self.hosts, self.any_ip, self.max_body = app, token, hosts, any_ip, max_body

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "")
        if host not in self.hosts and not (self.any_ip and _is_ip_literal(host)):
            return await _refuse(421, "Địa chỉ máy chủ không đúng (chỉ mở bàn làm việc bằng địa chỉ treem ui đã in).")(
                scope, receive, send)
        method = scope["method"]
        if method not in SAFE_METHODS:
            origin = headers.get("origin") or _origin_of(headers.get("referer", ""))
            if origin != f"http://{host}":
                return await _refuse(403, "Yêu cầu đến từ một trang khác nên bị từ chối.")(scope, receive, send)
            length = headers.get("content-length")
            if length is None and "multipart" in headers.get("content-type", ""):
                return await _refuse(411, "Tệp tải lên phải có kích thước rõ ràng.")(scope, receive, send)
            if length is not None and (not length.isdigit() or int(length) > self.max_body):
                mb = self.max_body // (1024 * 1024)
                return await _refuse(413, f"Tệp tải lên quá lớn (tối đa {mb} MB một lần); tải từng tệp một.")(
                    scope, receive, send)
        url = URL(scope=scope)
        query = QueryParams(url.query)
        given = query.get("token")
        if given is not None:
            if not secrets.compare_digest(given.encode(), self.token.encode()):
                return await _refuse(403, "Mã truy cập không đúng. Mở lại địa chỉ mà lệnh treem ui đã in.")(
                    scope, receive, send)
            rest = [(k, v) for k, v in query.multi_items() if k != "token"]
            target = url.path + (f"?{urlencode(rest)}" if rest else "")
            response = RedirectResponse(target, status_code=303)
            response.set_cookie(COOKIE, self.token, httponly=True, samesite="strict", path="/")
            return await response(scope, receive, send)
        cookie = _cookie(headers.get("cookie", ""), COOKIE)
        if cookie is None or not secrets.compare_digest(cookie.encode(), self.token.encode()):
            return await _refuse(403, "Cần mã truy cập: mở bàn làm việc bằng địa chỉ đầy đủ mà lệnh treem ui đã in "
                                      "(có ?token=…).")(scope, receive, send)
        return await self.app(scope, receive, send)


def _origin_of(referer: str) -> str | None:
    m = re.match(r"^(https?://[^/]+)", referer)
    return m.group(1) if m else None


def _cookie(header: str, name: str) -> str | None:
    for part in header.split(";"):
        k, _, v = part.strip().partition("=")
        if k == name:
            return v
    return None


def safe_name(name: str) -> str:
    """A file name as the officer's unit sent it, minus anything that could leave the inbox or
    upset Windows: no folders, no "..", no control characters, no device names (CON, NUL…)."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[/\\]", name)[-1]
    name = _BAD_CHARS.sub("_", name).strip().strip(".").strip()
    name = re.sub(r"\.{2,}", ".", name)
    if not name:
        name = "tep_tai_len"
    stem, dot, ext = name.partition(".")
    if stem.upper().rstrip() in _WINDOWS_DEVICES:
        name = f"_{name}"
    if len(name) > 150:
        base, ext = (name.rsplit(".", 1) + [""])[:2]
        name = base[: 140] + (f".{ext[:8]}" if ext else "")
    return name


def save_upload(folder: Path, name: str, chunks, limit: int) -> Path:
    """Write an uploaded file into `folder` under its (safe) name, never over an existing file:
    "x.xlsx" taken gives "x (2).xlsx". Raises ValueError past `limit` bytes (nothing is left)."""
    folder.mkdir(parents=True, exist_ok=True)
    name = safe_name(name)
    base, ext = (name.rsplit(".", 1) + [""])[:2] if "." in name else (name, "")
    n = 1
    while True:
        candidate = name if n == 1 else f"{base} ({n}).{ext}" if ext else f"{base} ({n})"
        path = folder / candidate
        try:
            fh = open(path, "xb")  # exclusive: an existing file is never opened for writing
            break
        except FileExistsError:
            n += 1
    size = 0
    try:
        with fh:
            for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise ValueError(size)
                fh.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


class Downloads:
    """Files the pages link to, each under an id handed out when the page was drawn. A
    download names an id; the file must still lie under one of the allowed folders."""

    def __init__(self, secret: str):
        self.secret = secret
        self.paths: dict[str, Path] = {}

    def id_for(self, path: Path) -> str:
        key = hashlib.sha256(f"{self.secret}\0{Path(path).resolve()}".encode()).hexdigest()[:20]
        self.paths[key] = Path(path).resolve()
        return key

    def resolve(self, file_id: str, roots: list[Path]) -> Path | None:
        path = self.paths.get(file_id)
        if path is None or not path.is_file():
            return None
        for root in roots:
            try:
                path.relative_to(root.resolve())
                return path
            except ValueError:
                continue
        return None
