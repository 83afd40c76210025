"""Rendering a template: placeholders filled from the chat, input fields as `‹name›` tab stops.

Rules (see `render`):
- An input field renders as its name between single guillemets, `‹order_id›`; `Rendered.fields`
  gives each one's offsets, and `unfilled_fields` finds the markers that are still in the text.
- Values come from untrusted Telegram data, so they are reduced to one clean line, and `‹ ›` in
  them become `< >` so that a customer's name can never look like an unfilled field.
- A placeholder that renders empty takes its surrounding space with it: followed by punctuation
  or the end of a line, the spaces before it and one comma before those go ("Hello, {{ x }}!" →
  "Hello!"); followed by a space, the spaces after it go ("Dear {{ x }} team" → "Dear team").
- `now.date` is YYYY-MM-DD and `now.time` HH:MM, in the context's time zone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING

from ..rules.sanitize import clean_line
from .template import FIELD_CLOSE, FIELD_MARKER, FIELD_OPEN, VARIABLES, Input, Quoted, Template

if TYPE_CHECKING:
    from ..desk.models import Chat, ChatTriage, Message, User

_PUNCT = set(",.!?;:)]}…»\"'")


@dataclass(frozen=True, slots=True)
class Field:
    """An input field's marker `‹name›` at [start, end) in a text."""

    name: str
    start: int
    end: int

    def shifted(self, by: int) -> Field:
        """The same field `by` characters further on."""
        return Field(self.name, self.start + by, self.end + by)


@dataclass(frozen=True, slots=True)
class Rendered:
    """A rendered template: the text to insert and its input fields (tab stops) in order."""

    text: str
    fields: list[Field]

    @property
    def cursor(self) -> int:
        """Where the cursor goes after insertion: the first field's start, else the end."""
        return self.fields[0].start if self.fields else len(self.text)


@dataclass(frozen=True, slots=True)
class RenderContext:
    """What placeholders are filled from, built from core models.

    `customer` is the customer whose message waits (else the last one who wrote; see
    `customer_id_for`), `agent` the logged-in account, `agent_name` the config override
    (Config.agent_name), `ticket` the chat's ticket reference, `now` Unix seconds, and `tz` the
    time zone for now.date/now.time (None: the machine's local zone).
    """

    customer: User | None = None
    agent: User | None = None
    agent_name: str | None = None
    chat: Chat | None = None
    ticket: str | None = None
    now: int = 0
    tz: tzinfo | None = None

    def value(self, name: str) -> str:
        """The clean one-line text of variable `name` ("" when unknown)."""
        return _safe(self._raw(name))

    def values(self) -> dict[str, str]:
        """Every variable's value, e.g. for a preview legend."""
        return {name: self.value(name) for name in VARIABLES}

    def _raw(self, name: str) -> str:
        """The value of `name` before cleaning."""
        customer, agent, chat = self.customer, self.agent, self.chat
        if name == "customer.first_name":
            return customer.first_name if customer else ""
        if name == "customer.name":
            return f"{customer.first_name} {customer.last_name}" if customer else ""
        if name == "customer.username":
            return (customer.username or "") if customer else ""
        if name in ("agent.first_name", "agent.name"):
            if self.agent_name and self.agent_name.strip():
                full = self.agent_name.strip()
                return full.split()[0] if name == "agent.first_name" else full
            if agent is None:
                return ""
            if name == "agent.first_name":
                return agent.first_name
            return f"{agent.first_name} {agent.last_name}"
        if name == "chat.title":
            return chat.title if chat else ""
        if name == "chat.ticket":
            return self.ticket or ""
        if name in ("now.date", "now.time"):
            moment = datetime.fromtimestamp(self.now, tz=self.tz or UTC)
            if self.tz is None:
                moment = moment.astimezone()
            return moment.strftime("%Y-%m-%d" if name == "now.date" else "%H:%M")
        return ""


