"""简体中文 for the messages of the quota services (credentials, sign-in, answers of the services)."""

MESSAGES: dict[str, str] = {
}
