# /runs：发送记录列表、单个发送任务的页面（进度、暂停、继续、取消及其经过），以及“立即发送？”确认。

## 发送任务的状态（原始值仍用作徽标的样式类和筛选值）
run-status-pending = 等待中
run-status-streaming = 读取中
run-status-published = 已投递
run-status-paused = 已暂停
run-status-completed = 已完成
run-status-failed = 失败
run-status-cancelled = 已取消

## 列表
run-filter-template = 消息模板
run-any-template = 全部消息模板
run-filter-status = 状态
run-any-status = 全部状态
run-filter-from = 创建日期从（{ $zone }）
run-filter-to = 至
run-filter-show = 查询
run-filter-template-id = 请填写消息模板 ID
run-filter-not-date = { $value } 不是日期：请按 YYYY-MM-DD 填写
run-col-run = 发送任务
run-col-template = 消息模板
run-col-status = 状态
run-col-done = 完成度
run-col-delivered = 已送达
run-col-failed = 失败
run-col-created = 创建时间
run-none = 暂无发送任务。

## 发送任务页面
run-title = 发送任务 { $id }
# “发送任务 #12：消息模板 <a>模板名</a>”，链接之前的部分。
run-heading = 发送任务 #{ $id }：消息模板
run-created = 创建于 { $at }。
run-all-of-template = 该消息模板的全部发送任务
run-progress-label = 发送进度
run-resume = 继续发送
run-pause = 暂停发送
run-cancel = 取消发送…
run-not-found = 未找到发送任务 { $id }
run-done-cancelled = 发送任务已取消：不会再发送任何消息。已发送的消息仍可在消息追踪中查看。
run-done-paused = 发送任务已暂停：继续之前不会再发送，其消息已暂存。
run-done-resumed = 发送任务已继续：暂存的消息正在发出，每条只发送一次。
run-done-resent = 此发送任务重发之前任务中发送失败的消息，仅发给这些接收者。
run-resend = 重发失败消息…
run-resend-of = 重发以下任务的失败消息：

## 进度
run-progress-done = 已完成
run-progress-finished = 结束于 { $at }
run-stat-rows-read = 已读取行数（共 { $total } 行）
run-stat-rows-invalid = 无效行
run-stat-batches = 已投递批次
run-stat-delivered = 已送达
run-stat-failed = 失败
run-stat-dropped = 被策略丢弃或已取消
run-stat-deferred = 延后发送
run-stat-held = 暂停期间暂存

## 经过
run-story-started = 启动方式：{ $started }；{ $duration }。
run-started-schedule = 由定时计划触发，计划触发时间 { $at }
run-started-by-hand = 手动（立即发送）
run-took = 耗时 { $span }
run-running-for = 已运行 { $span }
run-span-ms = { $ms } 毫秒
run-span-s = { $s } 秒
run-span-min = { $min } 分 { $s } 秒
run-span-h = { $h } 小时 { $min } 分
run-failed-messages = 失败的消息
run-none-failed = 没有失败的消息。
run-col-receiver = 接收者
run-col-reason = 原因
run-col-at = 时间
run-col-trace = 消息追踪
run-no-more = 没有更多了。
run-newer-failures = 较新的失败
run-older-failures = 较早的失败
run-shards = 分片
run-no-shards = 尚未划分分片。
run-col-shard = 分片
run-col-rows-read = 已读取行数
run-col-batches = 批次
run-col-held-by = 持有节点
run-col-lease-until = 租约到期
run-shard-pending = 等待中
run-shard-streaming = 读取中
run-shard-done = 已完成

## 取消前先确认
run-cancel-title = 取消发送任务 { $id }？
run-cancel-heading = 取消消息模板“{ $name }”的发送任务 #{ $id }？
# “目前已送达 <b>5</b> 条消息，已读取 <b>10</b> 行（共 30 行）。”，两个数字前后的部分。
run-cancel-so-far = 目前已送达
run-cancel-delivered-and = 条消息，已读取
run-cancel-rows-read = 行（共 { $total } 行）。
run-cancel-consequences = 此发送任务不会再发送任何消息：正在进行的发送会完成，在队列中等待或等待免打扰时段结束的消息将以“已取消”结束，尚未读取的行不再读取。此操作无法撤销；已发送的消息仍可在消息追踪中查看。
run-cancel-yes = 是，取消发送
run-cancel-no = 不，继续发送

## 重发失败消息，先确认
run-resend-title = 重发发送任务 { $id } 的失败消息？
run-resend-heading = 重发消息模板“{ $name }”的发送任务 #{ $id } 的失败消息？
run-resend-consequences = 将立即以此消息模板新建一个发送任务，只发给消息发送失败的 { $failed } 个接收者，各自使用其所在行的变量。去重不会再次计数；退订名单、测试模式和免打扰时段照常生效。每个发送任务只能重发一次：重发任务中再失败的消息请从重发任务中重发。
run-resend-yes = 是，重发给他们
run-resend-no = 不，返回

## 立即发送前先确认
run-confirm-title = 立即发送？
run-confirm-heading = 立即发送“{ $name }”？
# “这将一次性发送给人群文件中的全部 <b>21</b> 行。”，数字前后的部分。
run-confirm-text = 这将一次性发送给人群文件中的全部
run-confirm-rows = 行。
run-confirm-yes = 是，发送给 { $rows } 行
