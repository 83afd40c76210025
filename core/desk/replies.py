"""Canned replies for the desk: the template library, usage counts and per-chat rendering."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from .. import templates as tpl
from ..rules.triage import Role
from ..system.paths import Paths
from .inbox import Inbox

LANG_SAMPLE = 20


class Replies:
    """The desk's template library, kept fresh, ranked for a chat and rendered for it."""

    def __init__(self, inbox: Inbox, paths: Paths) -> None:
        self.inbox = inbox
        self.paths = paths
        self.sources = tpl.library_sources(inbox.config, paths)
        self.watcher = tpl.LibraryWatcher(self.sources)
        self.library = self.watcher.library
        self.usage: dict[str, tuple[int, int]] = {}
        self._langs: dict[int, str | None] = {}
        self._waiting_senders: dict[tuple[int, int], int] = {}

    async def load_usage(self) -> None:
        """Read usage counts from the store (they order 'recently used first')."""
        self.usage = await self.inbox.template_usage()

    def _follow_sources(self) -> bool:
        """Follow the folders: a templates/ folder made later replaces the starter set."""
        sources = tpl.library_sources(self.inbox.config, self.paths)
        if sources == self.sources:
            return False
        self.sources = sources
        self.watcher = tpl.LibraryWatcher(sources)
        self.library = self.watcher.library
        return True

    def poll(self) -> bool:
        """Reload the library if its files (or folders) changed; True when it did."""
        if self._follow_sources():
            return True
        fresh = self.watcher.poll()
        if fresh is None:
            return False
        self.library = fresh
        return True

    def reload(self) -> None:
        """Reload the library now (the reload key)."""
        if not self._follow_sources():
            self.library = self.watcher.reload()

    @property
    def errors(self) -> list[str]:
        """Problems found in the template files, one line each."""
        return list(self.library.errors)

    async def language(self, chat_id: int) -> str | None:
        """The chat's language, guessed from its customers' recent messages (cached).

        Also looks up who wrote the waiting message, so `context` greets that customer.
        """
        await self._note_waiting_sender(chat_id)
        if chat_id not in self._langs:
            messages = await self.inbox.messages(chat_id, limit=LANG_SAMPLE)
            texts = [m.text for m in messages if self.inbox.role(m) is Role.CUSTOMER]
            self._langs[chat_id] = tpl.detect_lang(texts)
        return self._langs[chat_id]

    async def _note_waiting_sender(self, chat_id: int) -> None:
        """Remember the sender of the chat's waiting message (from the chat's recent messages)."""
        state = self.inbox.triage.get(chat_id)
        waiting = state.waiting_msg_id if state else None
        if waiting is None or (chat_id, waiting) in self._waiting_senders:
            return
        message = self.inbox.message(chat_id, waiting)
        if message is not None and message.sender_id is not None:
            self._waiting_senders[(chat_id, waiting)] = message.sender_id

    def language_now(self, chat_id: int) -> str | None:
        """`language()` without waiting (from the chat's recent messages in memory).

        The template popup opens in the frame that shows the typed `/`, so nothing on the way
        may wait for a store round trip.
        """
        state = self.inbox.triage.get(chat_id)
        waiting = state.waiting_msg_id if state else None
        if waiting is not None and (chat_id, waiting) not in self._waiting_senders:
            message = self.inbox.message(chat_id, waiting)
            if message is not None and message.sender_id is not None:
                self._waiting_senders[(chat_id, waiting)] = message.sender_id
        if chat_id in self._langs:
            return self._langs[chat_id]
        messages = self.inbox.recent(chat_id, limit=LANG_SAMPLE)
        texts = [m.text for m in messages if self.inbox.role(m) is Role.CUSTOMER]
        lang = tpl.detect_lang(texts)
        if self.inbox.messages_known(chat_id):  # a guess from no messages is not kept
            self._langs[chat_id] = lang
        return lang

    def suggest_now(self, chat_id: int, query: str, limit: int = 8) -> list[tpl.Template]:
        """`suggest()` without waiting (see `language_now`)."""
        lang = self.language_now(chat_id)
        return tpl.match(self.library, query, self.usage, lang, limit=limit, now=self.inbox.now())

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
        waiting = state.waiting_msg_id if state else None
        customer_id = self._waiting_senders.get((chat_id, waiting or 0))
        if customer_id is None:
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
        self.inbox.template_used(key)
        count, _ = self.usage.get(key, (0, 0))
        self.usage[key] = (count + 1, self.inbox.now())
