# /templates：模板列表、批量操作，以及带预览的模板表单。

## 列表
tpl-new = 新建模板
tpl-search-placeholder = 按名称或 ID 搜索
tpl-search-label = 搜索
tpl-status-label = 状态
tpl-any-status = 全部状态
tpl-status-running = 运行中
tpl-status-stopped = 已停用
tpl-channel-label = 渠道
tpl-any-channel = 全部渠道
tpl-bulk-label = 对勾选的模板：
tpl-tick = 勾选
tpl-tick-name = 勾选 { $name }
tpl-id = ID
tpl-status = 状态
tpl-next-fire = 下次触发
tpl-no-match = 没有匹配的模板。
tpl-deleted = 模板已删除：{ tpl-delete-keeps }。

## 批量操作
tpl-bulk-choose = 请选择启用、停用或删除。
tpl-bulk-tick = 请先勾选 1 到 { $max } 个模板。
tpl-bulk-delete-title = 删除 { $count } 个模板？
tpl-bulk-delete-text = { $names }：它们的定时计划将停止，且不能再发送；{ tpl-delete-keeps }。
tpl-bulk-delete-yes = 是，删除这 { $count } 个模板
tpl-bulk-started = 已启用 { $count } 个：{ $names }。
tpl-bulk-stopped = 已停用 { $count } 个：{ $names }。
tpl-bulk-deleted = 已删除 { $count } 个：{ $names }。
tpl-bulk-refused = 被拒绝 { $count } 个：{ $names }。
tpl-bulk-deleted-keeps = { tpl-delete-keeps }。

## 表单
tpl-edit-title = 模板 { $id }
tpl-edit-heading = 模板 #{ $id }：{ $name }
tpl-name = 名称
tpl-channel = 渠道
tpl-channel-account = 渠道账号
tpl-channel-account-none = 无（发件箱、Webhook）
tpl-msg-type = 消息类型
tpl-msg-type-notice = 10 通知类
tpl-msg-type-marketing = 20 营销类
tpl-msg-type-code = 30 验证码
tpl-receiver-id-type = 接收者 ID 类型
tpl-crowd-file = 人群文件
tpl-crowd-option = { $name } — { $rows } 行，{ $bad } 行无效（{ $created }）
# “上传人群文件；文件的各列用于填充 {$name} 占位符。”，在链接和代码两侧拆开。
tpl-crowd-upload = 上传人群文件
tpl-crowd-hint-fill = ；文件的各列用于填充
tpl-crowd-hint-placeholders = 占位符。
tpl-content = 消息内容
tpl-add-field = 添加字段
# “占位符写作 {$column}。取值为 JSON 对象或数组时（如 SMS 的参数 params），按 JSON 原样发送。”，在两段代码两侧拆开。
tpl-content-hint-written = 占位符写作
tpl-content-hint-json = 。取值为 JSON 对象或数组时（如 SMS 的参数
tpl-content-hint-as-one = ），按 JSON 原样发送。
tpl-required = （必填）
tpl-choice-default = 默认
tpl-field-placeholder = 字段名，如 title
tpl-field-name-label = 内容字段名
tpl-field-value-label = 内容字段值
tpl-quiet-hours = 免打扰时段
tpl-quiet-hours-none = 不限制：任何时段都发送
tpl-quiet-hours-drop = 丢弃：免打扰时段内不发送
tpl-quiet-hours-defer = 延后：免打扰时段结束后再发送
tpl-schedule = 定时计划
tpl-cron = cron 表达式（Quartz 格式，含秒）
tpl-timezone = 时区
tpl-misfire = 错过触发时
tpl-misfire-fire-once = 补发一次
tpl-misfire-skip = 跳过
tpl-start-at = 开始时间
tpl-end-at = 结束时间
tpl-exclude-dates = 不触发的日期
tpl-exclude-dates-help = 每行一个 YYYY-MM-DD（如节假日），按调度的时区计算；当天的触发会被跳过。
tpl-exclude-windows = 不触发的时段
tpl-exclude-windows-help = 每行一个 HH:MM-HH:MM，按调度的时区计算（22:00-06:00 即夜间）；落在其中的触发会被跳过。
tpl-exclude-windows-line = 第 { $line } 行：请填写 HH:MM-HH:MM
tpl-window-help = 可选，RFC 3339 格式并带时区偏移：开始之前不触发，结束之后不再触发。
tpl-misfire-catch-up = 逐次补跑：最近 10 次错过的触发依次执行
tpl-advanced = 高级：免打扰窗口与去重规则（JSON）
tpl-quiet-window = 免打扰窗口
tpl-dedup = 去重规则
tpl-test-receivers = 测试模式：只发送给这些接收者
tpl-test-receivers-hint = 每行一个接收者。列出任何接收者时，只有他们会真正收到消息；发送任务或 /send 中的其他接收者记为 test_skipped（测试模式跳过），不发送。留空：发送给所有人。
tpl-test-mode-badge = 测试模式
tpl-test-mode-title = 测试模式：只有列出的 { $count } 个接收者会真正收到消息，其他人全部跳过。
tpl-create = 创建模板
tpl-invalid-json = 不是有效的 JSON：{ $error }
tpl-done-created = 模板已创建。
tpl-done-saved = 已保存。
tpl-done-started = 已启用：定时计划已生效。
tpl-done-stopped = 已停用：定时计划不会再触发。
tpl-save-first = 保存模板后，才能启用定时计划或立即发送。

