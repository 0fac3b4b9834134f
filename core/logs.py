"""Logging to a rotating, owner-only file in the data folder, with secrets redacted on the way out.

Records are handed to a background thread (QueueHandler/QueueListener) so that writing a log line never
blocks the event loop that the gateway and the UI share.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import queue
import re
import sys
from pathlib import Path

from core import paths

LOG_FILE_NAME = "quotagate.log"
_MAX_BYTES = 2 * 1024 * 1024
_BACKUPS = 5

# Shapes of secrets that might reach a log line through an exception message or a repr.
_SECRET_PATTERNS = [
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"), r"\1[redacted]"),
    (re.compile(r"(?i)((?:x-api-key|api[_-]?key|authorization|token|secret|password)[\"']?\s*[:=]\s*[\"']?)"
                r"[^\s\"',;}]{6,}"), r"\1[redacted]"),
    (re.compile(r"\b(sk|rk|pk|qg)-[A-Za-z0-9_-]{10,}"), r"\1-[redacted]"),
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}"), "gh_[redacted]"),
    (re.compile(r"\bya29\.[A-Za-z0-9._-]{10,}"), "ya29.[redacted]"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]+"), "[redacted-jwt]"),
]


def redact(text: str) -> str:
    """Mask anything that looks like a credential."""
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then redacts: covers messages, arguments and tracebacks alike."""

    def format(self, record: logging.LogRecord) -> str:
        # A lone surrogate (from a client's "\ud800") would make the file's encoder fail and the line be
        # lost: it is written escaped instead.
        return redact(super().format(record)).encode("utf-8", "backslashreplace").decode("utf-8")


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Every file it opens — the first and each one rotation starts — is owner-only from its first byte
    (the plain handler creates them with the umask's mode, usually 0644)."""

    def _open(self):  # type: ignore[no-untyped-def]
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, paths.PRIVATE_FILE_MODE)
        paths.make_private(Path(self.baseFilename))  # an existing file keeps its mode in os.open
        return os.fdopen(fd, self.mode, encoding=self.encoding, errors=self.errors)


class LogSetup:
    """The running logging configuration; `close()` flushes the file and detaches the handlers."""

    def __init__(self, log_file: Path, listener: logging.handlers.QueueListener,
                 queue_handler: logging.Handler) -> None:
        self.log_file = log_file
        self._listener = listener
        self._queue_handler = queue_handler

    def close(self) -> None:
        root = logging.getLogger()
        if self._queue_handler in root.handlers:
            root.removeHandler(self._queue_handler)
        self._listener.stop()
        for handler in self._listener.handlers:
            handler.close()


def setup_logging(folder: Path, verbose: bool = False) -> LogSetup:
    """Send the app's logs to `<data>/logs/quotagate.log` (and to stderr when verbose)."""
    log_folder = paths.ensure_private_dir(paths.log_dir(folder))
    log_file = log_folder / LOG_FILE_NAME
    formatter = RedactingFormatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    file_handler = PrivateRotatingFileHandler(log_file, maxBytes=_MAX_BYTES, backupCount=_BACKUPS, encoding="utf-8",
                                              errors="backslashreplace")
    paths.make_private(log_file)
    handlers: list[logging.Handler] = [file_handler]
    if verbose:
        handlers.append(logging.StreamHandler(sys.stderr))
    for handler in handlers:
        handler.setFormatter(formatter)

    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    queue_handler = logging.handlers.QueueHandler(records)
    listener = logging.handlers.QueueListener(records, *handlers, respect_handler_level=False)
    listener.start()

    root = logging.getLogger()
    root.addHandler(queue_handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    # Per-request access lines are noise at this volume; usage is recorded in the store instead.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    for noisy in ("asyncio", "qasync", "httpcore", "httpx", "peewee"):
        logging.getLogger(noisy).setLevel(logging.INFO if verbose else logging.WARNING)
    return LogSetup(log_file, listener, queue_handler)
