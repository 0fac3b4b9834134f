"""简体中文. Keys are the English source strings; keep `{placeholders}` as they are.

Split by area so that each catalogue stays readable: the windows, tray and CLI (`interface`), the quota
services' messages (`quota_messages`) and the messages of the rest of the core (`app_messages`)."""

from core.locale.zh import app_messages, interface, quota_messages

CATALOGUES = {"interface": interface.MESSAGES, "quota_messages": quota_messages.MESSAGES,
              "app_messages": app_messages.MESSAGES}
MESSAGES: dict[str, str] = {key: text for catalogue in CATALOGUES.values() for key, text in catalogue.items()}
