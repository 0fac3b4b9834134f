"""Subscription accounts (Claude, Codex, GitHub Copilot, Antigravity, Gemini CLI) as routable gateway accounts:
sign-in, import from the official CLIs' files, and token renewal. The gateway's executors ask `credentials`
for a fresh access token; they never read or renew tokens themselves."""
