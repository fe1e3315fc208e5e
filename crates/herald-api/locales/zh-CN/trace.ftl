# /trace：一条消息或一个接收者的消息发生了什么。

trace-heading = 消息追踪
trace-q-placeholder = 消息 ID（r12-345）或接收者（13800000000）
trace-q-label = 消息 ID 或接收者
trace-look-up = 查询
trace-none = 没有与“{ $q }”匹配的消息 ID 或接收者。
trace-message = 消息 { $q }
# “发送给 <b>接收者</b>，消息模板 <a>名称</a>，发送任务 <a>#3</a>。”，粗体接收者和链接前后的部分。
trace-to = 发送给
trace-via-template = ，消息模板
trace-via-run = ，发送任务
trace-end = 。
trace-col-event = 事件
trace-col-detail = 详情
trace-col-at = 时间
trace-messages-to = 发给 { $q } 的消息
trace-col-message = 消息
trace-col-template = 消息模板
trace-col-run = 发送任务
trace-col-final-state = 最终状态

## 消息的状态或追踪事件（原始值仍用作徽标的样式类）
trace-state-accepted = 已接收
trace-state-sent = 已发送
trace-state-retrying = 重试中
trace-state-failed = 失败
trace-state-deferred = 延后发送
trace-state-paused = 已暂停
trace-state-dropped-quiet-hours = 免打扰时段丢弃
trace-state-dropped-dedup = 去重丢弃
trace-state-discarded = 已丢弃（弃用名单）
trace-state-cancelled = 已取消
trace-state-test-skipped = 测试模式跳过
trace-state-suppressed = 已退订屏蔽
trace-state-recalled = 已撤回
trace-state-delivered = 已送达
trace-state-undelivered = 未送达
trace-state-read = 已读

## 撤回所查消息，先确认
trace-recall = 撤回…
trace-recall-ask = 撤回这条消息？尚未发送的将被停止、不再发送；通过钉钉工作通知、企业微信应用或飞书应用机器人账号发送且未超过 24 小时的，由服务商撤回；其他情况无法撤回。
trace-recall-yes = 是，撤回
trace-recall-recalled = 已撤回
trace-recall-not-recallable = 无法撤回
trace-recall-too-late = 为时已晚
trace-recall-failed = 撤回失败，请重试
trace-recall-not-found = 没有这条消息
