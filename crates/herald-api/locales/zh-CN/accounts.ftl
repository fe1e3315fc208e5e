# /accounts：渠道账号的列表、表单、测试发送和令牌刷新。
acct-list-title = 渠道账号
acct-search-placeholder = 按名称或 ID 搜索
acct-search-label = 搜索
acct-channel-label = 渠道
acct-any-channel = 全部渠道
acct-col-id = ID
acct-col-rate = 发送速率
acct-col-updated = 更新时间
acct-rate = { $rate } 条/秒
acct-rate-unlimited = 不限
acct-list-empty = 还没有渠道账号。发件箱（outbox）和 Webhook 渠道不需要渠道账号。
acct-list-no-match = 没有匹配的渠道账号。

# 表单。
acct-title = 渠道账号 { $id }
acct-new-title = 新建渠道账号
acct-heading = 渠道账号 #{ $id }：{ $name }
acct-new-heading = 新建渠道账号
acct-name = 名称
acct-channel = 渠道
acct-configuration = 配置
# 包在打码的密钥 <code>****</code> 两侧。
acct-secrets-hint-before = 密钥只写不读：显示时已打码（
acct-secrets-hint-after = ，或只显示最后四个字符）；保持原样即沿用已保存的值，也可以输入新值。
acct-config-json-summary = 或以 JSON 填写完整配置
acct-config-json-label = 配置（JSON；填写后将取代上面的字段）
acct-config-json-hint = 用于上面字段覆盖不到的配置，例如第二个短信服务商。参见 README 中的渠道表。
acct-rate-label = 每秒发送条数（留空：不限）
acct-create = 创建渠道账号
acct-created = 渠道账号已创建。
acct-saved = 已保存。
acct-not-json = 不是有效的 JSON：{ $error }

# 渠道的配置字段。
acct-field-required = （必填）
acct-field-pick-one = 请选择
acct-field-default = 默认
acct-field-secret-help = 保密字段。{ $help }
acct-no-fields = 该渠道无需配置。
acct-field-not-whole = { $label }：{ $value } 不是整数
acct-field-not-choice = { $label }：{ $value } 不是 { $choices } 之一

# 测试发送、刷新令牌、删除。
acct-test-heading = 发送测试消息
acct-receiver = 接收者
acct-test-content = 内容（JSON，可选）
acct-send-test = 测试发送
acct-test-title = { $outcome }（消息 { $message }）
acct-test-sent = 已发送
acct-test-retryable = 失败（可重试）
acct-test-permanent = 失败（不可重试）
acct-refused = 已拒绝
acct-token-heading = 访问令牌
acct-refresh-now = 立即刷新
acct-token-refreshed = 令牌已刷新
acct-token-expires = 过期时间：{ $at }
acct-delete-ask = 删除渠道账号…
acct-delete-title = 删除渠道账号“{ $name }”？
acct-delete-text = 它的配置、密钥和令牌刷新计划都将被删除。仍有消息模板通过它发送时，删除会被拒绝；已发送消息的追踪记录会保留。
acct-delete-yes = 是，删除
