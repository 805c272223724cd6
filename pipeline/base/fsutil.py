"""Small file-system helpers shared by the stages."""

from __future__ import annotations

import glob
import hashlib
import json
import os
from pathlib import Path


def atomic_write(path: Path, data: bytes, durable: bool = True) -> Path:
    """Write to a temporary file beside `path`, then rename: an interrupted run leaves the
    previous good file in place, never a half-written one. The temporary name is fixed, so
    what a killed run left is simply overwritten (callers hold the workspace lock). `durable`
    also flushes to disk before the rename (worth it for outputs, not for thousands of
    regenerable templates)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


# A province or national roster is megabytes of YAML: parsing it takes seconds, reading the
# same data back as JSON a few milliseconds. The parsed form is kept beside the file, keyed
# by the file's content hash, so an edit is always seen.
_YAML_CACHE_MIN_BYTES = 256 * 1024


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file, read a megabyte at a time."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_yaml(path: Path):
    """YAML through libyaml's C parser when present, the same safe subset as yaml.safe_load;
    large files go through the parse cache (dates come back as ISO strings there)."""
    import yaml

    path = Path(path)
    raw = path.read_bytes()
    cache = None
    if len(raw) >= _YAML_CACHE_MIN_BYTES:
        key = hashlib.sha256(raw).hexdigest()[:20]
        cache = path.parent / ".treem-cache" / f"{path.name}.{key}.json"
        try:
            return json.loads(cache.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pass
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    data = yaml.load(raw.decode("utf-8"), Loader=loader)  # noqa: S506 — a safe loader
    if cache is not None:
        try:
            for old in cache.parent.glob(f"{glob.escape(path.name)}.*.json"):
                old.unlink(missing_ok=True)
            atomic_write(cache, json.dumps(data, ensure_ascii=False, default=str).encode("utf-8"), durable=False)
        except OSError:
            pass  # a read-only folder: parse again next time
    return data
