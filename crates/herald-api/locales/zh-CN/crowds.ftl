# /crowds 与 /crowds/<id>：人群文件列表、上传及其校验报告，以及单个人群的页面。

## 列表与上传表单
crowd-heading = 人群文件
crowd-upload-heading = 上传人群 CSV
# “首行为表头；接收者列（默认为 <code>userId</code>）指定发送对象，其余每一列都是一个
# <code>{$name}</code> 变量。错误行会被跳过，并按行号列出。”，在两段代码两侧拆开。
crowd-upload-hint-header = 首行为表头；接收者列（默认为{ " " }
crowd-upload-hint-receiver = ）指定发送对象，其余每一列都是一个
crowd-upload-hint-bad-rows = 变量。错误行会被跳过，并按行号列出。
crowd-receiver-column = 接收者列
crowd-csv-file = CSV 文件
crowd-upload-submit = 上传并校验
crowd-upload-progress = 上传进度
# 上传过程中显示在进度条旁；百分比由脚本填入。
crowd-upload-sent = 已上传 { $percent }%
crowd-upload-checking = 正在校验各行…
crowd-list-heading = 已上传的文件（最新的在前）
crowd-search-placeholder = 按文件名或 ID 搜索
crowd-search-label = 搜索人群
crowd-file = 文件
crowd-rows = 行数
crowd-bad-rows = 错误行
crowd-variables = 变量
crowd-uploaded = 上传时间
crowd-new-template = 新建消息模板
crowd-none-yet = 还没有人群文件。
crowd-no-match = 没有匹配的人群文件。
crowd-deleted = 人群已删除：{ crowd-delete-keeps }。

## 上传报告（人群页面也会显示）
crowd-report-heading = 已上传 { $name }
crowd-stat-rows = 总行数
crowd-stat-valid = 有效行
crowd-stat-bad-rows = 错误行
# “接收者列 <code>userId</code>；变量：<code>name, city</code>。”，在代码两侧拆开；
# 人群页面在结尾前还会加上“。2,048 字节，上传于 <时间>。ID <code>…</code>”。
crowd-variables-are = ；变量：
crowd-size-uploaded = 。{ $size }，上传于 { $at }。ID
crowd-sentence-end = 。
crowd-line = 行号
crowd-why-skipped = 跳过原因
crowd-more-bad-rows = 仅列出前面的部分错误行。
crowd-new-template-with = 用这个人群新建消息模板
crowd-open-page = 打开人群页面（此报告会保存在那里）

## 单个人群的页面
crowd-page-title = 人群 { $name }
crowd-download = 下载 CSV
crowd-size = { $size } 字节
crowd-bad-rows-not-kept = 这次上传的错误行没有保存（该文件上传于开始保存错误行之前）。
crowd-no-bad-rows = 无：每一行都可以发送。
crowd-used-by = 使用它的消息模板
crowd-unused = 没有消息模板发送给这个人群。
crowd-rename = 重命名
crowd-name = 名称
crowd-renamed = 已重命名。
# 与 REST API 删除接口返回的说明一致。
crowd-delete-keeps = 其发送任务及消息追踪均会保留；文件会被删除
crowd-delete-hint = 仍有消息模板发送给这个人群、或仍有发送任务在读取其文件时，不能删除；{ crowd-delete-keeps }。
crowd-delete-ask = 删除人群…
crowd-delete-title = 删除人群“{ $name }”？
crowd-delete-text = 将不能再向其中的 { $rows } 行发送消息：{ crowd-delete-keeps }。
crowd-delete-yes = 是，删除
