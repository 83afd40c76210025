"""The demo desk's script: the people, the support chats and their conversations, as plain data.

Everything the demo source says comes from this module; the simulator in `demo.py` only adds
timing, ids and a little randomness. To extend the demo, add a `Scenario` to `SCENARIOS` (or a
conversation to `AMBIENT` / `OLDER_THREADS`); `validate()` checks the result and names the
scenario and step of any mistake.

Vocabulary:
- `Past` lines form the backlog a chat has when the demo starts; `ago` is how long before
  "now" they were written ("1h15m", "40s").
- `Say`, `Edit`, `Delete` and `React` are live steps, run one after another per chat. `wait`
  is story time after the previous step (`after="prev"`) or after the next staff message in
  the chat (`after="staff"`: the customer waits for an answer before going on). A teammate
  step with `unless_answered=True` is skipped when the chat no longer waits for a reply.
- `who` is a customer key of the scenario, "me" (the engineer; backlog only), or a teammate
  key ("priya", "tom"). In `AMBIENT` and `OLDER_THREADS`, "c" is one of the chat's customers
  and "mate" a teammate ("mate" lines are dropped in private chats).
- Customers who wait in silence for `patience` write one of `NUDGES` ("anyone there?").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..desk.models import ChatKind, Media
from ..rules.durations import parse_duration

Lang = Literal["en", "ru"]


@dataclass(frozen=True, slots=True)
class Person:
    """Someone in the demo: the engineer, a teammate or a customer."""

    key: str
    id: int
    first_name: str
    last_name: str = ""
    username: str | None = None
    lang: Lang = "en"


@dataclass(frozen=True, slots=True)
class Past:
    """A backlog line, written `ago` before the demo starts."""

    ago: str
    who: str
    text: str = ""
    tag: str | None = None
    quote: str | None = None
    media: Media | None = None
    edited: bool = False
    service: bool = False


@dataclass(frozen=True, slots=True)
class Say:
    """A live message from a customer or a teammate."""

    who: str
    text: str = ""
    wait: str = "0s"
    after: Literal["prev", "staff"] = "prev"
    tag: str | None = None
    quote: str | None = None
    media: Media | None = None
    unless_answered: bool = False


@dataclass(frozen=True, slots=True)
class Edit:
    """A live edit of an earlier tagged message (the sender fixes a typo)."""

    tag: str
    text: str
    wait: str = "0s"


@dataclass(frozen=True, slots=True)
class Delete:
    """A live deletion of an earlier tagged message."""

    tag: str
    wait: str = "0s"


@dataclass(frozen=True, slots=True)
class React:
    """A live emoji reaction by `who` on an earlier tagged message."""

    who: str
    tag: str
    emoji: str
    wait: str = "0s"


Step = Say | Edit | Delete | React


@dataclass(frozen=True, slots=True)
class Scenario:
    """One support chat: who is in it, what happened before the start, what happens live."""

    key: str
    title: str
    kind: ChatKind
    chat_id: int
    customers: tuple[Person, ...]
    past: tuple[Past, ...] = ()
    live: tuple[Step, ...] = ()
    patience: str | None = "30s"
    older: int = 2
    appears: str | None = None

    @property
    def lang(self) -> Lang:
        """The chat's language: that of its first customer."""
        return self.customers[0].lang


def seconds(duration: str) -> int:
    """Parse a story duration like "1h15m", "2m30s" or "40s" into seconds."""
    try:
        return parse_duration(duration, units="hms")
    except ValueError:
        raise ValueError(
            f"bad duration {duration!r}: write it like '40s', '7m' or '1h15m'"
        ) from None


_CLOSING = ("thank", "thx", "cheers", "will wait", "go ahead", "спасибо", "🙏", "👍")


def sounds_closing(text: str) -> bool:
    """True when a customer's line ends the exchange (a thank-you, "ok, will wait"), not a question.

    Customers who just said thanks neither ask "anyone there?" nor answer the reply to it.
    """
    lowered = text.lower().strip()
    return not lowered.endswith("?") and any(token in lowered for token in _CLOSING)


def photo(size: int) -> Media:
    """A JPEG photo attachment of `size` bytes."""
    return Media(kind="photo", size=size, mime="image/jpeg")


def document(name: str, size: int, mime: str = "application/octet-stream") -> Media:
    """A file attachment."""
    return Media(kind="document", name=name, size=size, mime=mime)


# --- the desk's own people -------------------------------------------------------------------

