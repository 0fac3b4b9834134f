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
    # quota notifications
    "Resets in {countdown}.": "{countdown} 后重置。",
    "{where} is used up": "{where} 已用尽",
    "{where} is available again": "{where} 已恢复",
    "{percent} % left.": "剩余 {percent}%。",
    "{where}: {percent} % left": "{where}：剩余 {percent}%",
    # quota pages
    "Last 24 hours": "最近 24 小时",
    "Last 7 days": "最近 7 天",
    "Last 30 days": "最近 30 天",
    "Refresh": "刷新",
    "No history yet: Quotagate records each account's quota as it changes.": "暂无历史：Quotagate 会在每个账户的额度变化时记录。",
    "Account:": "账户：",
    "Quota history": "额度历史",
    "Used % of each window. A drop means the window reset.": "各时间窗口的已用百分比；下降表示该窗口已重置。",
    "“{part}” is not a number.": "“{part}”不是数字。",
    "Thresholds are percentages between 0 and 100.": "阈值是 0 到 100 之间的百分比。",
    "Enter at least one threshold, e.g. 50, 20.": "请至少输入一个阈值，例如 50, 20。",
    " min": " 分钟",
    "Hide personal information (mask emails as well as keys)": "隐藏个人信息（邮箱与密钥一并遮盖）",
    "Automatic (from the system)": "自动（跟随系统）",
    "Save": "保存",
    "Refresh every:": "刷新间隔：",
    "Notify below (% left):": "低于以下剩余百分比时通知：",
    "Also when a quota runs out and when it comes back. Each notice is shown once per crossing, also across restarts.":
        "额度用尽和恢复时也会通知。每次越过阈值只通知一次，重启后也不会重复。",
    "Language:": "语言：",
    "Refresh and notifications": "刷新与通知",
    "Show in the tray": "在托盘中显示",
    "Quota": "额度",
    "Saved. Windows opened from now on use the new language.": "已保存。此后打开的窗口将使用新语言。",
    # window
    "General": "常规",
    "History": "历史",
    "Providers": "服务商",
    "Proxies": "代理",
    "API keys": "API 密钥",
    "Dashboard": "仪表盘",
    "Backups": "备份",
    "Quotagate: gateway not started": "Quotagate：网关未启动",
    "Your desktop has no system tray, so Quotagate shows this window instead. The gateway keeps running while it is "
    "open; closing the window quits Quotagate.":
        "你的桌面没有系统托盘，因此 Quotagate 改为显示此窗口。窗口打开期间网关保持运行；关闭窗口将退出 Quotagate。",
    "Backup failed": "备份失败",
    "Backup saved": "备份已保存",
    "Snapshot {id} ({size}). Restore it from Settings › Backups.": "快照 {id}（{size}）。可在“设置 › 备份”中恢复。",
}
