# /schedules：herald 运行的全部定时计划，包括消息模板的和内部维护的。

sched-intro = herald 运行的全部定时计划：消息模板的定时计划，以及内部维护任务（令牌刷新、免打扰时段结束后放行、过期数据清理）。
sched-kind-label = 类型
sched-any-kind = 全部类型
sched-filter-show = 查询
sched-col-id = ID
sched-col-kind = 类型
sched-col-for = 所属
sched-col-cron = cron 表达式
sched-col-next-fire = 下次触发
sched-col-last-fire = 上次触发
sched-col-recent-fires = 最近触发
sched-off = （已停用）
sched-node-wide = 全局
sched-none-yet = 暂无
sched-none = 暂无定时计划。
sched-never = 从未触发
sched-owner-template = 消息模板 { $id }
sched-owner-account = 渠道账号 { $id }
sched-owner-job = 定时任务 { $id }

## 定时计划的类型（原始值仍用作筛选值）
sched-kind-template = 消息模板
sched-kind-token-refresh = 令牌刷新
sched-kind-quiet-release = 免打扰放行
sched-kind-retention = 过期数据清理
sched-kind-receipt-pull = 回执拉取
sched-kind-job = 定时任务
sched-kind-daily-report = 每日报告

## 一次触发的结果（原始值仍用作徽标的样式类）
sched-outcome-fired = 已触发
sched-outcome-misfire-skipped = 错过触发，已跳过
sched-outcome-no-crowd = 无人群文件
sched-outcome-error = 出错