ME = Person("me", 1001, "Alex", "Morgan", "alex_support")
PRIYA = Person("priya", 1002, "Priya", "Shah", "priya_ops")
TOM = Person("tom", 1003, "Tom", "Becker", "tbecker")
TEAMMATES: tuple[Person, ...] = (PRIYA, TOM)
STAFF: dict[str, Person] = {p.key: p for p in (ME, *TEAMMATES)}


def _group(n: int) -> int:
    """The marked id (-100…) of demo supergroup number `n`."""
    return -(1_000_000_000_000 + 1_700_000_100 + n)


# --- customers ------------------------------------------------------------------------------

DANA = Person("dana", 6100000001, "Dana", "Whitfield", "dana_w")
RAJ = Person("raj", 6100000002, "Raj", "Malhotra")
GRETA = Person("greta", 6100000003, "Greta", "Lindqvist", "greta_nw")
LENA = Person("lena", 6100000004, "Lena", "Hoffmann")
PETER = Person("peter", 6100000005, "Peter", "Novak", "pnovak")
SOFIA = Person("sofia", 6100000006, "Sofia", "Marquez")
NORA = Person("nora", 6100000007, "Nora", "Quinn", "noraq")
MARCUS = Person("marcus", 6100000008, "Marcus", "Bell")
ELENA = Person("elena", 6100000009, "Elena", "Park", "elena_p")
IGOR = Person("igor", 6100000010, "Игорь", "Волков", "ivolkov", "ru")
RUTH = Person("ruth", 6100000011, "Ruth", "Adler")
RACHEL = Person("rachel", 6100000012, "Rachel", "Kim", "rkim")
SAM = Person("sam", 6100000013, "Sam", "Ortiz")
TARIQ = Person("tariq", 6100000014, "Tariq", "Haddad", "tariqh")
MEI = Person("mei", 6100000015, "Mei", "Chen")
JONAS = Person("jonas", 6100000016, "Jonas", "Weber", "jweber")
MARIA = Person("maria", 5210000001, "Maria", "Lopez", "maria_makes_sites")
DMITRY = Person("dmitry", 5210000002, "Дмитрий", "Орлов", "d_orlov", "ru")
KENJI = Person("kenji", 5210000003, "Kenji", "Watanabe", "kenjiw")
OLGA = Person("olga", 5210000004, "Ольга", "Смирнова", None, "ru")


def _private(person: Person) -> tuple[str, int]:
    """Title and chat id of a private chat with `person`."""
    return f"{person.first_name} {person.last_name}".strip(), person.id


# --- the chats --------------------------------------------------------------------------------

