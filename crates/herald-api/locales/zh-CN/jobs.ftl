# /jobs：定时任务（按计划发起的 HTTP 调用）的列表，以及每个任务的页面（调用、计划、暂停、
# 恢复、立即执行和执行日志）。

## 计划的类型（原始值仍用作徽标的样式类）
job-type-cron = cron 表达式
job-type-fixed-rate = 固定频率
job-type-fixed-delay = 固定延迟
job-type-once = 单次
job-type-api = 手动触发
job-every = 每 { $period }
job-after-delay = 上次执行结束后 { $period }
job-once-at = 于 { $at }
job-api-only = 仅在立即执行或通过 API 触发时运行

## 时长
job-period-days = { $n } 天
job-period-hours = { $n } 小时
job-period-minutes = { $n } 分钟
job-period-seconds = { $n } 秒
job-ms = { $n } 毫秒

## 上次执行未结束时新的触发如何处理（原始值仍用作徽标的样式类）
job-overlap-serial = 串行（等待）
job-overlap-discard = 丢弃
job-overlap-replace = 覆盖

## 一次尝试的结果（原始值仍用作徽标的样式类和筛选值）
job-outcome-running = 执行中
job-outcome-succeeded = 成功
job-outcome-failed = 失败
job-outcome-timed-out = 超时
job-outcome-discarded = 已丢弃
job-outcome-replaced = 已被覆盖
job-outcome-abandoned = 已放弃

## 两个页面共用
job-enabled = 已启用
job-paused = 已暂停
job-no-retries = 不重试
job-retries = 最多重试 { $n } 次，首次间隔 { $backoff }，之后逐次加倍
job-rate = { $ended } 次中成功 { $succeeded } 次
job-rate-none = 尚无已结束的执行
job-rate-label = 已结束的尝试中成功的比例
job-not-found = 未找到定时任务 { $id }

## 列表
job-intro = 按计划发起的 HTTP 调用。成功率统计每个任务最近 { $count } 次已结束的尝试。
job-col-name = 任务
job-col-schedule = 计划
job-col-state = 状态
job-col-next-fire = 下次触发
job-col-overlap = 重叠处理
job-col-timeout = 超时
job-col-retries = 重试
job-col-success = 最近执行
job-none = 暂无定时任务：可用 herald job add 或 POST /api/jobs 添加。

## 任务页面
job-title = 定时任务 { $name }
job-all = 全部定时任务
job-call = 调用
job-method-url = 方法与地址
job-command = 命令
job-env = 环境变量
job-expect-exit = 退出码为 { $codes }
job-headers = 请求头
job-header-name = 名称
job-header-value = 值
job-no-headers = 无
job-body = 请求体
job-body-bytes = { $bytes } 字节
job-expect = 成功条件
job-expect-any-2xx = 任意 2xx 状态码
job-expect-status = 状态码为 { $statuses }
job-expect-json = 应答中 { $pointer } 的值为 { $value }
job-schedule = 计划
job-schedule-row = 定时计划 #{ $id }
job-timeout = 超时
job-retries-label = 重试
job-overlap = 重叠处理
job-sharding = 分片
job-sharding-shards = { $count } 个分片，分布在各节点（节点宕机时其分片由其他节点接管）
job-sharding-broadcast = 在每个运行任务的节点上各执行一次
job-run-shard = 分片 { $shard }
job-state = 状态
job-next-fire = 下次触发
job-created = 创建于 { $at }，更新于 { $updated }。
job-pause = 暂停
job-resume = 恢复
job-run-now = 立即执行
job-done-paused = 已暂停：恢复前不再按计划触发（立即执行仍会运行）。
job-done-resumed = 已恢复：将在当前时间之后的第一个计划时间触发。
job-done-asked = 已请求执行：任一节点的下一次认领会运行它，结果见下方执行日志。

