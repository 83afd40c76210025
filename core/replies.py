"""Canned replies for the desk: the template library, usage counts and per-chat rendering."""

from __future__ import annotations

import time
from zoneinfo import ZoneInfo

from tgtriage.core import templates as tpl
from tgtriage.core.inbox import Inbox
from tgtriage.core.paths import Paths
from tgtriage.core.triage import Role

LANG_SAMPLE = 20


class Replies:
    """The desk's template library, kept fresh, ranked for a chat and rendered for it."""

    def __init__(self, inbox: Inbox, paths: Paths) -> None:
        self.inbox = inbox
        self.sources = tpl.library_sources(inbox.config, paths)
        self.watcher = tpl.LibraryWatcher(self.sources)
        self.library = self.watcher.reload()
        self.usage: dict[str, tuple[int, int]] = {}
        self._langs: dict[int, str | None] = {}

    async def load_usage(self) -> None:
        """Read usage counts from the store (they order 'recently used first')."""
        self.usage = await self.inbox.store.template_usage()

    def poll(self) -> bool:
        """Reload the library if its files changed; True when it did."""
        fresh = self.watcher.poll()
        if fresh is None:
            return False
        self.library = fresh
        return True

    def reload(self) -> None:
        """Reload the library now (the reload key)."""
        self.library = self.watcher.reload()

    @property
    def errors(self) -> list[str]:
        """Problems found in the template files, one line each."""
        return list(self.library.errors)

    async def language(self, chat_id: int) -> str | None:
        """The chat's language, guessed from its customers' recent messages (cached)."""
        if chat_id not in self._langs:
            messages = await self.inbox.store.messages(chat_id, limit=LANG_SAMPLE)
            texts = [m.text for m in messages if self.inbox.role(m) is Role.CUSTOMER]
            self._langs[chat_id] = tpl.detect_lang(texts)
        return self._langs[chat_id]

    def forget_language(self, chat_id: int) -> None:
        """A new customer message may change the guess."""
        self._langs.pop(chat_id, None)

    async def suggest(self, chat_id: int, query: str, limit: int = 8) -> list[tpl.Template]:
        """Templates matching `/query` for this chat, best first."""
        lang = await self.language(chat_id)
        return tpl.match(self.library, query, self.usage, lang, limit=limit, now=self.inbox.now())

    def context(self, chat_id: int) -> tpl.RenderContext:
        """What the placeholders of a template are filled from in this chat."""
        inbox = self.inbox
        state = inbox.triage.get(chat_id)
        customer_id = tpl.customer_id_for(state)
        customer = inbox.users.get(customer_id) if customer_id is not None else None
        hours = inbox.config.business_hours
        zone = ZoneInfo(hours.timezone) if hours.enabled else None
        return tpl.RenderContext(
            customer=customer,
            agent=inbox.me,
            agent_name=inbox.config.agent_name,
            chat=inbox.chats.get(chat_id),
            ticket=state.ticket if state else None,
            now=inbox.now(),
            tz=zone,
        )

    def render(self, template: tpl.Template, chat_id: int) -> tpl.Rendered:
        """The template's text for this chat, with its input fields."""
        return tpl.render(template, self.context(chat_id))

    async def used(self, key: str) -> None:
        """Count a use (feeds 'recently used first')."""
        await self.inbox.store.bump_template(key)
        count, _ = self.usage.get(key, (0, 0))
        self.usage[key] = (count + 1, int(time.time()))
