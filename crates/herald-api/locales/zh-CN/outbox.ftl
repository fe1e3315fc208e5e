# /outbox：发件箱渠道投递的消息。

# “这里是 <code>outbox</code> 渠道投递的消息：这个渠道不会真正发出任何消息，用于试用消息模板和人群。”，
# 在代码两侧拆开。
outbox-hint = 这里是
outbox-hint-end = 渠道投递的消息：这个渠道不会真正发出任何消息，用于试用消息模板和人群。
outbox-template-id = 消息模板 ID
outbox-run-id = 发送任务 ID
outbox-receiver = 接收者
outbox-show = 查看
outbox-total = 共 { $count } 条投递。
outbox-total-of = 该消息模板或发送任务共 { $count } 条投递。
outbox-message = 消息
outbox-template = 消息模板
outbox-run = 发送任务
outbox-content = 内容
outbox-delivered = 投递时间
outbox-empty = 发件箱里还没有投递。
outbox-no-match = 发件箱里没有匹配的投递。
# $value 是输入的文字，带引号。
outbox-not-an-id = { $value } 不是有效的 ID
