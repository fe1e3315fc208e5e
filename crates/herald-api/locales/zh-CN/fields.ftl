# 各渠道自己的表单字段：渠道账号的配置（`field-<channel>-<field>`）和消息模板的内容
# （`field-<channel>-content-<field>`），每个字段都附一行说明。

# Webhook：渠道账号配置
field-webhook-signing-secret = 签名密钥
field-webhook-signing-secret-help = 设置后，每个请求都会用它签名（HMAC）
field-webhook-timeout-ms = 超时（毫秒）
field-webhook-timeout-ms-help = 每个请求的超时时间
field-webhook-attempts = 尝试次数
field-webhook-attempts-help = 一次投递内的尝试次数，用完后才交给 worker 自己的重试
field-webhook-backoff-ms = 退避间隔（毫秒）
field-webhook-backoff-ms-help = 第二次尝试前的等待时间，之后每次翻倍

# Webhook：消息模板内容
field-webhook-content-url = 目标 URL
field-webhook-content-url-help = 消息以 POST 方式发往的地址（受出站地址策略约束）；整个消息内容作为请求体发送

# 邮件：渠道账号配置
field-email-host = SMTP 服务器
field-email-host-help = 例如 smtp.exmail.qq.com
field-email-port = 端口
field-email-port-help = STARTTLS 用 587，TLS 用 465；留空时使用所选加密方式的常用端口
field-email-security = 加密方式
field-email-security-help = starttls（端口 587）、tls（465）或 plain（仅用于本地中继）
field-email-username = 用户名
field-email-username-help = 服务器要求登录时填写
field-email-password = 密码
field-email-password-help = 邮箱密码或客户端专用密码（授权码）
field-email-from = 发件人
field-email-from-help = 发件人：`名称 <addr@example.com>` 或仅邮箱地址
field-email-timeout-ms = 超时（毫秒）
field-email-timeout-ms-help = 每封邮件的超时时间；留空时为 30000

# 邮件：消息模板内容
field-email-content-subject = 主题
field-email-content-subject-help = 邮件的主题
field-email-content-html = HTML 正文
field-email-content-html-help = HTML 格式的正文；填写它、纯文本正文，或两者都填
field-email-content-text = 纯文本正文
field-email-content-text-help = 纯文本格式的正文（两者都填时与 HTML 正文一起发送）

# 短信：渠道账号配置
field-sms-suppliers-0-provider = 短信服务商
field-sms-suppliers-0-provider-help = 最先尝试的服务商；更多服务商请在下方 JSON 中添加
field-sms-suppliers-0-sign-name = 短信签名
field-sms-suppliers-0-sign-name-help = 已审核通过的短信签名，例如 腾讯云
field-sms-suppliers-0-secret-id = SecretId（腾讯云）
field-sms-suppliers-0-secret-id-help = API 密钥的 SecretId
field-sms-suppliers-0-secret-key = SecretKey（腾讯云）
field-sms-suppliers-0-secret-key-help = API 密钥的 SecretKey
field-sms-suppliers-0-sdk-app-id = SmsSdkAppId（腾讯云）
field-sms-suppliers-0-sdk-app-id-help = 例如 1400006666
field-sms-suppliers-0-template-id = 模板 ID（腾讯云）
field-sms-suppliers-0-template-id-help = 已审核通过的短信模板的 ID
field-sms-suppliers-0-param-order = 参数顺序（腾讯云）
field-sms-suppliers-0-param-order-help = content.params 中的参数名，按 { "{" }1{ "}" }、{ "{" }2{ "}" }…… 的顺序用逗号分隔，例如：code,minutes
field-sms-suppliers-0-region = 地域（腾讯云）
field-sms-suppliers-0-region-help = 留空时为 ap-guangzhou
field-sms-suppliers-0-access-key-id = AccessKey ID（阿里云）
field-sms-suppliers-0-access-key-id-help = RAM 用户的 AccessKey ID
field-sms-suppliers-0-access-key-secret = AccessKey Secret（阿里云）
field-sms-suppliers-0-access-key-secret-help = RAM 用户的 AccessKey Secret
field-sms-suppliers-0-template-code = 模板编号（阿里云）
field-sms-suppliers-0-template-code-help = 例如 SMS_154950909
field-sms-suppliers-0-endpoint = API 地址
field-sms-suppliers-0-endpoint-help = 留空时使用服务商自己的地址；经代理访问时填写

