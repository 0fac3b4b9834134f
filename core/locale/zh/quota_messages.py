"""简体中文 for the messages of the quota services (credentials, sign-in, answers of the services)."""

MESSAGES: dict[str, str] = {
    # the tools that sign in, and how to sign in again or renew
    "the Codex CLI": "Codex CLI",
    "the Gemini CLI": "Gemini CLI",
    "OpenCode's Antigravity plugin": "OpenCode 的 Antigravity 插件",
    "the GitHub Copilot editor plugin": "编辑器中的 GitHub Copilot 插件",
    "the token in ~/.config/opencode/{variable}": "~/.config/opencode/{variable} 中的令牌",
    "run `codex login`": "运行 `codex login`",
    "run `codex` once; it renews the token": "运行一次 `codex`，它会续期令牌",
    "run `opencode auth login`": "运行 `opencode auth login`",
    "open OpenCode once; it renews the token": "打开一次 OpenCode，它会续期令牌",
    "run `claude` and use /login": "运行 `claude` 并使用 /login",
    "run `claude` once; it renews the token": "运行一次 `claude`，它会续期令牌",
    "run `gemini` and sign in with Google": "运行 `gemini` 并用 Google 登录",
    "run `gemini` once; it renews the token": "运行一次 `gemini`，它会续期令牌",
    "run `opencode auth login` and choose Google": "运行 `opencode auth login` 并选择 Google",
    "sign in to GitHub Copilot in your editor again": "在编辑器中重新登录 GitHub Copilot",
    "update the account in Quotagate's settings": "在 Quotagate 设置中更新该账户",
    "set a valid key in ${variable}": "在 ${variable} 中设置有效的密钥",
    "create a new fine-grained token with the \"Plan\" read permission and put it in ~/.config/opencode/{variable}":
        "创建一个具有“Plan”读取权限的新细粒度令牌，并放入 ~/.config/opencode/{variable}",
    "create a new fine-grained token and put it in ~/.config/opencode/{variable}":
        "创建一个新的细粒度令牌，并放入 ~/.config/opencode/{variable}",
    # credential files
    "it is a folder, not a file": "它是文件夹而不是文件",
    "permission denied": "没有权限",
    "it is not UTF-8 text": "它不是 UTF-8 文本",
    "it is empty": "文件为空",
    "it is not valid JSON (line {line}, column {column})": "不是有效的 JSON（第 {line} 行，第 {column} 列）",
    "it does not hold a JSON object": "其中不是 JSON 对象",
    "{file} cannot be used: {reason}. Fix the file or sign in again: {how}.":
        "无法使用 {file}：{reason}。请修复该文件或重新登录：{how}。",
    "{file} has an unusable \"{entry}\" entry ({expected}). Sign in again: {how}.":
        "{file} 中的“{entry}”项无法使用（{expected}）。请重新登录：{how}。",
    "expected a list": "应为列表",
    "expected an object": "应为对象",
    "expected an object with \"{field}\"": "应为包含“{field}”的对象",
    "expected \"{field}\"": "应包含“{field}”",
    "expected \"{field}\" or \"{other}\"": "应包含“{field}”或“{other}”",
    "\"{a}\", \"{b}\" and \"{c}\" are all needed": "“{a}”、“{b}”和“{c}”缺一不可",
    "{file}: \"tier\" must be one of {choices} (it is {value}).": "{file}：“tier”必须是 {choices} 之一（当前为 {value}）。",
    "missing": "缺失",
    # sign-in and expiry
    "The {service} sign-in from {tool} expired on {when}; {how}.": "{tool} 的 {service} 登录已于 {when} 过期；{how}。",
    "{service} rejected the sign-in from {tool} (HTTP {status}). Sign in again: {how}.":
        "{service} 拒绝了 {tool} 的登录（HTTP {status}）。请重新登录：{how}。",
    "{service} rejected the key from {tool}: {reason}. Sign in again: {how}.":
        "{service} 拒绝了来自 {tool} 的密钥：{reason}。请重新登录：{how}。",
    "Google no longer accepts the saved sign-in of {tool} ({error}). Sign in again: {how}.":
        "Google 不再接受 {tool} 保存的登录（{error}）。请重新登录：{how}。",
    "Google sign-in": "Google 登录服务",
    "Google sign-in answered without an access token.": "Google 登录的响应中没有访问令牌。",
    "{service}: this GitHub account has no Copilot subscription (or the token lacks access to it). Sign in again: "
    "{how}.": "{service}：该 GitHub 账户没有 Copilot 订阅（或令牌无权访问）。请重新登录：{how}。",
    "Quotagate renews {service} sign-ins with the OAuth client of OpenCode's Antigravity plugin and did not find "
    "the plugin installed. Open OpenCode once so that it installs the plugin, or set {prefix}_CLIENT_ID and "
    "{prefix}_CLIENT_SECRET.":
        "Quotagate 使用 OpenCode 的 Antigravity 插件的 OAuth 客户端来续期 {service} 登录，但未找到已安装的插件。"
        "请打开一次 OpenCode 以安装该插件，或设置 {prefix}_CLIENT_ID 和 {prefix}_CLIENT_SECRET。",
    "This {service} account has only a refresh token, and Quotagate renews it with the OAuth client of the Gemini "
    "CLI, which it did not find installed. Install the Gemini CLI, or set {prefix}_CLIENT_ID and "
    "{prefix}_CLIENT_SECRET.":
        "该 {service} 账户只有刷新令牌，Quotagate 需要用 Gemini CLI 的 OAuth 客户端来续期，但未找到已安装的 "
        "Gemini CLI。请安装 Gemini CLI，或设置 {prefix}_CLIENT_ID 和 {prefix}_CLIENT_SECRET。",
    # the network and the services' answers
    "{service} did not answer within {seconds} s; will retry.": "{service} 在 {seconds} 秒内没有响应；稍后重试。",
    "{service} did not answer; will retry.": "{service} 没有响应；稍后重试。",
    "Could not reach {service} ({reason}); check the connection. Will retry.":
        "无法连接 {service}（{reason}）；请检查网络连接。稍后重试。",
    "connection failed": "连接失败",
    "the connection was closed unexpectedly": "连接被意外关闭",
    "the proxy did not pass the request on": "代理未能转发请求",
    "the connection broke off": "连接中断",
    "{service} is limiting quota checks (HTTP 429); will retry later.": "{service} 正在限制额度查询（HTTP 429）；稍后重试。",
    "{service} had a server error (HTTP {status}); will retry.": "{service} 服务器出错（HTTP {status}）；稍后重试。",
    "{service} answered HTTP {status}: {detail}": "{service} 返回 HTTP {status}：{detail}",
    "{service} answered HTTP {status}": "{service} 返回 HTTP {status}",
    "{service} refused the quota request: {reason}": "{service} 拒绝了额度查询：{reason}",
    "no reason given": "未说明原因",
    "{service} sent an answer that is not JSON (HTTP {status}); the service may have changed.":
        "{service} 返回的不是 JSON（HTTP {status}）；该服务可能已变更。",
    "{service} sent an answer in an unexpected shape (expected a JSON object).":
        "{service} 返回的格式不符合预期（应为 JSON 对象）。",
    "{service}'s answer has no \"{field}\"; the service may have changed.":
        "{service} 的响应中没有“{field}”；该服务可能已变更。",
    "{service} sent an unexpected loadCodeAssist answer.": "{service} 返回了意外的 loadCodeAssist 响应。",
    # window labels the services' answers bring (the common words are in `interface`)
    "Code review": "代码审查",
    # Quotagate's own failures
    "Quotagate could not look for {provider} accounts (internal error; see the log).":
        "Quotagate 无法查找 {provider} 账户（内部错误；请查看日志）。",
    "Quotagate could not read the {service} quota (internal error; see the log).":
        "Quotagate 无法读取 {service} 的额度（内部错误；请查看日志）。",
}
