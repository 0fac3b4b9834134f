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
    "The passphrase does not match the one chosen when this backup was made.": "口令与创建该备份时设置的口令不符。",
    # backups: restoring
    "There is no snapshot {id}; list them with `quotagate backup list`.": "没有快照 {id}；可用 `quotagate backup list` 查看。",
    "The restore failed and was rolled back; nothing changed ({error}).": "恢复失败，已回滚，未做任何更改（{error}）。",
    # custom endpoints
    "prefix may use a-z, 0-9, '.', '_' and '-' (up to 32 characters)": "前缀只能使用 a-z、0-9、“.”、“_”和“-”（最多 32 个字符）",
    "“{prefix}” is the name of a built-in provider; choose another prefix": "“{prefix}”是内置服务商的名称；请换一个前缀",
    "baseUrl must start with http:// or https://": "baseUrl 必须以 http:// 或 https:// 开头",
}
