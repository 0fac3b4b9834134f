"""简体中文 for the messages of the gateway, the store, backups and settings that the windows and the CLI show."""

MESSAGES: dict[str, str] = {
}
