"""`tgtriage login`'s screen over the fake client, for the tmux test to type into.

Run as `python -m tests.telegram_login_pane DATA_DIR`. The fake account has no 2FA; its QR
codes expire every two seconds of real time (so the test sees one redrawn), and it prints what
`tgtriage login` prints when the screen ends.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tgtriage.core.sources.telegram.login import TelegramLogin
from tgtriage.core.system.config import Config
from tgtriage.core.system.paths import Paths
from tgtriage.tui.login import LoginApp

from tests.fake_login import FakeQR
from tests.fake_telethon import FakeClient
from tgtriage.cli.telegram import report_login

QR_SECONDS = 2.0


@dataclass
class RealTimeQR(FakeQR):
    """QR tokens that expire after QR_SECONDS of wall-clock time and are never scanned."""

    born: float = 0.0

    @property
    def expires(self) -> dt.datetime:
        """QR_SECONDS after the current token was made."""
        return dt.datetime.fromtimestamp(self.born + QR_SECONDS, tz=dt.UTC)

    async def recreate(self) -> None:
        """A fresh token, valid from now."""
        await super().recreate()
        self.born = time.time()

    async def wait(self, timeout: float | None = None) -> object:
        """Nobody scans: the token runs out."""
        await asyncio.sleep(min(timeout or QR_SECONDS, QR_SECONDS))
        raise TimeoutError


async def main(data_dir: Path) -> int:
    """Run the login screen until it ends; print like `tgtriage login`."""
    fake = FakeClient()
    fake.authorized = False
    fake.qr = RealTimeQR(fake, born=time.time())
    paths = Paths(config_dir=data_dir / "config", data_dir=data_dir)
    app = LoginApp(TelegramLogin(Config(), paths, lambda: fake))
    await app.run_async()
    return report_login(app)


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(Path(sys.argv[1]))))