# 短信：消息模板内容
field-sms-content-params = 模板参数
field-sms-content-params-help = 短信模板变量组成的 JSON 对象，例如 { "{" }"code": "{ "{" }$code{ "}" }", "minutes": "5"{ "}" }；腾讯云按渠道账号中的参数顺序取用
field-sms-content-template-code = 阿里云模板编号
field-sms-content-template-code-help = 本模板自己的阿里云 TemplateCode（SMS_...），代替渠道账号中的；留空则用渠道账号的
field-sms-content-template-id = 腾讯云模板 ID
field-sms-content-template-id-help = 本模板自己的腾讯云 TemplateId，代替渠道账号中的；留空则用渠道账号的
field-sms-content-param-order = 腾讯云参数顺序
field-sms-content-param-order-help = 模板参数名按该腾讯云模板 { "{" }1{ "}" }、{ "{" }2{ "}" }、... 的顺序排列，写成 JSON 列表，例如 ["code", "minutes"]

# 钉钉群机器人：渠道账号配置
field-dingtalk-robot-access-token = 访问令牌
field-dingtalk-robot-access-token-help = 机器人 Webhook URL 中的 access_token
field-dingtalk-robot-secret = 加签密钥
field-dingtalk-robot-secret-help = 以 SEC 开头；机器人改用自定义关键词或 IP 地址段校验时留空
field-dingtalk-robot-base-url = API 基础 URL
field-dingtalk-robot-base-url-help = 留空时为 https://oapi.dingtalk.com；经代理访问或私有化部署时填写

# 钉钉群机器人：消息模板内容
field-dingtalk-robot-content-msgtype = 消息类型
field-dingtalk-robot-content-msgtype-help = text；markdown、link 或 actionCard（带一个按钮的卡片）需要标题
field-dingtalk-robot-content-title = 标题
field-dingtalk-robot-content-title-help = markdown 消息、链接或卡片的标题
field-dingtalk-robot-content-content = 内容
field-dingtalk-robot-content-content-help = 消息文本、markdown 正文、链接的摘要或卡片的 markdown
field-dingtalk-robot-content-message-url = 链接地址
field-dingtalk-robot-content-message-url-help = link：点击后打开的地址
field-dingtalk-robot-content-pic-url = 图片
field-dingtalk-robot-content-pic-url-help = link：图片地址（工作通知必填：URL 或 media id）
field-dingtalk-robot-content-single-title = 按钮文字
field-dingtalk-robot-content-single-title-help = actionCard：按钮上的文字
field-dingtalk-robot-content-single-url = 按钮链接
field-dingtalk-robot-content-single-url-help = actionCard：点击按钮打开的地址

# 钉钉工作通知：渠道账号配置
field-dingtalk-work-notice-app-key = 应用 AppKey
field-dingtalk-work-notice-app-key-help = 企业内部应用的 AppKey
field-dingtalk-work-notice-app-secret = 应用 AppSecret
field-dingtalk-work-notice-app-secret-help = 企业内部应用的 AppSecret
field-dingtalk-work-notice-agent-id = 应用 AgentId
field-dingtalk-work-notice-agent-id-help = 应用的 AgentId
field-dingtalk-work-notice-base-url = API 基础 URL
field-dingtalk-work-notice-base-url-help = 留空时为 https://oapi.dingtalk.com；经代理访问或私有化部署时填写

# 钉钉工作通知：消息模板内容
field-dingtalk-work-notice-content-msgtype = 消息类型
field-dingtalk-work-notice-content-msgtype-help = text；markdown、link 或 actionCard（带一个按钮的卡片）需要标题
field-dingtalk-work-notice-content-title = 标题
field-dingtalk-work-notice-content-title-help = markdown 消息、链接或卡片的标题
field-dingtalk-work-notice-content-content = 内容
field-dingtalk-work-notice-content-content-help = 消息文本、markdown 正文、链接的摘要或卡片的 markdown
field-dingtalk-work-notice-content-message-url = 链接地址
field-dingtalk-work-notice-content-message-url-help = link：点击后打开的地址
field-dingtalk-work-notice-content-pic-url = 图片
field-dingtalk-work-notice-content-pic-url-help = link：图片地址（工作通知必填：URL 或 media id）
field-dingtalk-work-notice-content-single-title = 按钮文字
field-dingtalk-work-notice-content-single-title-help = actionCard：按钮上的文字
field-dingtalk-work-notice-content-single-url = 按钮链接
field-dingtalk-work-notice-content-single-url-help = actionCard：点击按钮打开的地址

