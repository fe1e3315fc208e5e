# /：概览页，以及各列表显示的消息模板名称（由概览模块生成）。

dash-chart-title-day = 最近一天每小时的消息数（按结果）
dash-chart-title-week = 最近一周每小时的消息数（按结果）
dash-chart-zone = （按 { $zone } 时间）
dash-range-day = 最近一天
dash-range-week = 最近一周
dash-chart-label = 每小时的消息数（按结果）
dash-newest-runs = 最新发送任务
dash-all-runs = 全部发送记录
# “<b>3</b> 个运行中，共 10 个。”，数字之后的部分。
dash-templates-running = 个运行中，共 { $count } 个。
dash-new-template = 新建消息模板
dash-upload-crowd = 上传人群

## 列表中显示的消息模板名称
dash-template-deleted = { $name }（已删除）
dash-template-id = 消息模板 { $id }
dash-template-id-deleted = 消息模板 { $id }（已删除）
