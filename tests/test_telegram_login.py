"""The login state machine (core/sources/telegram/login.py) and the terminal QR code (core/sources/telegram/qr.py)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import segno
from telethon import errors
from tgtriage.core.sources.telegram.client import session_path
from tgtriage.core.sources.telegram.login import (
    NETWORK_MESSAGE,
    Done,
    LoginFailed,
    NeedCode,
    NeedPassword,
    NeedPhone,
    QrWaiting,
    TelegramLogin,
    logout,
    normalize_phone,
)
from tgtriage.core.sources.telegram.qr import qr_lines
from tgtriage.core.system.config import Config
from tgtriage.core.system.paths import Paths

from tests.fake_telethon import FakeClient
from tests.fake_tl import T0, flood, user
from tests.scripted_server import ScriptedServer, scripted_telethon

PHONE = "+1 555 867 5309"
CODE = "24680"
PASSWORD = "correct horse battery staple"
API_HASH = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    """A private data dir in tmp."""
    return Paths(config_dir=tmp_path / "config", data_dir=tmp_path / "data")


def login_with(fake: FakeClient, paths: Paths) -> TelegramLogin:
    """A login driving the fake client."""
    return TelegramLogin(Config(), paths, lambda: fake, clock=lambda: T0)


def logged_out() -> FakeClient:
    """A fresh session: not logged in yet."""
    fake = FakeClient()
    fake.authorized = False
    return fake


# --------------------------------------------------------------------------- the happy paths


async def test_already_logged_in(paths: Paths) -> None:
    state = await login_with(FakeClient(), paths).begin()
    assert isinstance(state, Done) and state.user.name == "Erin Engineer"


async def test_phone_then_code(paths: Paths) -> None:
    fake = logged_out()
    login = login_with(fake, paths)
    assert await login.begin() == NeedPhone()
    assert await login.submit_phone(PHONE) == NeedCode(via="your Telegram app", length=5)
    state = await login.submit_code(" 24 680 ")
    assert isinstance(state, Done) and state.user.id == 1000
    assert login.state == state and login.client is fake


async def test_phone_code_and_two_step_password(paths: Paths) -> None:
    fake = logged_out()
    fake.password = PASSWORD
    login = login_with(fake, paths)
    await login.begin()
    await login.submit_phone(PHONE)
    assert await login.submit_code(CODE) == NeedPassword(hint="the usual")
    wrong = await login.submit_password("hunter2")
    assert wrong == LoginFailed(
        "Wrong password. Type your two-step verification password again.",
        NeedPassword(hint="the usual"),
    )
    assert isinstance(await login.submit_password(PASSWORD), Done)


# --------------------------------------------------------------------------- every error


@pytest.mark.parametrize(
    ("error", "retry", "words"),
    [
        (errors.PhoneNumberInvalidError(request=None), NeedPhone(), "not valid"),
        (errors.PhoneNumberBannedError(request=None), NeedPhone(), "banned"),
        (errors.PhoneNumberUnoccupiedError(request=None), NeedPhone(), "No Telegram account"),
        (errors.ApiIdInvalidError(request=None), NeedPhone(), "api_id/api_hash"),
        (ConnectionError("reset"), NeedPhone(), "Cannot reach"),
        (OSError("unreachable"), NeedPhone(), "Cannot reach"),
    ],
)
async def test_phone_errors(paths: Paths, error: BaseException, retry: object, words: str) -> None:
    fake = logged_out()
    login = login_with(fake, paths)
    await login.begin()
    fake.fail_next("send_code_request", error)
    state = await login.submit_phone(PHONE)
    assert isinstance(state, LoginFailed) and state.retry == retry and words in state.message
    assert isinstance(await login.submit_phone(PHONE), NeedCode), "the same step works on retry"


async def test_flood_wait_says_how_long(paths: Paths) -> None:
    fake = logged_out()
    login = login_with(fake, paths)
    await login.begin()
    fake.fail_next("send_code_request", flood(600))
    state = await login.submit_phone(PHONE)
    assert state == LoginFailed(
        "Telegram asks to wait 10 min before trying again (too many attempts).", NeedPhone(), 600
    )
    await login.submit_phone(PHONE)
    fake.fail_next("sign_in", flood(30))
    state = await login.submit_code(CODE)
    assert isinstance(state, LoginFailed) and state.retry_after == 30 and "30 s" in state.message
    assert isinstance(state.retry, NeedCode)


async def test_not_a_phone_number_is_refused_without_asking_telegram(paths: Paths) -> None:
    fake = logged_out()
    login = login_with(fake, paths)
    await login.begin()
    state = await login.submit_phone("call me maybe")
    assert isinstance(state, LoginFailed) and state.retry == NeedPhone()
    assert not [c for c in fake.calls if c[0] == "send_code_request"]
    assert normalize_phone("0049 (151) 234-567") == "+49151234567"
    assert normalize_phone("12") is None


async def test_wrong_code_retries_the_code(paths: Paths) -> None:
    fake = logged_out()
    login = login_with(fake, paths)
    await login.begin()
    await login.submit_phone(PHONE)
    state = await login.submit_code("11111")
    assert isinstance(state, LoginFailed) and "not right" in state.message
    assert state.retry == NeedCode(via="your Telegram app", length=5)
    empty = await login.submit_code("  ")
    assert isinstance(empty, LoginFailed) and isinstance(empty.retry, NeedCode)
    assert isinstance(await login.submit_code(CODE), Done)


async def test_expired_code_goes_back_to_the_phone(paths: Paths) -> None:
    fake = logged_out()
    login = login_with(fake, paths)
    await login.begin()
    await login.submit_phone(PHONE)
    fake.fail_next("sign_in", errors.PhoneCodeExpiredError(request=None))
    state = await login.submit_code(CODE)
    assert (
        isinstance(state, LoginFailed) and state.retry == NeedPhone() and "expired" in state.message
    )
    assert isinstance(await login.resend_code(), NeedCode)
    assert isinstance(await login.submit_code(CODE), Done)


async def test_network_loss_during_code_and_password(paths: Paths) -> None:
    fake = logged_out()
    fake.password = PASSWORD
    login = login_with(fake, paths)
    await login.begin()
    await login.submit_phone(PHONE)
    fake.connected = False
    fake.connect_failures = 1
    state = await login.submit_code(CODE)
    assert state == LoginFailed(NETWORK_MESSAGE, NeedCode(via="your Telegram app", length=5))
    assert await login.submit_code(CODE) == NeedPassword(hint="the usual")  # reconnects by itself
    fake.fail_next("sign_in", ConnectionError("reset"))
    state = await login.submit_password(PASSWORD)
    assert state == LoginFailed(NETWORK_MESSAGE, NeedPassword(hint="the usual"))
    assert isinstance(await login.submit_password(PASSWORD), Done)


async def test_offline_at_begin_then_phone_connects(paths: Paths) -> None:
    fake = logged_out()
    fake.connect_failures = 1
    login = login_with(fake, paths)
    assert await login.begin() == LoginFailed(NETWORK_MESSAGE, NeedPhone())
    assert isinstance(await login.submit_phone(PHONE), NeedCode)


async def test_password_flood_and_unknown_rpc_errors(paths: Paths) -> None:
    fake = logged_out()
    fake.password = PASSWORD
    login = login_with(fake, paths)
    await login.begin()
    await login.submit_phone(PHONE)
    await login.submit_code(CODE)
    fake.fail_next("sign_in", errors.PhonePasswordFloodError(request=None))
    state = await login.submit_password(PASSWORD)
    assert isinstance(state, LoginFailed) and "Too many password attempts" in state.message
    fake.fail_next("sign_in", errors.RPCError(request=None, message="SOMETHING_NEW", code=400))
    state = await login.submit_password(PASSWORD)
    assert isinstance(state, LoginFailed) and "SOMETHING_NEW" in state.message
    assert isinstance(state.retry, NeedPassword)


async def test_missing_credentials_are_explained(
    paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TGTRIAGE_API_ID", raising=False)
    monkeypatch.delenv("TGTRIAGE_API_HASH", raising=False)
    state = await TelegramLogin(Config(), paths).begin()
    assert isinstance(state, LoginFailed) and "my.telegram.org" in state.message


# --------------------------------------------------------------------------- QR code


async def test_qr_login_refreshes_on_expiry_then_succeeds(paths: Paths) -> None:
    fake = logged_out()
    fake.qr.outcomes = ["timeout", "ok"]
    login = login_with(fake, paths)
    await login.begin()
    first = await login.start_qr()
    assert first == QrWaiting(url="tg://login?token=FAKETOKEN0", expires=T0 + 30)
    second = await login.wait_qr()
    assert (
        isinstance(second, QrWaiting) and second.url != first.url and second.expires > first.expires
    )
    assert isinstance(await login.wait_qr(), Done)


async def test_qr_login_with_two_step_password(paths: Paths) -> None:
    fake = logged_out()
    fake.password = PASSWORD
    fake.qr.outcomes = ["password"]
    login = login_with(fake, paths)
    await login.begin()
    await login.start_qr()
    assert await login.wait_qr() == NeedPassword(hint="the usual")
    assert isinstance(await login.submit_password(PASSWORD), Done)


async def test_qr_login_network_loss_retries_the_qr(paths: Paths) -> None:
    fake = logged_out()
    fake.qr.outcomes = ["network"]
    login = login_with(fake, paths)
    await login.begin()
    waiting = await login.start_qr()
    state = await login.wait_qr()
    assert state == LoginFailed(NETWORK_MESSAGE, waiting)


def test_qr_lines_draw_the_code_with_half_blocks_and_quiet_zone() -> None:
    url = "tg://login?token=AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
    lines = qr_lines(url)
    code = segno.make(url, error="m", micro=False)
    size = int(code.symbol_size(scale=1, border=4)[0])
    assert len(lines) == (size + 1) // 2 and {len(line) for line in lines} == {size}
    assert set("".join(lines)) <= {" ", "▀", "▄", "█"}
    assert lines[0].strip() == "" and lines[1].strip() == "", "quiet zone on top"
    decoded = []
    for line in lines:
        decoded.append([c in "▀█" for c in line])
        decoded.append([c in "▄█" for c in line])
    matrix = [[bool(v) for v in row] for row in code.matrix_iter(scale=1, border=4)]
    assert decoded[: len(matrix)] == matrix
    inverted = qr_lines(url, invert=True)
    assert inverted[0] == "█" * size


# --------------------------------------------------------------------------- logout


async def test_logout_logs_out_and_deletes_the_session(paths: Paths) -> None:
    path = session_path(paths)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"SQLite format 3\x00")
    fake = FakeClient(session_file=path)
    message = await logout(Config(), paths, lambda: fake)
    assert message == "Logged out; the session file was deleted."
    assert not path.exists() and not fake.authorized


async def test_logout_offline_still_deletes_and_says_what_to_do(paths: Paths) -> None:
    path = session_path(paths)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"x")
    fake = FakeClient()
    fake.connect_failures = 5
    message = await logout(Config(), paths, lambda: fake)
    assert not path.exists()
    assert "no connection to Telegram" in message and "Settings → Devices" in message
    assert (
        await logout(Config(), paths, lambda: fake)
        == "Not logged in: there is no saved Telegram session."
    )


# --------------------------------------------------------------------------- secrets


class Capture(logging.Handler):
    """Every log record, formatted with arguments and tracebacks."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def capture() -> Iterator[Capture]:
    """Capture all loggers (Telethon's included) at DEBUG."""
    handler = Capture()
    root = logging.getLogger()
    telethon_logger = logging.getLogger("telethon")
    old = (root.level, telethon_logger.level)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    telethon_logger.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(old[0])
    telethon_logger.setLevel(old[1])