## 执行日志
job-runs = 执行日志
job-filter-outcome = 结果
job-any-outcome = 全部结果
job-filter-show = 查询
job-filter-outcome-unknown = { $value } 不是有效的结果
job-page-rate = 本页：{ $ended } 次已结束的尝试中成功 { $succeeded } 次。
job-page-rate-label = 本页成功率
job-col-started = 开始时间
job-col-duration = 耗时
job-col-node = 节点
job-col-attempt = 第几次尝试
job-col-outcome = 结果
job-col-status = 状态码
job-col-error = 错误
job-col-output = 应答
job-output-show = { $bytes } 字节
job-runs-none = 暂无执行记录。

## 任务的告警、子任务与图表
job-alarms = 告警
job-alarms-none = 未设告警：失败时不通知任何人。
job-alarm-template = 发送模板
job-alarm-rules = 触发条件
job-alarm-rate = { $mins } 分钟内失败占比达 { $percent }%
job-alarm-stuck = 单次执行超过 { $secs } 秒仍未结束
job-alarm-quiet = 告警后静默
job-alarm-quiet-mins = { $n } 分钟
job-alarm-recovery = 恢复时通知
job-alarm-raised = 当前告警
job-alarm-raised-none = 无
job-alarm-raised-row = 最近一次告警 { $at }，此后静默 { $quieted } 次
job-children = 子任务
job-children-none = 无
job-child-on-success = 成功后触发
job-child-always = 结束后总是触发
job-success-chart = 执行结果趋势
job-chart-label = 任务最近各次触发的成功与失败随时间的分布

## 新建与编辑任务
job-new = 新建任务
job-edit = 编辑
job-new-title = 新建定时任务
job-edit-title = 编辑定时任务 { $name }
job-form-intro = 按 API 的格式以 JSON 填写任务：HTTP 调用或命令、调度、超时、重试、重叠规则、告警与子任务。
job-form-reference = 在 API 参考中查看全部字段
job-form-spec = 任务（JSON）
job-form-secrets = 敏感的请求头与环境变量值显示为 ********；保持不变即沿用已保存的值。
job-form-save = 保存
job-form-cancel = 取消
job-form-refused = 未保存：
job-form-delete = 删除此任务
job-form-delete-hint = 其调度与执行记录将一并删除。
job-done-created = 任务已创建。
job-done-saved = 任务已保存，调度从现在起重新计算。
job-done-deleted = 任务已删除。

hk-heading = 系统维护任务
hk-intro = herald 按自身计划执行的任务：令牌刷新、免打扰释放、数据保留清理与回执拉取。其运行记录与普通任务一样保存，失败时通过节点 [alarms] 配置告警。
hk-none = 暂无系统维护任务。
hk-title = 系统维护：{ $name }
hk-what = 按自身计划（UTC）运行；失败后会很快重试，并通过节点 [alarms] 配置告警。
hk-alarms = 通过节点 [alarms] 配置的模板与接收人通知（如已配置）。
hk-not-found = 未找到系统维护计划 { $id }。

alarms-title = 告警
alarms-intro = 当前在任务与系统维护上触发的告警规则，以及每个任务的告警通知对象。任务再次成功后，规则即从此列表移除（如任务要求，会发送恢复消息）。
alarms-raised = 当前告警
alarms-col-rule = 规则
alarms-col-last = 最近告警
alarms-col-quieted = 此后静默次数
alarms-none-raised = 当前没有告警。
alarms-told = 通知对象
alarms-none-told = 没有任务配置告警。请在任务 JSON 中设置 "alarms"。
cal-title = 日历
cal-intro = 设置了不触发日期（节假日，按计划所在时区）或生效时间窗口的计划，以及应用后的下次触发时间。请在计划所在处编辑：任务 JSON（excludeDates、excludeWindows、startAt、endAt）或模板表单。
cal-kind-job = 任务
cal-kind-template = 模板
cal-col-window = 生效窗口
cal-col-days = 即将排除的日期
cal-col-next = 下次触发
cal-window-none = 始终
cal-not-in = 不含 { $window }
cal-window-both = 从 { $start } 到 { $end }
cal-window-from = 从 { $start } 起
cal-window-until = 至 { $end }
cal-more-days = 另有 { $n } 天
cal-days-none = 无待排除日期
cal-past-days = { $n } 天已过
cal-no-fires = 不再触发
cal-none = 还没有计划设置日历。
