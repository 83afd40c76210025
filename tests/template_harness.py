"""Render contexts and template-file writers shared by the template tests."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from tgtriage.core.desk.models import Chat, User
from tgtriage.core.templates import RenderContext, Template, render

NOW = 1_700_000_000  # 2023-11-14 22:13:20 UTC
ANNA = User(id=7, first_name="Anna", last_name="Smirnova", username="anna_s")
MAX = User(id=1, first_name="Max", last_name="Petrov", username="max")
CHAT = Chat(id=-1001, title="Acme · Support")
FULL = RenderContext(
    customer=ANNA, agent=MAX, chat=CHAT, ticket="JIRA-123", now=NOW, tz=ZoneInfo("UTC")
)
EMPTY = RenderContext(now=NOW, tz=ZoneInfo("UTC"))


def text_of(body: str, ctx: RenderContext = FULL) -> str:
    """Render a one-off body."""
    return render(Template.build("t", body), ctx).text


def write(folder: Path, name: str, content: str) -> Path:
    """Write a template file and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(content, encoding="utf-8")
    return path


def table(key: str, body: str = "Hello", lang: str | None = None) -> str:
    """One [[template]] table as TOML text."""
    lang_line = f'lang = "{lang}"\n' if lang else ""
    return (
        f'[[template]]\nkey = "{key}"\ntitle = "{key} title"\ncategory = "General"\n'
        f'{lang_line}body = """\n{body}\n"""\n\n'
    )