SCENARIOS: tuple[Scenario, ...] = (
    # Busy: checkout errors, waiting ~20 min (level 2) when the demo starts; Tom steps in.
    Scenario(
        key="acme",
        title="Acme · Support",
        kind="supergroup",
        chat_id=_group(1),
        customers=(DANA, RAJ),
        older=8,
        past=(
            Past(
                "2h05m",
                "raj",
                "Morning! Is the Frankfurt region affected by the incident on the status page?",
                tag="fra",
            ),
            Past(
                "2h01m",
                "tom",
                "Morning Raj, no: only Amsterdam object storage is affected. Frankfurt is fine.",
                quote="fra",
            ),
            Past(
                "20m",
                "dana",
                "Hi, since this morning's deploy our checkout returns 502 on about every third request",
                tag="502",
            ),
            Past("19m40s", "dana", "screenshot from our monitoring", media=photo(214_331)),
            Past("19m10s", "dana", "anyone there?"),
            Past("12m", "dana", "still happening, roughly 30% of requests now", quote="502"),
        ),
        live=(
            Say(
                "dana",
                "We rolled back the app release and still get 502s, so I don't think it's our code",
                wait="45s",
            ),
            Say(
                "tom",
                "Hi Dana, sorry for the wait, looking now. Which hostname is it, shop.acme.example?",
                wait="1m30s",
                unless_answered=True,
            ),
            Say(
                "dana",
                "yes, shop.acme.example behind your load balancer",
                wait="25s",
                after="staff",
            ),
            Say("dana", "api.acme.example shows it too, less often", wait="15s"),
            Say(
                "tom",
                "Found it: one of the two backends failed its health check but stayed in rotation. I took it out, the errors should stop now.",
                wait="2m",
                unless_answered=True,
            ),
            Say(
                "dana",
                "Confirmed, clean for five minutes now. Thanks a lot!",
                wait="1m",
                after="staff",
                tag="thx",
            ),
            React("tom", "thx", "👍", wait="20s"),
        ),
    ),
    # Billing: double charge with the invoice attached, waiting ~7 min (level 1).
    Scenario(
        key="northwind",
        title="Northwind · Support",
        kind="supergroup",
        chat_id=_group(2),
        customers=(GRETA,),
        older=3,
        past=(
            Past("7m", "greta", "Hi, anyone there?"),
            Past(
                "6m40s",
                "greta",
                "Our January invoice was charged twice to the card. Invoice attached",
                tag="inv",
                edited=True,
            ),
            Past(
                "6m35s",
                "greta",
                "",
                media=document("invoice-NW-0117.pdf", 88_412, "application/pdf"),
            ),
        ),
        live=(
            Say("greta", "Both charges are €249.00, on the same day", wait="1m", quote="inv"),
            Say(
                "greta",
                "Ok, thank you. How long does the refund take to show up?",
                wait="40s",
                after="staff",
            ),
            Say("greta", "Great, thanks for the quick help", wait="30s", after="staff"),
        ),
    ),
    # Urgent restore, waiting ~75 min (level 3, breached); Priya takes it if nobody does.
    Scenario(
        key="globex",
        title="Globex · Support",
        kind="supergroup",
        chat_id=_group(3),
        customers=(LENA,),
        older=4,
        past=(
            Past("1h58m", "lena", "Can you move our nightly backup to 02:30 UTC?"),
            Past("1h50m", "me", "Done: db-main now backs up at 02:30 UTC."),
            Past(
                "1h16m",
                "lena",
                "Hi. We need yesterday's 02:30 backup of db-main restored into a NEW instance, not over the existing one",
                tag="restore",
            ),
            Past("1h15m", "lena", "it's urgent, a migration dropped a column in production"),
            Past("1h14m30s", "lena", "anyone there?"),
            Past("45m", "lena", "hello? this is blocking our whole team", quote="restore"),
        ),
        live=(
            Say("lena", "I opened ticket #48213 as well, no answer there either", wait="2m"),
            Say(
                "priya",
                "Hi Lena, I'm on it. Starting the restore of the 02:30 backup into a new instance now.",
                wait="1m40s",
                unless_answered=True,
            ),
            Say(
                "lena",
                "Thank you. Name it db-main-restore please, same size as db-main",
                wait="40s",
                after="staff",
            ),
            Say(
                "priya",
                "Restore running, about 15 minutes for 40 GB. I'll post here when it's up.",
                wait="1m",
                unless_answered=True,
            ),
            Say(
                "lena",
                "It's up, we're copying the column back now. Thanks both!",
                wait="4m",
                after="staff",
            ),
        ),
    ),
    # Just said hello a minute ago (level 0); then several messages in a row.
    Scenario(
        key="initech",
        title="Initech · Support",
        kind="supergroup",
        chat_id=_group(4),
        customers=(PETER,),
        past=(Past("1m05s", "peter", "Hello"),),
        live=(
            Say("peter", "we can't log into the panel since this morning", wait="15s", tag="login"),
            Say("peter", "the 2FA code never arrives by SMS", wait="6s"),
            Say("peter", "account is ops@initech.example", wait="5s"),
            Say(
                "peter",
                "ok, switching to an authenticator app then. Can you reset 2FA for that account?",
                wait="30s",
                after="staff",
            ),
            Say("peter", "I'm in, thanks!", wait="1m", after="staff"),
        ),
    ),
    # Waiting on the customer: Alex asked for logs; they arrive, with a typo fixed by an edit.
    Scenario(
        key="umbrella",
        title="Umbrella · Support",
        kind="supergroup",
        chat_id=_group(5),
        customers=(SOFIA,),
        past=(
            Past(
                "18m",
                "sofia",
                "Our cron jobs stopped running on web-3 after the OS upgrade",
                tag="cron",
            ),
            Past("17m30s", "sofia", "the cron page in the panel shows no errors"),
            Past(
                "10m",
                "me",
                "Hi Sofia, could you send the output of `systemctl status cron` and the syslog around 06:00?",
                quote="cron",
            ),
        ),
        live=(
            Say(
                "sofia",
                "here you go",
                wait="40s",
                media=document("syslog-web3.txt", 41_203, "text/plain"),
            ),
            Say("sofia", "cron is active (runnign) but the jobs don't fire", wait="8s", tag="typo"),
            Edit("typo", "cron is active (running) but the jobs don't fire", wait="12s"),
            Say(
                "sofia",
                "Ah, the time zone switched to UTC during the upgrade, so everything ran two hours off. Fixed, thank you!",
                wait="2m",
                after="staff",
            ),
        ),
    ),
    # Quiet and closed; comes back later with a small request.
    Scenario(
        key="hooli",
        title="Hooli · Support",
        kind="supergroup",
        chat_id=_group(6),
        customers=(NORA,),
        past=(
            Past(
                "1h40m",
                "nora",
                "Could you allow our office IP 203.0.113.24 on the database firewall?",
            ),
            Past("1h35m", "priya", "Done, 203.0.113.24 can now reach db-1 on port 5432."),
            Past("1h34m", "nora", "thanks!"),
            Past("1h33m", "priya", "you're welcome 🙂"),
        ),
        live=(
            Say(
                "nora",
                "Hi again, the same for 203.0.113.25 please, that's our second office",
                wait="6m",
            ),
            Say("nora", "thank you!", wait="45s", after="staff"),
        ),
    ),
    # A "thanks" nobody acknowledged for 25 min; Priya reacts with a thumbs-up.
    Scenario(
        key="stark",
        title="Stark · Support",
        kind="supergroup",
        chat_id=_group(7),
        customers=(MARCUS,),
        past=(
            Past("50m", "marcus", "Can we upgrade the plan of vps-12 without a reboot?"),
            Past(
                "46m",
                "priya",
                "CPU and memory change live with a short freeze; the disk resize needs a reboot. Shall I schedule the disk part for tonight?",
            ),
            Past("44m", "marcus", "yes please, after 22:00"),
            Past("40m", "priya", "Scheduled for 22:30 UTC, you'll get an email before and after."),
            Past("25m", "marcus", "thanks!", tag="thx"),
        ),
        live=(
            React("priya", "thx", "👍", wait="50s"),
            Say(
                "marcus", "one more: will the IP address stay the same after the resize?", wait="9m"
            ),
            Say("marcus", "great 👍", wait="30s", after="staff"),
        ),
    ),
    # Priya answered 40 min ago; the customer comes back and Priya follows up.
    Scenario(
        key="wayne",
        title="Wayne · Support",
        kind="supergroup",
        chat_id=_group(8),
        customers=(ELENA,),
        past=(
            Past("55m", "elena", "Mail sent from our server lands in spam at Gmail"),
            Past("52m", "elena", "SPF is set up I think"),
            Past(
                "40m",
                "priya",
                "SPF is fine, but there is no DKIM record. Enable DKIM under Mail → Domains and publish the TXT record it shows you.",
            ),
        ),
        live=(
            Say(
                "elena",
                "Published the DKIM record, but the panel still says 'not verified'",
                wait="2m30s",
            ),
            Say(
                "priya",
                "DNS can take a while to propagate, I'll check it from our side in a few minutes",
                wait="1m40s",
                unless_answered=True,
            ),
            Say("elena", "ok, will wait", wait="30s", after="staff"),
            Say("priya", "Verified now ✅ Gmail should accept your mail from here on.", wait="5m"),
            Say("elena", "🙏 thanks", wait="20s", after="staff"),
        ),
    ),
    # Russian-speaking customer, Alex answered 30 min ago; the fix did not work yet.
    Scenario(
        key="vostok",
        title="Vostok · Support",
        kind="supergroup",
        chat_id=_group(9),
        customers=(IGOR,),
        past=(
            Past(
                "42m",
                "igor",
                "Добрый день! После переноса сайта на новый сервер главная страница отдаёт ошибку 500",
                tag="q",
            ),
            Past(
                "41m", "igor", "лог прикладываю", media=document("error.log", 12_877, "text/plain")
            ),
            Past(
                "30m",
                "me",
                "Здравствуйте, Игорь! В логе видно, что не хватает расширения php-intl. Установите его (apt install php8.2-intl) и перезапустите php-fpm.",
                quote="q",
            ),
        ),
        live=(
            Say("igor", "Установил, перезапустил. Всё равно 500 😕", wait="1m30s"),
            Say(
                "igor",
                "Да, дело было в кэше! После очистки всё заработало. Спасибо большое!",
                wait="1m",
                after="staff",
            ),
        ),
    ),
    # Quiet: closed politely hours ago, nothing scripted live.
    Scenario(
        key="soylent",
        title="Soylent · Support",
        kind="supergroup",
        chat_id=_group(10),
        customers=(RUTH,),
        older=1,
        past=(
            Past(
                "2h20m",
                "ruth",
                "Could we get the April invoice reissued with our VAT ID on it? It's in the account settings now.",
            ),
            Past("2h10m", "me", "Sure, reissued: it's under Billing → Invoices with the VAT ID."),
            Past("2h08m", "ruth", "Got it, thank you"),
            Past("2h07m", "me", "You're welcome, have a good day!"),
        ),
    ),
    # Two people from one customer; someone pastes a live token and deletes it.
    Scenario(
        key="tyrell",
        title="Tyrell · Support",
        kind="supergroup",
        chat_id=_group(11),
        customers=(RACHEL, SAM),
        older=3,
        past=(
            Past(
                "35m",
                "rachel",
                "Hi team, we're adding a second region. Is private networking between Frankfurt and Helsinki possible?",
            ),
            Past("33m", "tom", "Tom Becker joined the group", service=True),
            Past(
                "31m",
                "tom",
                "Yes: a cross-region private network is €20/month per region pair. I can enable it for your project whenever you like.",
            ),
            Past("28m", "rachel", "Let me check with finance and come back to you"),
            Past("27m", "tom", "Sure 👍"),
        ),
        live=(
            Say("sam", "Hey, our deploy token gets 401 since about an hour ago", wait="20s"),
            Say(
                "sam",
                "this is the token we use: nmb_live_7Qx2demo9Lr4demo0Kf8",
                wait="10s",
                tag="key",
            ),
            Delete("key", wait="15s"),
            Say("sam", "oops, deleted that, it was the live one. I'll rotate it anyway", wait="5s"),
            Say("sam", "Rotated, and the new token works. Thanks", wait="1m30s", after="staff"),
            Say(
                "rachel",
                "Finance approved the Frankfurt–Helsinki network, please go ahead and enable it",
                wait="4m",
            ),
            Say("rachel", "Thanks!", wait="30s", after="staff"),
        ),
    ),
    # Quiet: only older history, then a new question well into the demo.
    Scenario(
        key="cyberdyne",
        title="Cyberdyne · Support",
        kind="supergroup",
        chat_id=_group(12),
        customers=(TARIQ,),
        older=5,
        live=(
            Say("tariq", "Hello", wait="12m"),
            Say(
                "tariq",
                "Is there an SLA for the managed Kubernetes plan? Our procurement asks for it",
                wait="20s",
            ),
            Say("tariq", "Perfect, that's what they needed. Thanks!", wait="1m", after="staff"),
        ),
    ),
    # Several messages in a row with a screenshot, waiting ~3 min (level 0).
    Scenario(
        key="oscorp",
        title="Oscorp · Support",
        kind="supergroup",
        chat_id=_group(13),
        customers=(MEI,),
        past=(
            Past("3m10s", "mei", "Hi!"),
            Past("3m05s", "mei", "we're out of disk on backup-1"),
            Past("3m", "mei", "the panel says 98% used"),
            Past("2m50s", "mei", "", media=photo(187_904)),
        ),
        live=(
            Say("mei", "Can it grow to 500 GB without downtime?", wait="30s", after="staff"),
            Say("mei", "ok, go ahead. thanks", wait="40s", after="staff"),
        ),
    ),
    # A brand-new customer group that appears during the demo.
    Scenario(
        key="initrode",
        title="Initrode · Support",
        kind="supergroup",
        chat_id=_group(14),
        customers=(JONAS,),
        older=0,
        appears="7m",
        live=(
            Say("jonas", "Hello, we just signed up. Is this our support group?", wait="5s"),
            Say(
                "jonas",
                "Great. First question: how do we move our sites over from our old host without downtime?",
                wait="40s",
                after="staff",
            ),
            Say(
                "jonas",
                "Makes sense, we'll start with the small site tomorrow. Thanks!",
                wait="1m30s",
                after="staff",
            ),
        ),
    ),
    # Private: a polite freelancer (never nudges), waiting ~40 min (level 2), with a screenshot.
    Scenario(
        key="maria",
        title=_private(MARIA)[0],
        kind="private",
        chat_id=_private(MARIA)[1],
        customers=(MARIA,),
        patience=None,
        older=2,
        past=(
            Past("41m", "maria", "Hi Alex, sorry to write to you directly"),
            Past(
                "40m30s",
                "maria",
                "my WordPress site shows a blank white page since I updated a plugin",
                tag="wp",
            ),
            Past("40m", "maria", "this is all I see", media=photo(96_240), quote="wp"),
        ),
        live=(
            Say(
                "maria",
                "I renamed the plugin folder and the site is back! Thank you so much",
                wait="1m30s",
                after="staff",
            ),
        ),
    ),
    # Private, Russian: closed earlier, a new question arrives live.
    Scenario(
        key="dmitry",
        title=_private(DMITRY)[0],
        kind="private",
        chat_id=_private(DMITRY)[1],
        customers=(DMITRY,),
        older=1,
        past=(
            Past(
                "1h30m",
                "dmitry",
                "Здравствуйте, можно продлить домен orlov-studio.example ещё на год?",
            ),
            Past("1h25m", "me", "Здравствуйте! Продлил на год, счёт уже в личном кабинете."),
            Past("1h24m", "dmitry", "Спасибо!"),
            Past("1h23m", "me", "Пожалуйста!"),
        ),
        live=(
            Say("dmitry", "Здравствуйте", wait="2m"),
            Say(
                "dmitry", "Ещё вопрос: как подключить SSL-сертификат к поддомену shop?", wait="10s"
            ),
            Say("dmitry", "Получилось, спасибо!", wait="1m", after="staff"),
        ),
    ),
    # Private: answered 15 min ago; the customer confirms it worked.
    Scenario(
        key="kenji",
        title=_private(KENJI)[0],
        kind="private",
        chat_id=_private(KENJI)[1],
        customers=(KENJI,),
        past=(
            Past("22m", "kenji", "Hi, how do I point my domain to the new server's IP?"),
            Past(
                "15m",
                "me",
                "Hi Kenji! Change the A records for @ and www to 198.51.100.7 under DNS → Zones. The TTL is 5 minutes, so it switches quickly.",
                tag="howto",
            ),
        ),
        live=(Say("kenji", "that worked, thanks!", wait="1m10s", quote="howto"),),
    ),
    # Private, Russian: quiet, only older history, one question later on.
    Scenario(
        key="olga",
        title=_private(OLGA)[0],
        kind="private",
        chat_id=_private(OLGA)[1],
        customers=(OLGA,),
        older=3,
        live=(
            Say("olga", "Добрый день! Где скачать закрывающие документы за квартал?", wait="15m"),
            Say("olga", "Нашла, спасибо", wait="40s", after="staff"),
        ),
    ),
)

