# /keys：API 密钥的列表、创建和吊销。
keys-new-shown-once = 新密钥，仅显示这一次：
keys-new-copy-now = 系统只保存它的哈希值，请立即复制。
# 围绕权限范围标记和路由的一句话：{ 权限范围为 } admin { 的密钥……权限范围为 } send { 的密钥只能调用 } /send { 和 } /batchSend{ 。已吊销…… }
keys-scopes-an = 权限范围为
keys-scopes-admin = 的密钥可调用所有 API 路由；权限范围为
keys-scopes-send = 的密钥只能调用
keys-scopes-and = 和
keys-scopes-rest = 。已吊销的密钥会立即被拒绝。最后一个可用的 admin 密钥不能吊销。
keys-col-id = ID
keys-col-key = 密钥
keys-col-name = 名称
keys-col-scope = 权限范围
keys-col-created = 创建时间
keys-col-last-used = 最近使用
keys-revoked-at = 已于 { $at } 吊销
keys-revoke-ask = 吊销…
keys-new-heading = 新建密钥
keys-name-placeholder = 用途，例如：商城后端
keys-scope-send = send：仅限 /send、/batchSend 和 /recall
keys-scope-admin = admin：所有路由
keys-create = 创建密钥
keys-revoked-notice = 密钥已吊销：从现在起将被拒绝。
keys-not-found = 没有 ID 为 { $id } 的 API 密钥

# 确认后吊销。
keys-revoke-title = 吊销密钥 { $id }
keys-revoke-heading = 吊销密钥 { $id }？
keys-revoke-text = 密钥 { $id }（{ $name }）将从下一个请求起被拒绝。使用它的客户端会收到 401，需要换用新密钥。此操作无法撤销。
keys-revoke = 吊销
