"""简体中文 for the messages of the gateway, the store, backups and settings that the windows and the CLI show."""

MESSAGES: dict[str, str] = {
    # the gateway's port
    "Port {port} on {host} is already in use by another program. Stop that program, or run Quotagate on another "
    "port: Settings > General > Port, `quotagate serve --port N`, or QUOTAGATE_PORT=N.":
        "{host} 上的端口 {port} 已被其他程序占用。请停止该程序，或让 Quotagate 使用其他端口：设置 > 常规 > 端口、"
        "`quotagate serve --port N` 或 QUOTAGATE_PORT=N。",
    # backups: what is refused on import, and why
    "This is not a Quotagate backup: expected a .sqlite or .tar.gz file.":
        "这不是 Quotagate 备份：应为 .sqlite 或 .tar.gz 文件。",
    "This is not a Quotagate backup: the file is not an SQLite database.": "这不是 Quotagate 备份：该文件不是 SQLite 数据库。",
    "{path} is not a file.": "{path} 不是文件。",
    "The backup is larger than the import limit of {size} MiB (setting backup.max_import_mb).":
        "备份超过了 {size} MiB 的导入上限（设置项 backup.max_import_mb）。",
    "The archive holds an unexpected or unsafe member {name}; it was not made by Quotagate and is refused.":
        "压缩包中有意外或不安全的成员 {name}；它不是 Quotagate 生成的，已拒绝。",
    "The archive member {name} is not a regular file; refused.": "压缩包成员 {name} 不是普通文件；已拒绝。",
    "This is not a readable .tar.gz backup (it may be truncated): {error}.": "这不是可读取的 .tar.gz 备份（可能不完整）：{error}。",
    "The archive lacks its manifest or its database; it is not a Quotagate backup.":
        "压缩包缺少清单或数据库；它不是 Quotagate 备份。",
    "The archive's manifest is unreadable.": "压缩包的清单无法读取。",
    "The archive's members do not match its manifest.": "压缩包的成员与清单不符。",
    "The checksum of {name} does not match the manifest: the archive was altered or damaged.":
        "{name} 的校验和与清单不符：压缩包已被修改或损坏。",
    "The backup is damaged (SQLite integrity check: {verdict}).": "备份已损坏（SQLite 完整性检查：{verdict}）。",
    "The backup is damaged or truncated ({error}).": "备份已损坏或不完整（{error}）。",
    "This SQLite file is not a Quotagate store (it has no schema version).": "该 SQLite 文件不是 Quotagate 数据库（没有架构版本）。",
    "This backup was made by a newer Quotagate (schema {version}; this one knows up to {latest}). Update Quotagate "
    "to restore it.": "该备份由更新版本的 Quotagate 生成（架构 {version}；当前版本最高支持 {latest}）。请先更新 Quotagate 再恢复。",
    "The backup lacks required tables: {tables}.": "备份缺少必需的表：{tables}。",
    "The passphrase does not match the one chosen when this backup was made.": "密码短语与创建该备份时设置的不符。",
    # backups: restoring
    "There is no snapshot {id}; list them with `quotagate backup list`.": "没有快照 {id}；可用 `quotagate backup list` 查看。",
    "The restore failed and was rolled back; nothing changed ({error}).": "恢复失败，已回滚，未做任何更改（{error}）。",
    # custom endpoints
    "“{prefix}” is the name of a built-in provider; choose another prefix": "“{prefix}”是内置服务商的名称；请换一个前缀",
    # connection and proxy tests (Providers and Proxies pages, /api/providers/{id}/test)
    "{name} has no API key yet; add the key, then test again.": "{name} 还没有 API 密钥；请添加密钥后再测试。",
    "Could not reach {url}: no answer within {seconds} s.": "无法连接 {url}：{seconds} 秒内没有响应。",
    "Could not reach {url}: {error}.": "无法连接 {url}：{error}。",
    "Connected in {ms} ms.": "已连接，耗时 {ms} ms。",
    "Connected in {ms} ms, 1 model available.": "已连接，耗时 {ms} ms，有 1 个可用模型。",
    "Connected in {ms} ms, {count} models available.": "已连接，耗时 {ms} ms，有 {count} 个可用模型。",
    "The proxy refused the connection: {error}.": "代理拒绝了连接：{error}。",
    "Could not reach {url} through the proxy: no answer within {seconds} s.":
        "无法通过代理连接 {url}：{seconds} 秒内没有响应。",
    "Could not reach {url} through the proxy: {error}.": "无法通过代理连接 {url}：{error}。",
    "The proxy URL is not usable: {error}.": "代理地址不可用：{error}。",
    "The proxy works: {url} answered HTTP {status} in {ms} ms.": "代理可用：{url} 在 {ms} ms 内返回了 HTTP {status}。",
    "The provider rejected the API key (HTTP {status})": "服务商拒绝了该 API 密钥（HTTP {status}）",
    "The account has no credit left (HTTP {status})": "账户余额已用完（HTTP {status}）",
    "The account is rate-limited or out of quota (HTTP {status})": "账户已被限流或额度已用尽（HTTP {status}）",
    "The endpoint was not found, check the base URL (HTTP {status})": "未找到该端点，请检查 base URL（HTTP {status}）",
    "The provider had an internal error (HTTP {status})": "服务商内部出错（HTTP {status}）",
    "The provider refused the test request (HTTP {status})": "服务商拒绝了测试请求（HTTP {status}）",
    "{problem}: {detail}.": "{problem}：{detail}。",
    "{problem}.": "{problem}。",
    # the gateway and its settings
    "Cannot listen on {host}:{port}: {error}.": "无法在 {host}:{port} 上监听：{error}。",
    "{source}: {value} is not a port number (use 1-65535).": "{source}：{value} 不是端口号（请使用 1-65535）。",
    "{source}: {port} is out of range (use 1-65535).": "{source}：{port} 超出范围（请使用 1-65535）。",
    "{source}: {entry} is not host=origin (e.g. api.z.ai=http://127.0.0.1:9001).":
        "{source}：{entry} 不是 host=origin 格式（例如 api.z.ai=http://127.0.0.1:9001）。",
    "{source}: {host} must be a bare host name, without scheme or path.": "{source}：{host} 必须是纯主机名，不含协议和路径。",
    "{source}: {origin} is not an http:// or https:// origin.": "{source}：{origin} 不是 http:// 或 https:// 源地址。",
    "{source}: {origin} must be an origin only (scheme://host[:port]); the request path is kept as it is.":
        "{source}：{origin} 只能是源地址（scheme://host[:port]）；请求的路径保持不变。",
    "{source}: {origin} has an invalid port.": "{source}：{origin} 的端口无效。",
    # the store
    "This database has schema version {version}, but this Quotagate only knows up to {latest}. Update Quotagate, or "
    "point QUOTAGATE_DATA_DIR at another folder.":
        "该数据库的架构版本为 {version}，而当前 Quotagate 最高只支持 {latest}。请更新 Quotagate，"
        "或将 QUOTAGATE_DATA_DIR 指向其他文件夹。",
    # why the desktop runs headless (completes “Quotagate: {reason}, so the gateway runs headless …”)
    "no display is available (neither DISPLAY nor WAYLAND_DISPLAY is set)": "没有可用的显示（DISPLAY 和 WAYLAND_DISPLAY 均未设置）",
    "the X display {display} is not running": "X 显示 {display} 未运行",
    "Qt's X11 support needs {packages} (sudo apt-get install {apt_packages})":
        "Qt 的 X11 支持需要 {packages}（sudo apt-get install {apt_packages}）",
    # the CLI: quotagate serve
    "quotagate: {error}": "quotagate：{error}",
    "quotagate: cannot open the store in {folder}: {error}": "quotagate：无法打开 {folder} 中的数据库：{error}",
    "Quotagate {version}: gateway on {url} (data in {folder}). Press Ctrl+C to stop.":
        "Quotagate {version}：网关运行于 {url}（数据位于 {folder}）。按 Ctrl+C 停止。",
    "Stopping: finishing requests in flight…": "正在停止：等待进行中的请求完成…",
    "Stopped.": "已停止。",
    # the CLI: quotagate backup
    "quotagate backup: {error}": "quotagate backup：{error}",
    "Quotagate is running (pid {pid}, gateway on port {port}). Restore from its tray menu (Restore…) or POST "
    "/api/db-backups/import, or quit it first.":
        "Quotagate 正在运行（pid {pid}，网关端口 {port}）。请从它的托盘菜单（恢复…）或通过 POST "
        "/api/db-backups/import 恢复，或先退出它。",
    "Snapshot {id} created ({size}, {contents}).": "已创建快照 {id}（{size}，{contents}）。",
    "Exported {file} ({size}, {contents}; keys sealed with your passphrase).":
        "已导出 {file}（{size}，{contents}；密钥已用你的密码短语加密）。",
    "Exported {file} ({size}, {contents}; keys readable on this machine only).":
        "已导出 {file}（{size}，{contents}；密钥只能在本机读取）。",
    "Replace the store with {file} ({description})?": "用 {file}（{description}）替换数据库？",
    "Replace the store with snapshot {id}?": "用快照 {id} 替换数据库？",
    "--passphrase needs a terminal; set {variable} in scripts.": "--passphrase 需要在终端中使用；在脚本中请设置 {variable}。",
    "Passphrase again:": "再次输入密码短语：",
    "The passphrases differ; nothing was written.": "两次输入的密码短语不一致；未写入任何内容。",
    "Restoring replaces the whole store; add --yes to confirm when not at a terminal.":
        "恢复会替换整个数据库；不在终端中运行时，请加 --yes 确认。",
    "Cancelled; nothing changed.": "已取消，未做任何更改。",
    "Restored ({contents}). The previous store is kept as snapshot {id}.": "已恢复（{contents}）。原来的数据库已保存为快照 {id}。",
    "{count} saved keys could not be opened on this machine: enter them again in Settings › Providers.":
        "有 {count} 个已保存的密钥无法在本机打开：请在“设置 › 服务商”中重新输入。",
    "No snapshots yet. `quotagate backup create` takes one.": "还没有快照。可用 `quotagate backup create` 创建一个。",
    "archive from {created}, {contents}": "{created} 的压缩包，{contents}",
    "snapshot from {created}, {contents}": "{created} 的快照，{contents}",
    "SQLite file from {created}, {contents}": "{created} 的 SQLite 文件，{contents}",
    "{accounts} accounts, {endpoints} endpoints, {combos} combos, {keys} keys":
        "{accounts} 个账户、{endpoints} 个端点、{combos} 个组合、{keys} 个密钥",
    # configuration changes: what the configuration service refuses, and why
    'A header value looks masked; send the real value.': '某个请求头的值看起来是掩码；请发送真实的值。',
    '`alias` must not contain spaces.': '`alias` 不能包含空格。',
    '`alias` and `model` are the same; an alias must point elsewhere.': '`alias` 与 `model` 相同；别名必须指向其他模型。',
    'No alias “{alias}”; GET /api/models/alias lists them.': '没有别名“{alias}”；GET /api/models/alias 可列出所有别名。',
    'Unknown field(s) {fields}; send `global` and/or `providers`.': '未知字段 {fields}；请发送 `global` 和/或 `providers`。',
    '`providers` must be an object of provider id to proxy URL.': '`providers` 必须是从服务商 ID 到代理 URL 的对象。',
    'No active API key with id {id}; GET /api/keys lists them.': '没有 ID 为 {id} 的有效 API 密钥；GET /api/keys 可列出所有密钥。',
    'Unknown setting(s) {names}.': '未知设置项 {names}。',
    'That name is already taken by an entry saved a moment ago; reload and choose another.': '该名称刚刚已被另一条保存的记录占用；请重新加载并选择其他名称。',
    'Unknown provider {provider}. Valid providers: {valid}. For any other OpenAI- or Anthropic-compatible server add a custom endpoint (POST /api/provider-nodes).': '未知服务商 {provider}。有效的服务商：{valid}。其他兼容 OpenAI 或 Anthropic 的服务器请添加自定义端点（POST /api/provider-nodes）。',
    '`{field}` looks masked but is not the stored value; send the full value, or leave it out to keep the stored one.': '`{field}` 看起来是掩码，但与已保存的值不符；请发送完整的值，或省略它以保留已保存的值。',
    'Prefix “{prefix}” already names the catalogue provider {provider}; choose another prefix for the custom endpoint.': '前缀“{prefix}”已是目录中服务商 {provider} 的名称；请为自定义端点选择其他前缀。',
    'Prefix “{prefix}” is already used by another custom endpoint; choose another.': '前缀“{prefix}”已被另一个自定义端点使用；请选择其他前缀。',
    '`model` must be provider/model (e.g. openai/gpt-4.1) with a known prefix ({prefixes}) or an existing alias; got “{model}”.': '`model` 必须是带已知前缀（{prefixes}）的 服务商/模型（例如 openai/gpt-4.1）或已有的别名；收到的是“{model}”。',
    '`providers` names unknown provider “{provider}”. Valid: {valid}.': '`providers` 中的服务商“{provider}”未知。有效值：{valid}。',
    'No provider account with id {id}; GET /api/providers lists them.': '没有 ID 为 {id} 的服务商账户；GET /api/providers 可列出所有账户。',
    'No custom endpoint with id {id}; GET /api/provider-nodes lists them.': '没有 ID 为 {id} 的自定义端点；GET /api/provider-nodes 可列出所有端点。',
    'Quotagate is not running its store right now; try again in a moment.': 'Quotagate 的数据库当前未打开；请稍后再试。',
    ' (get one at {url})': '（可在 {url} 获取）',
    '`apiKey` is required for {provider}{where}.': '{provider} 需要 `apiKey`{where}。',
    'An account cannot move to another provider (it is {provider}); add a new one instead.': '账户不能改到其他服务商（它属于 {provider}）；请改为添加新账户。',
    '`apiKey` must be a string': '`apiKey` 必须是字符串',
    '`apiKey` must be one line of at most {count} characters without spaces': '`apiKey` 必须是一行不含空格、最多 {count} 个字符的文本',
    '`{field}` must be a non-empty string': '`{field}` 必须是非空字符串',
    '`{field}` is longer than {count} characters': '`{field}` 超过了 {count} 个字符',
    '`options` must be an object': '`options` 必须是对象',
    "`prefix` may use a-z, 0-9, '.', '_' and '-' (up to 32 characters)": '`prefix` 只能使用 a-z、0-9、“.”、“_”和“-”（最多 32 个字符）',
    '`baseUrl` must start with http:// or https://': '`baseUrl` 必须以 http:// 或 https:// 开头',
    '`apiType` must be one of {formats}': '`apiType` 必须是以下之一：{formats}',
    '`headers` must be an object of string values': '`headers` 必须是值均为字符串的对象',
    '`headers`: “{name}” is not a valid header name': '`headers`：“{name}”不是有效的请求头名称',
    '`headers`: “{name}” is set by the gateway and cannot be overridden': '`headers`：“{name}”由网关设置，不能覆盖',
    '`headers`: “{name}” is listed twice': '`headers`：“{name}”出现了两次',
    '`headers`: the value of “{name}” must be one line of at most {count} characters': '`headers`：“{name}”的值必须是一行、最多 {count} 个字符',
    '{field}: {error}': '{field}：{error}',
    'The proxy address is longer than {count} characters.': '代理地址超过了 {count} 个字符。',
    '{field} must be a number from {low:g} to {high:g}.': '{field} 必须是 {low:g} 到 {high:g} 之间的数字。',
    '{field} must be a whole number from {low} to {high}.': '{field} 必须是 {low} 到 {high} 之间的整数。',
    '{field} must be true or false.': '{field} 必须是 true 或 false。',
    '{field} must be one of {choices}.': '{field} 必须是以下之一：{choices}。',
    '{field} must be a list of at most {count} names.': '{field} 必须是最多 {count} 个名称的列表。',
    '{field} must be 1 to 10 percentages between 0 and 100, e.g. 50, 20.': '{field} 必须是 1 到 10 个介于 0 和 100 之间的百分比，例如 50, 20。',
    '{field} must be an object such as {example}.': '{field} 必须是类似 {example} 的对象。',
    '{field}: {name} is not a host name or an origin such as https://tool.example.': '{field}：{name} 不是主机名，也不是类似 https://tool.example 的来源。',
    '{field} must be an object with `global` and `providers`.': '{field} 必须是包含 `global` 和 `providers` 的对象。',
    # coding tools connected to the gateway (core/cli_tools, /api/cli-tools)
    'Its settings folder exists, but `{command}` is not on PATH.':
        '它的设置文件夹存在，但 PATH 中没有 `{command}`。',
    '`{command}` is not on PATH and it has no settings folder.':
        'PATH 中没有 `{command}`，也没有它的设置文件夹。',
    '{path} cannot be read: {error}':
        '无法读取 {path}：{error}',
    '{path} is not valid {format} (line {line}: {error}); it was not changed. Fix the file, then try again.':
        '{path} 不是有效的 {format}（第 {line} 行：{error}）；未做任何更改。请修正该文件后重试。',
    'There is no tool “{tool}”; known tools: {tools}.':
        '没有工具“{tool}”；已知的工具：{tools}。',
    'This gateway requires a client key: create one in Settings › API keys and enter it (as `apiKey` through the API).':
        '此网关要求客户端密钥：请在 设置 › API 密钥 中创建一个并填入（通过 API 时以 `apiKey` 发送）。',
    '{name} was not connected by Quotagate, so there is nothing of ours to undo; its settings in {path} were set by hand.':
        '{name} 不是由 Quotagate 连接的，因此没有可撤销的内容；{path} 中的设置是手动设置的。',
    'Cursor: Settings › Models › API Keys: turn on “Override OpenAI Base URL”, then add the model under Models.':
        'Cursor：设置 › Models › API Keys：打开“Override OpenAI Base URL”，然后在 Models 中添加模型。',
    'Cline: Settings › API Provider › OpenAI Compatible.':
        'Cline：设置 › API Provider › OpenAI Compatible。',
    'Continue: add this to ~/.continue/config.yaml.':
        'Continue：将以下内容添加到 ~/.continue/config.yaml。',
    'Zed: merge this into settings.json; enter the key when Zed asks for it ({key}).':
        'Zed：将以下内容合并到 settings.json；Zed 询问密钥时输入它（{key}）。',
    '{path} changed since Quotagate connected it and can no longer be undone automatically; remove the Quotagate settings from it yourself.':
        '{path} 在 Quotagate 连接后已被更改，无法再自动撤销；请自行从中删除 Quotagate 的设置。',
    '{path} is a symbolic link; Quotagate does not write through links. Change the file it points to yourself, or replace the link with a regular file.':
        '{path} 是符号链接；Quotagate 不会通过链接写入。请自行修改它指向的文件，或用普通文件替换该链接。',
    '{path} is read-only; make it writable, then try again.':
        '{path} 是只读的；请使其可写后重试。',
    'The folder {folder} is not writable, so {path} cannot be changed safely.':
        '文件夹 {folder} 不可写，因此无法安全地更改 {path}。',
    '{path} changed while Quotagate was updating it; nothing was written. Try again.':
        '{path} 在 Quotagate 更新期间被更改；未写入任何内容。请重试。',
    '{path} is a folder, not a settings file.':
        '{path} 是文件夹，不是设置文件。',
    '{path} could not be written: {error}':
        '无法写入 {path}：{error}',
    '{path} is not UTF-8 text; Quotagate leaves it alone.':
        '{path} 不是 UTF-8 文本；Quotagate 不会改动它。',
    "{path} cannot take Quotagate's settings ({error}); it was not changed.":
        '{path} 无法写入 Quotagate 的设置（{error}）；未做任何更改。',
    'That client key (`apiKey`) is not an active key of this gateway; create one in Settings › API keys.':
        '该客户端密钥（`apiKey`）不是此网关的有效密钥；请在 设置 › API 密钥 中创建一个。',
    # coding tools: locks, Try it (core/cli_tools)
    '{name} has no model set in {path}, so it would ask for its own default model, which the gateway may not know. Choose a model and connect again.':
        '{name} 在 {path} 中没有设置模型，因此它会请求自己的默认模型，而网关可能不认识该模型。请选择一个模型后重新连接。',
    "Another Quotagate process is changing this tool's settings; try again in a moment.":
        '另一个 Quotagate 进程正在更改此工具的设置；请稍后重试。',
    'The gateway is not running yet; try again in a moment.':
        '网关尚未运行；请稍后重试。',
    '{name} does not point at this gateway ({url}); connect it first.':
        '{name} 没有指向此网关（{url}）；请先连接它。',
    'No answer within {seconds} s.':
        '{seconds} 秒内没有回答。',
    'The gateway could not be reached at {url}: {error}':
        '无法通过 {url} 访问网关：{error}',
    'The gateway answered, but the answer had no text.':
        '网关已回答，但回答中没有文本。',
    # evaluation suites and the request settings (system prompt, default thinking)
    "Unknown field(s) {fields}; send `suite` or `suiteName`, and `targets`.":
        "未知字段 {fields}；请发送 `suite` 或 `suiteName`，以及 `targets`。",
    "`apiKey` must be one of this gateway's client keys.": "`apiKey` 必须是本网关的客户端密钥之一。",
    "Send `suite` (the cases) or `suiteName` (a saved or built-in suite such as smoke).":
        "请发送 `suite`（用例）或 `suiteName`（已保存或内置的套件，例如 smoke）。",
    "{field}.regex[{index}] is not a valid pattern: {error}.": "{field}.regex[{index}] 不是有效的正则表达式：{error}。",
    "{field} needs at least one of `contains`, `regex` or `notContains`.":
        "{field} 至少需要 `contains`、`regex` 或 `notContains` 之一。",
    "{field} must be a list of at most {count} texts of 1 to {length} characters.":
        "{field} 必须是最多 {count} 条、每条 1 到 {length} 个字符的文本列表。",
    "does not contain “{expected}”": "不包含“{expected}”",
    "does not match /{pattern}/": "不匹配 /{pattern}/",
    "contains “{expected}”": "包含“{expected}”",
    "`name` must be 1 to 100 letters, digits, spaces, '.', '_' or '-'.":
        "`name` 必须由 1 到 100 个字母、数字、空格、'.'、'_' 或 '-' 组成。",
    "“{name}” is a built-in suite; give yours another name.": "“{name}”是内置套件；请为你的套件另取名称。",
    "`suite` must be an object with `name` and `cases`.": "`suite` 必须是包含 `name` 和 `cases` 的对象。",
    "`cases` must be a list of 1 to {count} cases.": "`cases` 必须是包含 1 到 {count} 个用例的列表。",
    "`targets` must be a list of 1 to {count} model or combo names.": "`targets` 必须是包含 1 到 {count} 个模型或组合名称的列表。",
    "{field} must be an object with `prompt` and `contains`, `regex` or `notContains`.":
        "{field} 必须是包含 `prompt` 以及 `contains`、`regex` 或 `notContains` 的对象。",
    "{field}.prompt must be text of 1 to {count} characters.": "{field}.prompt 必须是 1 到 {count} 个字符的文本。",
    "{field}.system must be text of at most {count} characters.": "{field}.system 必须是最多 {count} 个字符的文本。",
    "{field} must be an object with `enabled`, `prompt` and `position`.":
        "{field} 必须是包含 `enabled`、`prompt` 和 `position` 的对象。",
    "{field}.prompt must be text of at most {count} characters.": "{field}.prompt 必须是最多 {count} 个字符的文本。",
    "{field}.prompt is empty; write the prompt or turn it off.": "{field}.prompt 为空；请填写提示词或将其关闭。",
    "{field} must be an object with `mode`, `effort`, `budgetTokens` and `models`.":
        "{field} 必须是包含 `mode`、`effort`、`budgetTokens` 和 `models` 的对象。",
    # subscription sign-ins: renewal, imports, sign-in flows (core/subscriptions)
    "Request too large.": "请求过大。",
    "Quotagate could not finish the sign-in (internal error; see the log).": "Quotagate 无法完成登录（内部错误；请查看日志）。",
    "Quotagate sign-in": "Quotagate 登录",
    "Quotagate signs in to {service} with the OAuth client of {tool}, which it did not find installed. Install it, "
    "or set {prefix}_CLIENT_ID and {prefix}_CLIENT_SECRET.":
        "Quotagate 使用 {tool} 的 OAuth 客户端登录 {service}，但未找到已安装的 {tool}。请安装它，或设置 {prefix}_CLIENT_ID 和 "
        "{prefix}_CLIENT_SECRET。",
    "{service} refused the sign-in ({error}).": "{service} 拒绝了登录（{error}）。",
    "{service} answered without an access token.": "{service} 的回答中没有访问令牌。",
    "The GitHub Copilot sign-in has no GitHub token.": "该 GitHub Copilot 登录没有 GitHub 令牌。",
    "GitHub no longer accepts this sign-in (HTTP {status}).": "GitHub 不再接受此登录（HTTP {status}）。",
    "This GitHub account has no GitHub Copilot subscription.": "此 GitHub 账户没有 GitHub Copilot 订阅。",
    "{service} did not answer in time; will retry.": "{service} 未及时回答；稍后重试。",
    "Could not reach {service}; check the connection. Will retry.": "无法连接 {service}；请检查网络连接。稍后重试。",
    "{service} is unavailable right now (HTTP {status}); will retry.": "{service} 暂时不可用（HTTP {status}）；稍后重试。",
    "{service} answered HTTP {status}.": "{service} 返回了 HTTP {status}。",
    "{service} sent an answer that is not JSON.": "{service} 返回的内容不是 JSON。",
    "The {service} sign-in has no refresh token, so it cannot be renewed once it expires.":
        "该 {service} 登录没有刷新令牌，过期后无法续期。",
    "Google no longer accepts this {service} sign-in.": "Google 不再接受此 {service} 登录。",
    "{file} cannot be imported: it has no \"{field}\".": "无法导入 {file}：其中没有“{field}”。",
    "{file} cannot be imported: \"{field}\" is not an OAuth sign-in.": "无法导入 {file}：“{field}”不是 OAuth 登录。",
    "{file} cannot be imported: \"{field}\" is not a list.": "无法导入 {file}：“{field}”不是列表。",
    "{file} cannot be imported: \"{field}\" is missing or not an object.": "无法导入 {file}：“{field}”缺失或不是对象。",
    "Quotagate cannot import {provider} sign-ins from {source}.": "Quotagate 无法从 {source} 导入 {provider} 登录。",
    "any tool": "任何工具",
    "{file} cannot be imported: {reason}.": "无法导入 {file}：{reason}。",
    "No {provider} sign-in was found in {files}. Sign in with the tool first, or sign in here.":
        "在 {files} 中未找到 {provider} 登录。请先用该工具登录，或在这里登录。",
    "An imported sign-in shares one session with the tool it came from. When the provider rotates refresh tokens, "
    "whichever renews first (Quotagate or the tool) signs the other out. Signing in separately here is recommended.":
        "导入的登录与其来源工具共用同一个会话。服务商轮换刷新令牌时，先续期的一方（Quotagate 或该工具）会让另一方退出登录。"
        "建议在这里单独登录。",
    "must be signed in again ({reason})": "需要重新登录（{reason}）",
    "{service} signs in with a code you type at the provider: use device-code.":
        "{service} 通过在服务商处输入代码登录：请使用 device-code。",
    "Port {port} on 127.0.0.1 is in use, and {service} only returns to that port. Close the program using it "
    "(another sign-in, e.g. `{tool}`), then try again.":
        "127.0.0.1 上的端口 {port} 已被占用，而 {service} 只会回到该端口。请关闭占用它的程序（另一个登录，例如 `{tool}`），然后重试。",
    "Send the `code` and `state` the provider returned.": "请发送服务商返回的 `code` 和 `state`。",
    "This sign-in is unknown or over; start it again.": "此登录不存在或已结束；请重新开始。",
    "The answer does not belong to this sign-in (its state differs); start it again.":
        "该回答不属于此登录（state 不一致）；请重新开始。",
    "The provider did not sign you in: {reason}.": "服务商未让您登录：{reason}。",
    "Signed in to {service}. You can close this window and go back to Quotagate.":
        "已登录 {service}。您可以关闭此窗口并返回 Quotagate。",
    "{service} signs in through the browser: use authorize.": "{service} 通过浏览器登录：请使用 authorize。",
    "GitHub answered without a device code; try again.": "GitHub 的回答中没有设备代码；请重试。",
    "The code expired before it was entered; start again.": "代码在输入前已过期；请重新开始。",
    "The sign-in was declined at GitHub.": "登录在 GitHub 上被拒绝。",
    "GitHub refused the sign-in ({error}).": "GitHub 拒绝了登录（{error}）。",
    "The sign-in was cancelled.": "登录已取消。",
    "Too many sign-ins are open at once; finish or cancel one first.": "同时进行的登录过多；请先完成或取消其中一个。",
    "Could not reach GitHub; check the connection and try again.": "无法连接 GitHub；请检查网络连接后重试。",
    "GitHub answered HTTP {status}; try again.": "GitHub 返回了 HTTP {status}；请重试。",
    "The sign-in timed out; start it again.": "登录超时；请重新开始。",
    "This sign-in is already over; start it again.": "此登录已结束；请重新开始。",
    "Unknown subscription {provider}. Valid: {valid}.": "未知的订阅 {provider}。有效值：{valid}。",
    "Subscription account {id} does not exist (any more).": "订阅账户 {id} 不存在（或已删除）。",
    "its tokens were sealed on another machine and cannot be read here": "其令牌在另一台计算机上加密，无法在此读取",
    "Sign in to “{name}” again in Quotagate's Providers window: {reason}": "请在 Quotagate 的提供商窗口中重新登录“{name}”：{reason}",
    "its sign-in was refused": "其登录被拒绝",
    # gateway rules, policies, budgets, audit log, lifecycle (issue 17, part A)
    "`period` must be \"daily\" or \"monthly\".": "`period` 必须是 \"daily\" 或 \"monthly\"。",
    "`keyId` must be the id of an API key (GET /api/keys lists them).": "`keyId` 必须是某个 API 密钥的 ID（GET /api/keys 可列出）。",
    "`limit` must be a positive amount in USD (at most {most:,.0f}), or null to remove the budget.":
        "`limit` 必须是正的美元金额（最多 {most:,.0f}），或为 null 以移除预算。",
    "changing an API key's budget": "修改 API 密钥的预算",
    "changing the IP filter": "修改 IP 过滤",
    "changing the global rate limit": "修改全局速率限制",
    "saving a routing policy": "保存路由策略",
    "deleting a routing policy": "删除路由策略",
    "adding a provider model": "添加提供商模型",
    "removing a provider model": "移除提供商模型",
    "This gateway takes at most {count} requests per minute from all clients together; try again in {seconds} s.":
        "此网关每分钟最多接受所有客户端合计 {count} 个请求；请在 {seconds} 秒后重试。",
    "{field} must be an object with `requestsPerMinute`, or null for no limit.":
        "{field} 必须是包含 `requestsPerMinute` 的对象，或为 null 表示不限制。",
    "{field}.requestsPerMinute must be a whole number from 1 to {most:,}.":
        "{field}.requestsPerMinute 必须是 1 到 {most:,} 之间的整数。",
    "{field} must be an object with `allow` and `block` lists of addresses or CIDR ranges such as 192.168.1.0/24.":
        "{field} 必须是包含 `allow` 和 `block` 列表的对象，列表项为地址或 CIDR 网段，例如 192.168.1.0/24。",
    "{field} must be a list of at most {count} addresses or CIDR ranges.": "{field} 必须是最多 {count} 个地址或 CIDR 网段的列表。",
    "a non-text value": "非文本值",
    "{field}: {entry} is not an IP address or a CIDR range such as 192.168.1.0/24 (a range must start at its first address).":
        "{field}：{entry} 不是 IP 地址或 CIDR 网段（例如 192.168.1.0/24；网段必须从其第一个地址开始）。",
    "The address {peer} is blocked by this gateway's IP filter.": "地址 {peer} 已被此网关的 IP 过滤阻止。",
    "The address {peer} is not on this gateway's IP allow list.": "地址 {peer} 不在此网关的 IP 允许列表中。",
    "Routing policy “{name}” allows only {models}; '{model}' is not among them.":
        "路由策略“{name}”只允许 {models}；'{model}' 不在其中。",
    "Routing policy “{names}” blocks {providers}, so '{model}' has no target left.":
        "路由策略“{names}”阻止了 {providers}，因此 '{model}' 没有可用的目标。",
    "{field} must be a list of at most {count} policies.": "{field} 必须是最多 {count} 条策略的列表。",
    "{field}: two policies are named “{name}”; names must be unique.": "{field}：有两条策略都名为“{name}”；名称必须唯一。",
    "A policy is an object with `name` and `blockProviders`, `allowModels` and/or `keys`.":
        "策略是一个对象，包含 `name` 以及 `blockProviders`、`allowModels` 和/或 `keys`。",
    "A policy's `name` must be a non-empty string of at most 100 characters.": "策略的 `name` 必须是最多 100 个字符的非空字符串。",
    "Policy “{name}” blocks no provider and restricts no model; give `blockProviders` or `allowModels`.":
        "策略“{name}”既未阻止任何提供商也未限制任何模型；请提供 `blockProviders` 或 `allowModels`。",
    "Policy “{name}”: `keys` must be a list of API key ids (GET /api/keys lists them); leave it empty to apply the policy to every request.":
        "策略“{name}”：`keys` 必须是 API 密钥 ID 的列表（GET /api/keys 可列出）；留空则对所有请求生效。",
    "Policy “{name}”: `{field}` must be a list of at most {count} names.": "策略“{name}”：`{field}` 必须是最多 {count} 个名称的列表。",
    "{field} must be an object of provider id to a list of models.": "{field} 必须是从提供商 ID 到模型列表的对象。",
    "{field}.{provider} must be a list of at most {count} models.": "{field}.{provider} 必须是最多 {count} 个模型的列表。",
    "`provider` must be a catalogue provider (GET /api/providers/catalog lists them), not {provider}; custom endpoints list their own models.":
        "`provider` 必须是目录中的提供商（GET /api/providers/catalog 可列出），而不是 {provider}；自定义端点会列出自己的模型。",
    "`modelId` must be the model's id as the provider names it: up to 200 characters, no spaces.":
        "`modelId` 必须是提供商所用的模型 ID：最多 200 个字符，不含空格。",
    "`modelName` must be a string of at most 200 characters.": "`modelName` 必须是最多 200 个字符的字符串。",
    "Restarting…": "正在重新启动…",
    # what a configuration change is called (snapshots "before …", the audit log)
    "adding a provider connection": "添加提供商连接",
    "changing a provider connection": "更改提供商连接",
    "deleting a provider connection": "删除提供商连接",
    "adding a custom endpoint": "添加自定义端点",
    "changing a custom endpoint": "更改自定义端点",
    "deleting a custom endpoint": "删除自定义端点",
    "adding a combo": "添加组合",
    "changing a combo": "更改组合",
    "deleting a combo": "删除组合",
    "setting a model alias": "设置模型别名",
    "deleting a model alias": "删除模型别名",
    "changing proxy settings": "更改代理设置",
    "creating an API key": "创建 API 密钥",
    "changing an API key": "更改 API 密钥",
    "revoking an API key": "吊销 API 密钥",
    "changing settings": "更改设置",
    "changing the login setting": "更改登录设置",
    "changing the port": "更改端口",
    "changing start at login": "更改登录时启动",
    "changing the API key requirement": "更改 API 密钥要求",
    "changing quota settings": "更改配额设置",
    "changing the global system prompt": "更改全局系统提示词",
    "changing the default thinking budget": "更改默认思考预算",
    "saving an evaluation suite": "保存评测套件",
    "adding a subscription sign-in": "添加订阅登录",
    # why the gateway skips an account or a target (the API answers in English; the windows say it so)
    "rejected the key (HTTP 401)": "拒绝了密钥 (HTTP 401)",
    "has no credit left (HTTP 402)": "余额已用完 (HTTP 402)",
    "refused access (HTTP 403)": "拒绝访问 (HTTP 403)",
    "needs to be signed in again": "需要重新登录",
    "the account {reason}": "该账户{reason}",
    "{provider} is failing (circuit open)": "{provider} 持续出错（已熔断）",
    "{provider} is being probed after failures": "{provider} 出错后正在试探",
    "rate-limited (HTTP 429)": "被限流 (HTTP 429)",
    "failing (HTTP {status})": "出错 (HTTP {status})",
    "unreachable or timing out": "无法连接或超时",
    "its {window} quota is used up": "其“{window}”配额已用完",
    "only {left}% of its quota is left (this combo keeps {reserve}% in reserve)":
        "配额仅剩 {left}%（此组合保留 {reserve}% 作为储备）",
    "blocked by routing policy “{policy}”": "被路由策略“{policy}”阻止",
    "the account {reason}; skipped until its configuration changes": "该账户{reason}；在其配置更改前跳过",
    "cooling down: {reason}": "冷却中：{reason}",
    "{provider}'s circuit breaker is open after {failures} failures": "{provider} 连续出错 {failures} 次，已熔断",
    "{provider} is recovering: the next request tests it": "{provider} 正在恢复：下一个请求会试探它",
    "switched off": "已停用",
    "its key cannot be read here (restored from another machine): enter it again":
        "在这台电脑上无法读取其密钥（从另一台电脑恢复）：请重新输入",
    "it has no API key": "没有 API 密钥",
}