# 企业微信群机器人：渠道账号配置
field-wecom-robot-key = Webhook 密钥
field-wecom-robot-key-help = 群机器人 Webhook URL 中的 key
field-wecom-robot-base-url = API 基础 URL
field-wecom-robot-base-url-help = 留空时为 https://qyapi.weixin.qq.com；经代理访问或私有化部署时填写

# 企业微信群机器人：消息模板内容
field-wecom-robot-content-msgtype = 消息类型
field-wecom-robot-content-msgtype-help = text 或 markdown
field-wecom-robot-content-title = 标题
field-wecom-robot-content-title-help = 可选的第一行（markdown 中作为标题）
field-wecom-robot-content-body = 正文
field-wecom-robot-content-body-help = 消息内容

# 企业微信应用消息：渠道账号配置
field-wecom-app-corp-id = 企业 ID
field-wecom-app-corp-id-help = 企业的 CorpID（我的企业 > 企业信息）
field-wecom-app-corp-secret = 应用 Secret
field-wecom-app-corp-secret-help = 自建应用的 Secret
field-wecom-app-agent-id = 应用 AgentId
field-wecom-app-agent-id-help = 自建应用的 AgentId
field-wecom-app-base-url = API 基础 URL
field-wecom-app-base-url-help = 留空时为 https://qyapi.weixin.qq.com；经代理访问或私有化部署时填写

# 企业微信应用消息：消息模板内容
field-wecom-app-content-msgtype = 消息类型
field-wecom-app-content-msgtype-help = text 或 markdown
field-wecom-app-content-title = 标题
field-wecom-app-content-title-help = 可选的第一行（markdown 中作为标题）
field-wecom-app-content-body = 正文
field-wecom-app-content-body-help = 消息内容

# 飞书机器人：渠道账号配置
field-feishu-bot-webhook-url = Webhook 地址
field-feishu-bot-webhook-url-help = https://open.feishu.cn/open-apis/bot/v2/hook/...；其中的 ID 即凭证
field-feishu-bot-secret = 签名密钥
field-feishu-bot-secret-help = 机器人开启了签名校验时填写

# 飞书机器人：消息模板内容
field-feishu-bot-content-content = 内容
field-feishu-bot-content-content-help = 消息文本；接收者为 @all 时会 @所有人
field-feishu-bot-content-msgtype = 消息类型
field-feishu-bot-content-msgtype-help = text；post（富文本，每行一段）或 interactive（卡片）需要标题
field-feishu-bot-content-title = 标题
field-feishu-bot-content-title-help = 富文本或卡片的标题

# 飞书应用机器人：渠道账号配置
field-feishu-app-app-id = App ID
field-feishu-app-app-id-help = 企业自建应用的 App ID（cli_...），需开启机器人能力
field-feishu-app-app-secret = App Secret
field-feishu-app-app-secret-help = 企业自建应用的 App Secret
field-feishu-app-receive-id-type = 接收者 ID 类型
field-feishu-app-receive-id-type-help = 留空时为 open_id；可选 union_id、user_id、email 或 chat_id
field-feishu-app-base-url = API 基础 URL
field-feishu-app-base-url-help = 留空时为 https://open.feishu.cn；经代理访问或私有化部署时填写

# 飞书应用机器人：消息模板内容
field-feishu-app-content-content = 内容
field-feishu-app-content-content-help = 消息文本
field-feishu-app-content-msgtype = 消息类型
field-feishu-app-content-msgtype-help = text；post（富文本，每行一段）或 interactive（卡片）需要标题
field-feishu-app-content-title = 标题
field-feishu-app-content-title-help = 富文本或卡片的标题

# 个推：渠道账号配置
field-getui-push-app-id = 应用 AppID
field-getui-push-app-id-help = 见个推控制台的应用配置
field-getui-push-app-key = 应用 AppKey
field-getui-push-app-key-help = 见个推控制台的应用配置
field-getui-push-master-secret = 应用 MasterSecret
field-getui-push-master-secret-help = 见个推控制台的应用配置
field-getui-push-base-url = API 基础 URL
field-getui-push-base-url-help = 留空时为 https://restapi.getui.com；经代理访问或私有化部署时填写

# 个推：消息模板内容
field-getui-push-content-title = 标题
field-getui-push-content-title-help = 通知的标题
field-getui-push-content-body = 正文
field-getui-push-content-body-help = 通知的文本
field-getui-push-content-url = 链接
field-getui-push-content-url-help = 点击通知时打开；不填则点击后无动作
