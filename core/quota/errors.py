"""The one exception a provider raises: it becomes an error snapshot with a message the user can act on."""

from __future__ import annotations

from core.i18n import tr


class QuotaError(Exception):
    """A failure to read one account's quota. `message` is shown to the user as it is, so it must say what
    went wrong and what to do; `kind` is an `ErrorKind`; `status` is the HTTP status when there was one."""

    def __init__(self, kind: str, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status


def changed_answer(kind: str, service: str, field: str) -> QuotaError:
    """The answer lacks what the documented API always sends: `field` is the JSON name that is missing."""
    return QuotaError(kind, tr("{service}'s answer has no \"{field}\"; the service may have changed.",
                               service=service, field=field))
