"""How each subscription signs in and renews: endpoints, public client ids, scopes and callback shapes, as data.

The client ids of Claude Code, the Codex CLI and GitHub Copilot are the public ids those official tools use
(PKCE and device-flow clients have no secret). Google's clients are not here: Google renews a sign-in only for
the client it was issued to, and that client belongs to the user's installed tool (see
`core.quota.oauth_clients`). Every URL goes through `QUOTAGATE_HOST_MAP` when it is used.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.quota import oauth_clients
from core.quota.accounts import ANTIGRAVITY_PLUGIN, CLAUDE_CODE, CODEX_CLI, COPILOT_EDITOR, GEMINI_CLI, Tool
from core.quota.google import TOKEN_URL as GOOGLE_TOKEN_URL
from core.quota.providers.copilot import TOKEN_URL as COPILOT_TOKEN_URL

GOOGLE_AUTHORIZE_URL = "https://accounts.google.com/o/oauth2/v2/auth"
GOOGLE_USERINFO_URL = "https://www.googleapis.com/oauth2/v2/userinfo"
GOOGLE_SCOPES = ("https://www.googleapis.com/auth/cloud-platform", "https://www.googleapis.com/auth/userinfo.email",
                 "https://www.googleapis.com/auth/userinfo.profile")
GITHUB_DEVICE_CODE_URL = "https://github.com/login/device/code"
GITHUB_ACCESS_TOKEN_URL = "https://github.com/login/oauth/access_token"
GITHUB_USER_URL = "https://api.github.com/user"


@dataclass(frozen=True)
class SubscriptionProvider:
    id: str                  # Quotagate's provider id (SUBSCRIPTION_PROVIDERS)
    name: str                # shown to users
    quota_id: str            # the quota glance's provider id for the same subscription
    tool: Tool               # the official CLI, named in messages
    flow: str                # "pkce" or "device"
    client_id: str = ""      # public client id; "" for Google (from the installed tool)
    authorize_url: str = ""
    token_url: str = ""
    token_form: bool = False  # the code exchange is form-encoded (else JSON)
    scopes: tuple[str, ...] = ()
    callback_path: str = "/callback"
    callback_port: int = 0   # 0: any free port; some clients only accept the port their CLI registered
    extra_authorize: tuple[tuple[str, str], ...] = ()
    installed_client: oauth_clients.InstalledClient | None = None  # Google: where the user's tool keeps it
    ide_type: str = "IDE_UNSPECIFIED"  # Cloud Code's loadCodeAssist

    @property
    def google(self) -> bool:
        return self.installed_client is not None


CLAUDE = SubscriptionProvider(
    "claude", "Claude", "claude", CLAUDE_CODE, "pkce", client_id="9d1c250a-e61b-44d9-88ed-5944d1962f5e",
    authorize_url="https://claude.ai/oauth/authorize", token_url="https://console.anthropic.com/v1/oauth/token",
    scopes=("org:create_api_key", "user:profile", "user:inference"), callback_path="/callback",
    extra_authorize=(("code", "true"),))
CODEX = SubscriptionProvider(
    "codex", "ChatGPT (Codex)", "openai", CODEX_CLI, "pkce", client_id="app_EMoamEEZ73f0CkXaXp7hrann",
    authorize_url="https://auth.openai.com/oauth/authorize", token_url="https://auth.openai.com/oauth/token",
    token_form=True, scopes=("openid", "profile", "email", "offline_access"), callback_path="/auth/callback",
    callback_port=1455,  # the only redirect the Codex client accepts
    extra_authorize=(("id_token_add_organizations", "true"), ("codex_cli_simplified_flow", "true")))
GITHUB = SubscriptionProvider(
    "github", "GitHub Copilot", "copilot", COPILOT_EDITOR, "device", client_id="Iv1.b507a08c87ecfe98",
    token_url=COPILOT_TOKEN_URL, scopes=("read:user",))
ANTIGRAVITY = SubscriptionProvider(
    "antigravity", "Google Antigravity", "antigravity", ANTIGRAVITY_PLUGIN, "pkce",
    authorize_url=GOOGLE_AUTHORIZE_URL, token_url=GOOGLE_TOKEN_URL, token_form=True,
    scopes=GOOGLE_SCOPES + ("https://www.googleapis.com/auth/cclog",
                            "https://www.googleapis.com/auth/experimentsandconfigs"),
    callback_path="/oauth-callback", callback_port=51121,  # as the Antigravity client registered it
    extra_authorize=(("access_type", "offline"), ("prompt", "consent")),
    installed_client=oauth_clients.ANTIGRAVITY, ide_type="ANTIGRAVITY")
GEMINI_CLI = SubscriptionProvider(
    "gemini-cli", "Gemini CLI", "gemini", GEMINI_CLI, "pkce", authorize_url=GOOGLE_AUTHORIZE_URL,
    token_url=GOOGLE_TOKEN_URL, token_form=True, scopes=GOOGLE_SCOPES, callback_path="/oauth2callback",
    extra_authorize=(("access_type", "offline"), ("prompt", "consent")),
    installed_client=oauth_clients.GEMINI_CLI)

PROVIDERS: dict[str, SubscriptionProvider] = {p.id: p for p in (CLAUDE, CODEX, GITHUB, ANTIGRAVITY, GEMINI_CLI)}


def subscription_provider(provider_id: str) -> SubscriptionProvider | None:
    return PROVIDERS.get(provider_id)