def _safe(value: str) -> str:
    """Untrusted text as one clean line that cannot pose as a field marker."""
    return clean_line(value).replace(FIELD_OPEN, "<").replace(FIELD_CLOSE, ">")


def customer_id_for(triage: ChatTriage | None, messages: Iterable[Message] = ()) -> int | None:
    """The customer a reply goes to: the sender of the waiting message, else the last who wrote."""
    if triage is None:
        return None
    if triage.waiting_msg_id is not None:
        for message in messages:
            if message.id == triage.waiting_msg_id and message.sender_id is not None:
                return message.sender_id
    return triage.last_customer_id


def render(template: Template, ctx: RenderContext) -> Rendered:
    """Fill a template's placeholders from `ctx`; input fields become `‹name›` tab stops."""
    pieces: list[tuple[str, str | None]] = []  # (text, field name or None); "" = empty value
    for node in template.nodes:
        if isinstance(node, str):
            pieces.append((node, None))
            continue
        text, name = "", None
        for term in node.terms:
            if isinstance(term, Input):
                text, name = f"{FIELD_OPEN}{term.name}{FIELD_CLOSE}", term.name
            elif isinstance(term, Quoted):
                text = term.text
            else:
                text = ctx.value(term.name)
            if text:
                break
        pieces.append((text, name))
    return _assemble(pieces)


def _assemble(pieces: Sequence[tuple[str, str | None]]) -> Rendered:
    """Join rendered pieces, trimming the space around empty values; record field offsets."""
    out = ""
    fields: list[Field] = []
    skip_space = False
    for index, (text, name) in enumerate(pieces):
        if not text:
            following = next((t[0] for t, _ in pieces[index + 1 :] if t), "")
            if following == "" or following == "\n" or following in _PUNCT:
                trimmed = out.rstrip(" \t")
                if trimmed.endswith(",") and trimmed[:-1].rstrip(" \t")[-1:] not in ("", "\n"):
                    trimmed = trimmed[:-1]
                out = trimmed
            elif following in " \t" and (out == "" or out[-1] in " \t\n"):
                skip_space = True
            continue
        if skip_space:
            text = text.lstrip(" \t")
            skip_space = not text
            if not text:
                continue
        if name is not None:
            fields.append(Field(name, len(out), len(out) + len(text)))
        out += text
    return Rendered(out, fields)


def insert_rendered(text: str, start: int, end: int, rendered: Rendered) -> Rendered:
    """`text` with [start, end) (e.g. the typed `/word`) replaced by `rendered`, fields shifted."""
    new_text = text[:start] + rendered.text + text[end:]
    return Rendered(new_text, [f.shifted(start) for f in rendered.fields])


def unfilled_fields(text: str) -> list[Field]:
    """The `‹name›` field markers still in the composer text, in order."""
    return [Field(m.group(1), m.start(), m.end()) for m in FIELD_MARKER.finditer(text)]


def next_field(text: str, cursor: int) -> Field | None:
    """The field Tab goes to: the first starting at or after `cursor`, wrapping to the first."""
    fields = unfilled_fields(text)
    for item in fields:
        if item.start >= cursor:
            return item
    return fields[0] if fields else None


def previous_field(text: str, cursor: int) -> Field | None:
    """The field Shift+Tab goes to: the last ending at or before `cursor`, wrapping to the last."""
    fields = unfilled_fields(text)
    for item in reversed(fields):
        if item.end <= cursor:
            return item
    return fields[-1] if fields else None


def unfilled_message(text: str) -> str | None:
    """Why sending must wait ("fill ‹order_id› first (Tab jumps to it)"), or None if ready."""
    names = list(dict.fromkeys(f"{FIELD_OPEN}{f.name}{FIELD_CLOSE}" for f in unfilled_fields(text)))
    if not names:
        return None
    if len(names) == 1:
        return f"fill {names[0]} first (Tab jumps to it)"
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return f"fill {shown} first (Tab jumps between them)"
