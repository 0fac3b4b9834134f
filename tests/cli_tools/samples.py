"""Realistic existing configs: comments, unrelated keys, MCP servers, unusual indentation."""

CLAUDE_SETTINGS = """{
\t"$schema": "https://json.schemastore.org/claude-code-settings.json",
\t"model": "opus",
\t"permissions": {"allow": ["Bash(git diff:*)", "Read(~/.zshrc)"], "deny": []},
\t"env": {
\t\t"DISABLE_TELEMETRY": "1",
\t\t"ANTHROPIC_BASE_URL": "https://proxy.example.com"
\t},
\t"hooks": {
\t\t"PostToolUse": [ { "matcher": "Edit", "hooks": [ { "type": "command", "command": "prettier --write \\"$FILE\\"" } ] } ]
\t},
\t"statusLine": {"type": "command", "command": "~/.claude/statusline.sh"},
\t"note": "caf\\u00e9 ☕"
}
"""

CODEX_CONFIG = """# Codex settings — hand-written
model = "gpt-5-codex"   # the default
model_reasoning_effort = "high"
approval_policy = "on-request"

[features]
web_search_request = true

# my other gateway
[model_providers.work]
name = "Work"
base_url = "https://llm.work.example/v1"
env_key = "WORK_KEY"
wire_api = "responses"

[mcp_servers.docs]
command = "npx"
args = ["-y", "@upstash/context7-mcp"]

[projects."/home/me/src/app"]
trust_level = "trusted"
"""

OPENCODE_CONFIG = """{
  // OpenCode config, with comments as OpenCode allows
  "$schema": "https://opencode.ai/config.json",
  "theme": "tokyonight",
  "model": "anthropic/claude-sonnet-4-5",
  "provider": {
    "ollama": {
      "npm": "@ai-sdk/openai-compatible",
      "options": { "baseURL": "http://localhost:11434/v1" },
      "models": { "llama3": {} }, // local
    },
  },
  /* MCP servers */
  "mcp": {
    "fs": { "type": "local", "command": ["npx", "-y", "@modelcontextprotocol/server-filesystem"] }
  }
}
"""

GEMINI_ENV = """# my env
export GEMINI_MODEL=gemini-2.5-pro
OTHER="keep me"
"""

GEMINI_SETTINGS = """{
    // Gemini CLI settings
    "ui": { "theme": "GitHub" },
    "mcpServers": { "docs": { "command": "docs-mcp" } }
}
"""