## 内容预览
tpl-preview = 预览：
# “预览接收者 <接收者>（人群文件第一行）：”
tpl-preview-for = 预览接收者
tpl-preview-first-row = （人群文件第一行）：
tpl-preview-pick-crowd = 选择人群文件后，可预览用其第一行渲染出的内容。
tpl-preview-no-crowd = 没有已上传的人群文件 { $crowd }
tpl-preview-no-valid-row = 该人群文件没有有效行。

## cron 预览
tpl-next-fires = 接下来的触发时间：
tpl-no-more-fires = 无：该表达式之后不会再触发
tpl-no-schedule = 未设置定时：只有点击“立即发送”时模板才会发送。

## 已保存模板的侧栏
tpl-status-heading = 状态：
tpl-next-fire-label = 下次触发：
tpl-crowd-rows = 人群：{ $rows } 行
tpl-start = 启用
tpl-stop = 停用
tpl-run-now = 立即发送
tpl-delete-ask = 删除…
# 与 REST API 删除接口返回的说明一致。
tpl-delete-keeps = 其发送任务、触发历史、消息追踪和投递台账均会保留，ID 也不会被复用
tpl-delete-hint = 删除会停止定时计划；{ tpl-delete-keeps }。
tpl-delete-title = 删除模板“{ $name }”？
tpl-delete-text = 它的定时计划将停止，且不能再发送；{ tpl-delete-keeps }。
tpl-delete-yes = 是，删除
tpl-test-heading = 发送测试消息
tpl-test-hint = 将已保存的内容立即发送一次给一个接收者，变量取自人群文件的第一条有效行。
tpl-receiver = 接收者
tpl-send-test = 测试发送
tpl-test-title = { $outcome }（消息 { $message }）
tpl-test-sent = 已发送
tpl-test-retryable = 失败（可重试）
tpl-test-permanent = 失败（不可重试）
tpl-test-content = 已发送 { $content }
tpl-test-detail = { $detail } · 已发送 { $content }
tpl-recent-fires = 最近触发
tpl-fire-time = 触发时间
tpl-outcome = 结果
tpl-run = 发送任务
tpl-no-fires = 暂无触发记录。
tpl-fire-fired = 已触发
tpl-fire-misfire-skipped = 错过触发，已跳过
tpl-fire-no-crowd = 无人群文件