# --- generic material --------------------------------------------------------------------------

NUDGES: dict[Lang, tuple[str, ...]] = {
    "en": ("anyone there?", "hello?", "anyone?", "hello, anyone there?"),
    "ru": ("тут кто-нибудь есть?", "есть кто?", "ау, есть кто живой?"),
}
"""What a customer writes after waiting in silence for `patience`."""

REPLIES: dict[Lang, tuple[str, ...]] = {
    "en": (
        "that worked, thanks!",
        "Perfect, that fixed it 🙏",
        "great, thank you!",
        "Thanks, trying it now",
        "Ok, got it. One more thing: do your backups include the mail folders too?",
        "Hmm, same error after that. Anything else I can check?",
    ),
    "ru": (
        "Заработало, спасибо!",
        "Отлично, спасибо за помощь 🙏",
        "Сейчас попробую",
        "Хм, ошибка та же. Что ещё можно проверить?",
        "Понял. А бэкапы почты тоже делаются?",
    ),
}
"""How customers sometimes answer the engineer's reply when the script has nothing planned."""

OLDER_THREADS: dict[Lang, tuple[tuple[tuple[str, str], ...], ...]] = {
    "en": (
        (
            ("c", "Hi! Can we get an extra IPv4 address on db-2?"),
            ("mate", "Sure, it's $3/month. Added: it shows under Network now."),
            ("c", "great, thanks"),
        ),
        (
            ("c", "Is there maintenance planned this weekend?"),
            (
                "mate",
                "Yes, Saturday 02:00–03:00 UTC in Frankfurt, about five minutes of downtime per server. We'll send a reminder.",
            ),
            ("c", "ok 👍"),
        ),
        (
            ("c", "Our SSL certificate expires in 3 days, isn't auto-renew on?"),
            (
                "mate",
                "It is, but the renewal failed: the CAA record on your domain only allows another CA. I've emailed you the record to add.",
            ),
            ("c", "Added it."),
            ("mate", "Renewed, valid for another 90 days."),
            ("c", "thank you!"),
        ),
        (
            ("c", "How do I give a colleague access to billing?"),
            ("mate", "Settings → Team → Invite, then tick the Billing role. They'll get an email."),
            ("c", "found it, thanks"),
        ),
        (
            ("c", "Can you raise the API rate limit for our import token? We hit 429s"),
            ("mate", "Raised from 100 to 300 requests per minute until Friday."),
            ("c", "Thanks, that's plenty"),
        ),
        (
            ("c", "The panel logs me out every few minutes"),
            (
                "mate",
                "Your browser seems to drop our session cookie. Is it in a strict privacy mode?",
            ),
            ("c", "yes, that was it. Allowed the cookie and it works now"),
            ("mate", "Glad to hear it!"),
        ),
    ),
    "ru": (
        (
            ("c", "Добрый день! Как оплатить тариф сразу за год?"),
            (
                "mate",
                "Здравствуйте! Биллинг → Тариф → «Оплатить за год», скидка 15% применится сама.",
            ),
            ("c", "Спасибо!"),
        ),
        (
            ("c", "Сервер не отвечает по SSH после перезагрузки"),
            (
                "mate",
                "Проверили: после обновления ядра не поднялся сетевой интерфейс. Исправили, сервер доступен.",
            ),
            ("c", "Да, всё работает, спасибо"),
        ),
        (
            ("c", "Можно добавить второй IP-адрес на сервер?"),
            ("mate", "Да, добавили. Он уже виден в разделе «Сеть»."),
            ("c", "Отлично, спасибо"),
        ),
    ),
}
"""Short closed conversations from earlier days, so scrolling up finds older history."""

