# 每个控制台页面共用的文字：页面语言、顶栏、分页、错误页和常用词。
# 各页面自己的文字放在以页面命名的文件里。

html-lang = zh-CN
brand-title = herald

nav-dashboard = 概览
nav-templates = 消息模板
nav-crowds = 人群
nav-runs = 发送记录
nav-trace = 消息追踪
nav-accounts = 渠道账号
nav-schedules = 定时计划
nav-jobs = 定时任务
nav-policies = 发送策略
nav-suppressions = 退订名单
nav-outbox = 发件箱
nav-keys = API 密钥
nav-users = 用户
nav-api = API
nav-label = 栏目

top-zone-title = 修改页面显示的时区和语言
top-log-out = 退出登录

pager-label = 分页
pager-previous = 上一页
pager-next = 下一页
pager-page = 第 { $page } 页

error-title = 错误 { $status }
error-back = 返回概览

confirm-no = 不，保留

rows-count = { $count } 行

common-save = 保存
common-delete = 删除
common-cancel = 取消
common-search = 搜索
common-filter = 筛选
common-any = 全部
common-none = 无
common-yes = 是
common-no = 否
