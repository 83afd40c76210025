"""Allow `python -m tgtriage`."""

from __future__ import annotations

from tgtriage.cli import main

raise SystemExit(main())
