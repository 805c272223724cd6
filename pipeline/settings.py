"""Settings of the consolidating office (issuer, signer, recipient, deadline), as YAML data.
A workspace file overrides the built-in defaults key by key."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml

from pipeline.fsutil import read_yaml
from pipeline.errors import ConfigError


def default_settings_path() -> Path:
    return Path(__file__).parent / "defaults" / "settings.yaml"


def _deep_merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in (over or {}).items():
        out[k] = _deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


@dataclass
class Settings:
    data: dict

    @classmethod
    def load(cls, override: Path | None = None) -> Settings:
        data = _read(default_settings_path())
        if override is not None and Path(override).exists():
            data = _deep_merge(data, _read(Path(override)))
        s = cls(data)
        s.deadline(2024)  # fail early on a malformed deadline
        return s

    def __getitem__(self, key):
        return self.data[key]

    def get(self, key, default=None):
        return self.data.get(key, default)

    def deadline(self, year: int) -> date:
        text = str(self.data.get("deadline", "11-20"))
        try:
            month, day = (int(p) for p in text.split("-"))
            return date(year, month, day)
        except ValueError as e:
            raise ConfigError(f"Hạn nộp «{text}» trong settings.yaml phải có dạng tháng-ngày, ví dụ 11-20.") from e

    def check(self, name: str) -> float:
        return float(self.data.get("checks", {})[name])


def _read(path: Path) -> dict:
    try:
        data = read_yaml(path) or {}
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"Không đọc được tệp thông số {path}: {e}") from e
    if not isinstance(data, dict):
        raise ConfigError(f"Tệp thông số {path} không đúng cấu trúc.")
    return data
