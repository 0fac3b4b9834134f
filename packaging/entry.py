"""PyInstaller entry point: the bundled `quotagate` executable is `quotagate` the console script."""

import sys

from core.cli import main

if __name__ == "__main__":
    sys.exit(main())
