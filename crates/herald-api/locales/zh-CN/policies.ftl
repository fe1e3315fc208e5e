# /policies：丢弃名单与流控。

policy-heading = 丢弃名单与流控

## 丢弃名单
policy-discard-list = 丢弃名单
# “名单上的消息模板，每次发送都会被丢弃（消息追踪记为 <code>discarded</code>），直到移出名单为止：
# 这是发错消息时的紧急刹车。”，在代码两侧拆开。
policy-discard-hint = 名单上的消息模板，每次发送都会被丢弃（消息追踪记为
policy-discard-hint-end = ），直到移出名单为止：这是发错消息时的紧急刹车。
policy-template = 消息模板
policy-reason = 原因
policy-since = 加入时间
policy-take-off = 移出
policy-take-off-label = 将 { $name } 移出名单
policy-none-discarded = 没有被丢弃的消息模板。
# “仅显示前面的部分条目；可用 <code>GET /api/discards</code> 分页查看全部。”
policy-more-discards = 仅显示前面的部分条目；可用
policy-more-discards-api = 分页查看全部。
# 下拉框的空选项，以及未选择时的提示。
policy-pick-template = 请选择消息模板
policy-discard-submit = 丢弃其发送
policy-discarded = 已加入丢弃名单：从现在起，它的发送都会被丢弃。
policy-undiscarded = 已移出丢弃名单：它的发送恢复正常。

## 流控
policy-flow-control = 流控
policy-flow-control-hint = 每个渠道每秒的发送量上限，对所有节点合计生效；留空表示不限速。渠道账号自身的限速同样生效。
policy-channel = 渠道
policy-sends-per-second = 每秒发送量
policy-unlimited = 不限速
policy-rate-label = { $channel } 每秒发送量
policy-rate-saved = 流控已保存。
policy-pick-channel = 请选择渠道
# $value 是输入的文字，带引号。
policy-not-a-number = { $value } 不是数字
