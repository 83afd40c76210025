"""Validation of the config: the TOML file, the TGTRIAGE_* environment and flags, by pydantic-settings.

Imported only when a config has to be validated (core/system/config.py `load_config`): a start
whose config is unchanged never pays for pydantic-settings.
"""

from __future__ import annotations

import difflib
import tomllib
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from .config import Config, ConfigError, _line_of

_FILE_DATA: ContextVar[dict[str, Any] | None] = ContextVar("_FILE_DATA", default=None)


class ConfigSettings(BaseSettings, Config):
    """Config read from flags, then the environment, then the file (in that order of weight)."""

    model_config = SettingsConfigDict(
        env_prefix="TGTRIAGE_", env_nested_delimiter="__", extra="forbid", defer_build=False
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Flags (init) win over the environment, which wins over the config file."""
        return (
            init_settings,
            env_settings,
            InitSettingsSource(settings_cls, _FILE_DATA.get() or {}),
        )


def _describe(error: dict[str, Any], data: dict[str, Any]) -> str:
    """A fix-oriented description of one pydantic error (`data`: the file's TOML)."""
    kind = error.get("type", "")
    loc = tuple(error.get("loc", ()))
    if kind == "extra_forbidden" and len(loc) == 1 and isinstance(data.get(str(loc[0])), dict):
        sections = [name for name in Config.model_fields if name != "agent_name"]
        close = difflib.get_close_matches(str(loc[0]), sections, n=1)
        hint = f"did you mean [{close[0]}]?" if close else f"sections: {', '.join(sections)}"
        return f"unknown section; remove it or fix its name ({hint})"
    if kind == "extra_forbidden":
        return "unknown key; remove it or check its spelling (see README 'Configuration')"
    if kind == "missing":
        return "is required"
    message = str(error.get("msg", "invalid value"))
    return message.removeprefix("Value error, ")


def validate_config(
    path: Path | None, raw: bytes | None, overrides: dict[str, Any] | None
) -> Config:
    """Validate the file's bytes `raw` (None: no file), the environment and `overrides`."""
    data: dict[str, Any] = {}
    text = ""
    name = str(path) if path else "<defaults>"
    if raw is not None:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ConfigError(
                f"{name}: cannot read the file ({exc}); fix its permissions or encoding"
            ) from exc
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(
                f"{name}: not valid TOML: {exc}; fix the syntax on that line"
            ) from exc
    token = _FILE_DATA.set(data)
    try:
        settings = ConfigSettings(**(overrides or {}))
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(first.get("loc", ()))
        key = ".".join(str(p) for p in loc)
        line = _line_of(text, loc) if text else None
        where = f"{name}:{line}" if line else name
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ConfigError(f"{where}: {key}: {_describe(dict(first), data)}{more}") from exc
    finally:
        _FILE_DATA.reset(token)
    values = {name: getattr(settings, name) for name in Config.model_fields}
    return Config.model_construct(settings.model_fields_set, **values)
