"""Run by test_kill_during_import.py: restore a backup in a real process so it can be SIGKILLed."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from core.services import CoreServices


async def main(data_dir: Path, backup: Path) -> None:
    services = CoreServices(data_dir, port=0)
    await services.start()
    print("ready", flush=True)
    await services.backups.import_file(backup)
    print("done", flush=True)
    await services.stop()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), Path(sys.argv[2])))
