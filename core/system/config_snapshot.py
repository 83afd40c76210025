"""The validated config kept as plain JSON in the data dir, so an unchanged config is not validated again.

The snapshot is keyed on what the config is made of: the file's path and bytes, every TGTRIAGE_*
environment variable, the flags, and the schema itself (core/system/config.py's source). Any
change to one of them misses the snapshot, so the config is validated anew — a bad edit fails
exactly as without a snapshot. A snapshot is only written when reviving it gives back the very
config that was validated, and only where the data dir already exists.
"""

from __future__ import annotations

import hashlib
import json
import os
import types
from pathlib import Path
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel

from .paths import UnsafePathError, open_private_fd

FORMAT = 1
_SCHEMA = Path(__file__).with_name("config.py")
Model = TypeVar("Model", bound=BaseModel)


def snapshot_key(path: Path | None, raw: bytes | None, overrides: dict[str, Any] | None) -> str:
    """A digest of everything the config is made of (file, environment, flags, schema)."""
    digest = hashlib.sha256()
    digest.update(_SCHEMA.read_bytes())
    digest.update(b"\0file\0" + (raw if raw is not None else b"\0none"))
    environment = sorted(
        (name.upper(), value)
        for name, value in os.environ.items()
        if name.upper().startswith("TGTRIAGE_")
    )
    made_of = [FORMAT, str(path), environment, overrides or {}]
    digest.update(json.dumps(made_of, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def read_snapshot(snapshot: Path, key: str) -> dict[str, Any] | None:
    """The kept config's values when `snapshot` holds one made under `key`, else None."""
    try:
        kept = json.loads(snapshot.read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(kept, dict) or kept.get("key") != key:
        return None
    values = kept.get("config")
    return values if isinstance(values, dict) else None


def write_snapshot(snapshot: Path, key: str, config: BaseModel) -> None:
    """Keep `config` under `key` when reviving it is exact (best effort: a failure is skipped)."""
    values = json.loads(config.model_dump_json())
    if revive(type(config), values).model_dump() != config.model_dump():
        return  # a field this file cannot bring back exactly: always validate instead
    if not snapshot.parent.is_dir():
        return  # no data dir yet: nothing is written before the desk makes it
    partial = snapshot.with_name(f"{snapshot.name}.{os.getpid()}.tmp")
    try:
        fd = open_private_fd(partial, os.O_WRONLY | os.O_TRUNC)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump({"key": key, "config": values}, out)
        os.replace(partial, snapshot)
    except (OSError, UnsafePathError):
        partial.unlink(missing_ok=True)


def revive(model: type[Model], values: dict[str, Any]) -> Model:
    """`model` built from its JSON dump without validation (the values were validated before)."""
    fields = {
        name: _revive_value(info.annotation, values[name])
        for name, info in model.model_fields.items()
        if name in values
    }
    return model.model_construct(**fields)


def _revive_value(annotation: Any, value: Any) -> Any:
    """A JSON value turned back into the Python type `annotation` names (models, paths, tuples)."""
    origin, args = get_origin(annotation), get_args(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return revive(annotation, value) if isinstance(value, dict) else value
    if annotation is Path:
        return Path(value) if isinstance(value, str) else value
    if origin in (Union, types.UnionType):
        if value is None:
            return None
        for arg in args:
            if arg is not type(None) and _is_exact(arg, value):
                return _revive_value(arg, value)
        return value
    if origin is list and isinstance(value, list):
        return [_revive_value(args[0], item) for item in value]
    if origin is tuple and isinstance(value, list):
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_revive_value(args[0], item) for item in value)
        return tuple(_revive_value(arg, item) for arg, item in zip(args, value, strict=False))
    if origin is dict and isinstance(value, dict):
        return {key: _revive_value(args[1], item) for key, item in value.items()}
    return value


def _is_exact(annotation: Any, value: Any) -> bool:
    """Whether a JSON `value` is of the union member `annotation` (no conversion needed)."""
    if annotation is Path:
        return isinstance(value, str)
    if get_origin(annotation) is Literal:
        return value in get_args(annotation)
    if isinstance(annotation, type):
        if annotation is float:
            return isinstance(value, int | float) and not isinstance(value, bool)
        return isinstance(value, annotation)
    return True