PICKUPS: dict[Lang, tuple[str, ...]] = {
    "en": (
        "Hi {name}, sorry for the wait! Taking a look now.",
        "Hi {name}, I'm on it, give me a few minutes.",
        "Thanks for your patience, {name}. Checking this now.",
    ),
    "ru": (
        "Здравствуйте, {name}! Извините за ожидание, уже смотрю.",
        "{name}, добрый день! Беру в работу, скоро отпишусь.",
    ),
}
"""What a teammate writes when they pick up a group chat that has waited too long."""

RESOLUTIONS: dict[Lang, tuple[str, ...]] = {
    "en": (
        "All sorted now, {name}. Let us know if anything still looks off.",
        "Done on our side, {name}. Could you check again?",
        "That should be fixed now, {name}. Please give it another try.",
    ),
    "ru": (
        "{name}, готово. Проверьте, пожалуйста.",
        "Исправили, {name}. Попробуйте ещё раз, пожалуйста.",
    ),
}
"""How that teammate reports back a few minutes later."""

CLOSERS: dict[Lang, tuple[str, ...]] = {
    "en": ("You're welcome!", "Anytime 🙂", "Glad it helped!", "👍"),
    "ru": ("Пожалуйста!", "Обращайтесь 🙂", "Рады помочь!"),
}
"""Staff's last word on an older thread, so yesterday's thank-you does not still wait today."""

