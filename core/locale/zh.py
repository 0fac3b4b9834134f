"""简体中文. Keys are the English source strings; keep `{placeholders}` as they are."""

MESSAGES: dict[str, str] = {
    # quota: pace, countdowns, durations
    "depleted": "已用尽",
    "{percent} % in deficit": "超前 {percent}%",
    "runs out in {duration}": "{duration} 后用尽",
    "{percent} % in reserve": "富余 {percent}%",
    "on pace": "节奏正常",
    "now": "现在",
    "<1m": "<1分钟",
    "{days}d {hours}h": "{days}天{hours}小时",
    "{hours}h {minutes}m": "{hours}小时{minutes}分",
    "{minutes}m": "{minutes}分钟",
    # quota: window lines
    "unlimited": "无限制",
    "unknown": "未知",
    "{percent} % left": "剩余 {percent}%",
    "resets in {countdown}": "{countdown} 后重置",
    "stale, {age} old": "数据已过期（{age}前）",
    # quota: CLI
    "No subscriptions found. Sign in with a supported tool (Codex, Claude Code, OpenCode, Gemini CLI, …) or add a "
    "key in Quotagate's Providers window.":
        "未找到任何订阅。请用受支持的工具（Codex、Claude Code、OpenCode、Gemini CLI 等）登录，"
        "或在 Quotagate 的“服务商”窗口中添加密钥。",
    "Errors": "错误",
    "quotagate: the store could not be read ({error}); showing credential files only.":
        "quotagate：无法读取数据库（{error}），仅显示凭据文件中的账户。",
    # tray
    "Refresh now": "立即刷新",
    "Back up now": "立即备份",
    "Restore…": "恢复…",
    "Settings…": "设置…",
    "Quit": "退出",
    "Gateway stopped — see Settings": "网关已停止——请查看设置",
    "No subscriptions found yet": "尚未找到任何订阅",
    "Sign in with Codex, Claude Code, OpenCode or Gemini CLI, or add a key in Settings › Providers.":
        "请用 Codex、Claude Code、OpenCode 或 Gemini CLI 登录，或在“设置 › 服务商”中添加密钥。",
    "error — see the menu": "出错——请查看菜单",
}