def assert_no_secrets(texts: list[str]) -> None:
    """None of the login secrets, in any spelling, appear."""
    blob = "\n".join(texts)
    for secret in (PHONE, PHONE.replace(" ", ""), "5558675309", CODE, PASSWORD, API_HASH):
        assert secret not in blob, f"a secret leaked: {secret[:3]}…"


async def test_a_full_login_through_real_telethon_never_logs_secrets(
    paths: Paths, capture: Capture, tmp_path: Path
) -> None:
    me = user(1000, "Erin", "Engineer", is_self=True)
    server = ScriptedServer(me, code=CODE, hint="pet's name")
    paths.data_dir.mkdir(parents=True)
    session = str(paths.session_file)
    client = scripted_telethon(session, 12345, API_HASH, server)
    login = TelegramLogin(Config(), paths, lambda: client)
    states = [await login.begin()]
    states.append(await login.submit_phone(PHONE))
    states.append(await login.submit_code("00000"))
    states.append(await login.submit_code(CODE))
    states.append(await login.submit_password("wrong " + PASSWORD[::-1]))
    states.append(await login.submit_password(PASSWORD))
    assert [type(s).__name__ for s in states] == [
        "NeedPhone",
        "NeedCode",
        "LoginFailed",
        "NeedPassword",
        "LoginFailed",
        "Done",
    ]
    assert states[1] == NeedCode(via="SMS", length=5) and states[3] == NeedPassword(
        hint="pet's name"
    )
    assert "CheckPasswordRequest" in server.seen and "GetDifferenceRequest" in server.seen
    assert oct(session_path(paths).stat().st_mode & 0o777) == "0o600"
    message = await login.logout()
    assert message.startswith("Logged out")
    assert not Path(session + ".session").exists()
    assert any(line.startswith("tgtriage") for line in capture.lines)
    assert_no_secrets(capture.lines + [repr(s) for s in states] + [message])


async def test_fake_flows_never_log_secrets(paths: Paths, capture: Capture) -> None:
    fake = logged_out()
    fake.password = PASSWORD
    fake.qr.outcomes = ["timeout", "password"]
    login = login_with(fake, paths)
    states = [
        await login.begin(),
        await login.start_qr(),
        await login.wait_qr(),
        await login.wait_qr(),
    ]
    states.append(await login.submit_password(PASSWORD[:-1]))
    fake.fail_next("send_code_request", errors.PhoneNumberInvalidError(request=None))
    states.append(await login.submit_phone(PHONE))
    states.append(await login.submit_phone(PHONE))
    fake.fail_next("sign_in", errors.PhoneCodeInvalidError(request=None))
    states.append(await login.submit_code(CODE))
    states.append(await login.submit_code(CODE))
    states.append(await login.submit_password(PASSWORD))
    assert isinstance(states[-1], Done)
    assert_no_secrets(capture.lines + [repr(s) for s in states])