AMBIENT: dict[Lang, tuple[tuple[Step, ...], ...]] = {
    "en": (
        (
            Say("c", "Hello"),
            Say(
                "c",
                "Is the Amsterdam region having network trouble? Our pings there jumped to 300 ms",
                wait="15s",
            ),
            Say(
                "mate",
                "Hi! An upstream provider is rerouting traffic; latency should be back to normal within the hour. Updates are on the status page.",
                wait="2m30s",
                unless_answered=True,
            ),
            Say("c", "ok, thanks for the heads-up", wait="40s", after="staff"),
        ),
        (
            Say(
                "c",
                "Hi, we'd like to add a second admin to our account. Is that included in our plan?",
            ),
            Say(
                "mate",
                "Hi! Every plan includes up to five team members: Settings → Team → Invite.",
                wait="3m",
                unless_answered=True,
            ),
            Say("c", "found it, thanks!", wait="1m", after="staff"),
        ),
        (
            Say("c", "Good morning"),
            Say(
                "c",
                "our staging domain shows 'certificate expired' since midnight",
                wait="10s",
                tag="cert",
            ),
            Say("c", "", wait="8s", media=photo(143_872), quote="cert"),
            Say(
                "c",
                "That did it, the certificate renewed. Thank you!",
                wait="2m",
                after="staff",
            ),
        ),
        (
            Say("c", "Quick question: can we downgrade vps-4 to a smaller plan?"),
            Say(
                "mate",
                "Hi! Yes, the disk usage fits the smaller plan. Want me to do it tonight? It needs a short reboot.",
                wait="2m",
                unless_answered=True,
            ),
            Say("c", "yes please, after 20:00", wait="50s", after="staff"),
            Say("c", "thanks", wait="30s", after="staff"),
        ),
        (
            Say("c", "Hello, our invoice shows VAT although we entered our VAT ID"),
            Say("c", "", wait="6s", media=document("invoice-0412.pdf", 73_530, "application/pdf")),
            Say("c", "can you reissue it?", wait="10s"),
            Say("c", "thanks!", wait="1m", after="staff"),
        ),
        (
            Say("c", "hey, is there an API endpoint to list all snapshots?"),
            Say("c", "the docs only show create and delete", wait="12s"),
            Say("c", "perfect, thanks", wait="1m", after="staff"),
        ),
    ),
    "ru": (
        (
            Say("c", "Здравствуйте"),
            Say("c", "Не приходят письма с формы на сайте, хотя вчера всё работало", wait="15s"),
            Say("c", "Спасибо, заработало!", wait="1m30s", after="staff"),
        ),
        (
            Say("c", "Добрый день! Можно увеличить диск на сервере до 100 ГБ?"),
            Say("c", "Спасибо, вижу новый размер", wait="2m", after="staff"),
        ),
        (
            Say("c", "Подскажите, где взять счёт для бухгалтерии за прошлый месяц?"),
            Say("c", "Нашла, спасибо", wait="40s", after="staff"),
        ),
    ),
}
"""Fresh conversations the demo starts in idle chats once the scripted morning runs out."""

