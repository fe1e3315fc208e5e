# /suppressions：退订名单（用户退订与屏蔽），添加、移除条目，导入 CSV。

supp-heading = 退订名单
supp-hint = 名单上的接收者，在条目所指的渠道（或全部渠道）上不会再收到条目所含类型的消息；这些发送在消息追踪中记为已屏蔽。来自短信回复、退订链接和退信的退订也会记录在这里。

## 名单
supp-list-heading = 名单条目
supp-search-placeholder = 接收者包含…
supp-search-label = 搜索接收者
supp-channel-filter-label = 条目的渠道
supp-any-channel = 任意渠道
supp-every-channel-entries = 适用于全部渠道的条目
supp-source-filter-label = 条目的来源
supp-any-source = 任意来源
supp-receiver = 接收者
supp-channel = 渠道
supp-kinds = 消息类型
supp-source = 来源
supp-note = 备注
supp-added = 加入时间
supp-every-channel = 全部渠道
supp-none-yet = 退订名单为空。
supp-no-match = 没有匹配的条目。
supp-remove = 移除
supp-remove-label = 移除 { $receiver } 在 { $channel } 上的条目

## 消息类型与条目来源
supp-kind-notice = 通知
supp-kind-marketing = 营销
supp-kind-verification = 验证码
supp-source-api = API 接口
supp-source-import = 导入
supp-source-console = 控制台
supp-source-sms-reply = 短信回复
supp-source-unsubscribe = 退订链接
supp-source-bounce = 退信

## 添加条目
supp-add-heading = 添加条目
supp-add-hint = 请按人群文件中的写法填写接收者：手机号比较时忽略空格、连字符和 +86，邮箱地址不区分大小写。
supp-kinds-legend = 屏蔽的消息类型
supp-note-optional = 备注（可选）
supp-add-submit = 加入名单
# $value 是提交的文字，带引号。
supp-not-a-kind = { $value } 不是消息类型：请填写 notice、marketing 或 verification
supp-added-notice = 已加入退订名单：从下一批起不再向该接收者发送。

## 移除条目
supp-remove-title = 将 { $receiver } 移出退订名单？
supp-remove-text = 移出后，{ $receiver } 将重新在 { $channel } 上收到消息，除非仍有其他条目覆盖。
supp-remove-yes = 确认移除
supp-removed-notice = 已移出退订名单：将恢复向该接收者发送。

## 导入 CSV
supp-import-heading = 导入 CSV
supp-import-hint = 每行一个接收者：写在名为 receiver 的列中；文件没有表头时写在第一列。名为 channel、kinds 和 note 的列为所在行指定渠道、类型和备注；未指定的行使用下面的选择。
supp-import-channel = 未注明渠道的行所用渠道
supp-import-kinds = 未注明类型的行所用类型
supp-csv-file = CSV 文件
supp-import-submit = 导入
supp-import-progress = 上传进度
supp-import-sent = 已上传 { $percent }%
supp-import-checking = 正在校验各行…
supp-report-heading = 导入结果
supp-stat-rows = 读取行数
supp-stat-written = 写入条目
supp-stat-bad = 跳过的错误行
supp-line = 行号
supp-why-skipped = 跳过原因
supp-more-bad-rows = 仅列出前面的部分错误行。
supp-see-imported = 查看导入的条目