CUSTOMER = "c"
MATE = "mate"


def _check_step(
    where: str, step: Step, speakers: set[str], mates: set[str], tags: set[str]
) -> None:
    """Raise ValueError when a live step names an unknown speaker or tag, or a bad duration."""
    seconds(step.wait)
    if isinstance(step, Say):
        if step.who not in speakers | mates:
            raise ValueError(
                f"{where}: unknown speaker {step.who!r}; use a customer key or a teammate"
            )
        if step.unless_answered and step.who not in mates:
            raise ValueError(f"{where}: unless_answered is only for teammates, not {step.who!r}")
        if step.quote is not None and step.quote not in tags:
            raise ValueError(f"{where}: quote {step.quote!r} names no earlier tag")
        if not step.text and step.media is None:
            raise ValueError(f"{where}: a message needs text or media")
        if step.tag is not None:
            tags.add(step.tag)
        return
    if step.tag not in tags:
        raise ValueError(f"{where}: tag {step.tag!r} names no earlier message")
    if isinstance(step, React) and step.who not in speakers | mates:
        raise ValueError(f"{where}: unknown speaker {step.who!r}")


def validate(scenarios: tuple[Scenario, ...] = SCENARIOS) -> None:
    """Check a script; raise ValueError naming the scenario and step of the first mistake."""
    seen_chats: set[int] = set()
    for scenario in scenarios:
        name = f"scenario {scenario.key!r}"
        if scenario.chat_id in seen_chats:
            raise ValueError(f"{name}: chat id {scenario.chat_id} is used twice")
        seen_chats.add(scenario.chat_id)
        if not scenario.customers:
            raise ValueError(f"{name}: needs at least one customer")
        if scenario.kind == "private" and scenario.chat_id != scenario.customers[0].id:
            raise ValueError(f"{name}: a private chat's id must be its customer's id")
        if scenario.kind != "private" and scenario.chat_id >= 0:
            raise ValueError(f"{name}: group ids are negative (marked -100… for supergroups)")
        for duration in (scenario.patience, scenario.appears):
            if duration is not None:
                seconds(duration)
        customers = {p.key for p in scenario.customers}
        mates = set() if scenario.kind == "private" else {p.key for p in TEAMMATES}
        tags: set[str] = set()
        last = None
        for i, line in enumerate(scenario.past):
            where = f"{name} past[{i}]"
            age = seconds(line.ago)
            if last is not None and age > last:
                raise ValueError(f"{where}: backlog lines must run from oldest to newest")
            last = age
            if line.who not in customers | mates | {ME.key}:
                raise ValueError(f"{where}: unknown speaker {line.who!r}")
            if line.quote is not None and line.quote not in tags:
                raise ValueError(f"{where}: quote {line.quote!r} names no earlier tag")
            if line.tag is not None:
                tags.add(line.tag)
        for i, step in enumerate(scenario.live):
            _check_step(f"{name} live[{i}]", step, customers, mates, tags)
    for lang, conversations in AMBIENT.items():
        for n, conversation in enumerate(conversations):
            tags = set()
            for i, step in enumerate(conversation):
                _check_step(f"AMBIENT[{lang}][{n}][{i}]", step, {CUSTOMER}, {MATE}, tags)
