# The channels' own form fields: an account's configuration (`field-<channel>-<field>`) and a
# template's content (`field-<channel>-content-<field>`), each with its line of help. The English
# texts are the channels' own words (herald-channels' account_form.rs and content_form.rs).

# webhook: account configuration
field-webhook-signing-secret = Signing secret
field-webhook-signing-secret-help = signs every request (HMAC) when set
field-webhook-timeout-ms = Timeout (ms)
field-webhook-timeout-ms-help = per request
field-webhook-attempts = Attempts
field-webhook-attempts-help = within one delivery, before the worker's own retry
field-webhook-backoff-ms = Backoff (ms)
field-webhook-backoff-ms-help = wait before the second attempt; doubled each time

# webhook: template content
field-webhook-content-url = URL
field-webhook-content-url-help = where the message is POSTed (the outbound address policy applies); the whole content goes in the body

# email: account configuration
field-email-host = SMTP host
field-email-host-help = e.g. smtp.exmail.qq.com
field-email-port = Port
field-email-port-help = 587 for STARTTLS, 465 for TLS; the security's usual port when empty
field-email-security = Security
field-email-security-help = starttls (port 587), tls (465) or plain (local relays only)
field-email-username = User name
field-email-username-help = when the server asks for a login
field-email-password = Password
field-email-password-help = the mailbox's password or app password
field-email-from = From
field-email-from-help = the sender: `Name <addr@example.com>` or a bare address
field-email-timeout-ms = Timeout (ms)
field-email-timeout-ms-help = per message; 30000 when empty

# email: template content
field-email-content-subject = Subject
field-email-content-subject-help = the mail's subject line
field-email-content-html = HTML body
field-email-content-html-help = the body as HTML; give it, the plain text, or both
field-email-content-text = Plain-text body
field-email-content-text-help = the body as plain text (sent beside the HTML when both are given)

# sms: account configuration
field-sms-suppliers-0-provider = Provider
field-sms-suppliers-0-provider-help = the first supplier tried; add more in the JSON below
field-sms-suppliers-0-sign-name = Signature
field-sms-suppliers-0-sign-name-help = the approved signature, e.g. 腾讯云
field-sms-suppliers-0-secret-id = SecretId (Tencent)
field-sms-suppliers-0-secret-id-help = the API key's SecretId
field-sms-suppliers-0-secret-key = SecretKey (Tencent)
field-sms-suppliers-0-secret-key-help = the API key's SecretKey
field-sms-suppliers-0-sdk-app-id = SmsSdkAppId (Tencent)
field-sms-suppliers-0-sdk-app-id-help = e.g. 1400006666
field-sms-suppliers-0-template-id = Template id (Tencent)
field-sms-suppliers-0-template-id-help = the approved template's id
field-sms-suppliers-0-param-order = Parameter order (Tencent)
field-sms-suppliers-0-param-order-help = names in content.params, in the order of { "{" }1{ "}" }, { "{" }2{ "}" }, ...: code,minutes
field-sms-suppliers-0-region = Region (Tencent)
field-sms-suppliers-0-region-help = ap-guangzhou when empty
field-sms-suppliers-0-access-key-id = AccessKey id (Aliyun)
field-sms-suppliers-0-access-key-id-help = the RAM user's AccessKey id
field-sms-suppliers-0-access-key-secret = AccessKey secret (Aliyun)
field-sms-suppliers-0-access-key-secret-help = the RAM user's AccessKey secret
field-sms-suppliers-0-template-code = Template code (Aliyun)
field-sms-suppliers-0-template-code-help = e.g. SMS_154950909
field-sms-suppliers-0-endpoint = API endpoint
field-sms-suppliers-0-endpoint-help = the provider's own when empty; set it for a proxy

# sms: template content
field-sms-content-params = Template parameters
field-sms-content-params-help = a JSON object of the SMS template's variables, e.g. { "{" }"code": "{ "{" }$code{ "}" }", "minutes": "5"{ "}" }; Tencent takes them in the account's parameter order
field-sms-content-template-code = Aliyun template code
field-sms-content-template-code-help = this template's own Aliyun TemplateCode (SMS_...), used instead of the account's; empty keeps the account's
field-sms-content-template-id = Tencent template ID
field-sms-content-template-id-help = this template's own Tencent TemplateId, used instead of the account's; empty keeps the account's
field-sms-content-param-order = Tencent parameter order
field-sms-content-param-order-help = the names in the parameters in the order of that Tencent template's { "{" }1{ "}" }, { "{" }2{ "}" }, ..., as a JSON list, e.g. ["code", "minutes"]

# dingtalk-robot: account configuration
field-dingtalk-robot-access-token = Access token
field-dingtalk-robot-access-token-help = the access_token in the robot's webhook URL
field-dingtalk-robot-secret = Signing secret
field-dingtalk-robot-secret-help = SEC...; empty when the robot checks keywords or IPs instead
field-dingtalk-robot-base-url = API base URL
field-dingtalk-robot-base-url-help = https://oapi.dingtalk.com when empty; set it for a proxy or a private deployment

# dingtalk-robot: template content
field-dingtalk-robot-content-msgtype = Message type
field-dingtalk-robot-content-msgtype-help = text; markdown, link or actionCard (a card with one button), which need a title
field-dingtalk-robot-content-title = Title
field-dingtalk-robot-content-title-help = the title of a markdown message, link or action card
field-dingtalk-robot-content-content = Text
field-dingtalk-robot-content-content-help = the message text, the markdown body, the link's summary or the card's markdown
field-dingtalk-robot-content-message-url = Link URL
field-dingtalk-robot-content-message-url-help = link: where the link opens
field-dingtalk-robot-content-pic-url = Picture
field-dingtalk-robot-content-pic-url-help = link: its picture's URL (work notices need one: a URL or a media id)
field-dingtalk-robot-content-single-title = Button text
field-dingtalk-robot-content-single-title-help = action card: the text of its button
field-dingtalk-robot-content-single-url = Button URL
field-dingtalk-robot-content-single-url-help = action card: where the button opens

# dingtalk-work-notice: account configuration
field-dingtalk-work-notice-app-key = AppKey
field-dingtalk-work-notice-app-key-help = the internal app's AppKey
field-dingtalk-work-notice-app-secret = AppSecret
field-dingtalk-work-notice-app-secret-help = the internal app's AppSecret
field-dingtalk-work-notice-agent-id = AgentId
field-dingtalk-work-notice-agent-id-help = the app's AgentId
field-dingtalk-work-notice-base-url = API base URL
field-dingtalk-work-notice-base-url-help = https://oapi.dingtalk.com when empty; set it for a proxy or a private deployment

# dingtalk-work-notice: template content
field-dingtalk-work-notice-content-msgtype = Message type
field-dingtalk-work-notice-content-msgtype-help = text; markdown, link or actionCard (a card with one button), which need a title
field-dingtalk-work-notice-content-title = Title
field-dingtalk-work-notice-content-title-help = the title of a markdown message, link or action card
field-dingtalk-work-notice-content-content = Text
field-dingtalk-work-notice-content-content-help = the message text, the markdown body, the link's summary or the card's markdown
field-dingtalk-work-notice-content-message-url = Link URL
field-dingtalk-work-notice-content-message-url-help = link: where the link opens
field-dingtalk-work-notice-content-pic-url = Picture
field-dingtalk-work-notice-content-pic-url-help = link: its picture's URL (work notices need one: a URL or a media id)
field-dingtalk-work-notice-content-single-title = Button text
field-dingtalk-work-notice-content-single-title-help = action card: the text of its button
field-dingtalk-work-notice-content-single-url = Button URL
field-dingtalk-work-notice-content-single-url-help = action card: where the button opens

# wecom-robot: account configuration
field-wecom-robot-key = Webhook key
field-wecom-robot-key-help = the key in the group robot's webhook URL
field-wecom-robot-base-url = API base URL
field-wecom-robot-base-url-help = https://qyapi.weixin.qq.com when empty; set it for a proxy or a private deployment

# wecom-robot: template content
field-wecom-robot-content-msgtype = Message type
field-wecom-robot-content-msgtype-help = text or markdown
field-wecom-robot-content-title = Title
field-wecom-robot-content-title-help = an optional first line (a heading in markdown)
field-wecom-robot-content-body = Body
field-wecom-robot-content-body-help = the message

# wecom-app: account configuration
field-wecom-app-corp-id = Corp id
field-wecom-app-corp-id-help = the company's CorpID (My company > Company info)
field-wecom-app-corp-secret = App secret
field-wecom-app-corp-secret-help = the self-built app's Secret
field-wecom-app-agent-id = AgentId
field-wecom-app-agent-id-help = the self-built app's AgentId
field-wecom-app-base-url = API base URL
field-wecom-app-base-url-help = https://qyapi.weixin.qq.com when empty; set it for a proxy or a private deployment

# wecom-app: template content
field-wecom-app-content-msgtype = Message type
field-wecom-app-content-msgtype-help = text or markdown
field-wecom-app-content-title = Title
field-wecom-app-content-title-help = an optional first line (a heading in markdown)
field-wecom-app-content-body = Body
field-wecom-app-content-body-help = the message

# feishu-bot: account configuration
field-feishu-bot-webhook-url = Webhook URL
field-feishu-bot-webhook-url-help = https://open.feishu.cn/open-apis/bot/v2/hook/...; its id is the credential
field-feishu-bot-secret = Signing secret
field-feishu-bot-secret-help = when the bot has signature verification on

# feishu-bot: template content
field-feishu-bot-content-content = Text
field-feishu-bot-content-content-help = the message text; a receiver of @all mentions everyone
field-feishu-bot-content-msgtype = Message type
field-feishu-bot-content-msgtype-help = text; post (rich text, a paragraph per line) or interactive (a card), which need a title
field-feishu-bot-content-title = Title
field-feishu-bot-content-title-help = the post's or card's title

# feishu-app: account configuration
field-feishu-app-app-id = App ID
field-feishu-app-app-id-help = the self-built app's App ID (cli_...), its bot ability on
field-feishu-app-app-secret = App secret
field-feishu-app-app-secret-help = the self-built app's App Secret
field-feishu-app-receive-id-type = Receiver id type
field-feishu-app-receive-id-type-help = open_id when empty; union_id, user_id, email or chat_id
field-feishu-app-base-url = API base URL
field-feishu-app-base-url-help = https://open.feishu.cn when empty; set it for a proxy or a private deployment

# feishu-app: template content
field-feishu-app-content-content = Text
field-feishu-app-content-content-help = the message text
field-feishu-app-content-msgtype = Message type
field-feishu-app-content-msgtype-help = text; post (rich text, a paragraph per line) or interactive (a card), which need a title
field-feishu-app-content-title = Title
field-feishu-app-content-title-help = the post's or card's title

# getui-push: account configuration
field-getui-push-app-id = AppID
field-getui-push-app-id-help = from the Getui console's app settings
field-getui-push-app-key = AppKey
field-getui-push-app-key-help = from the Getui console's app settings
field-getui-push-master-secret = MasterSecret
field-getui-push-master-secret-help = from the Getui console's app settings
field-getui-push-base-url = API base URL
field-getui-push-base-url-help = https://restapi.getui.com when empty; set it for a proxy or a private deployment

# getui-push: template content
field-getui-push-content-title = Title
field-getui-push-content-title-help = the notification's title
field-getui-push-content-body = Body
field-getui-push-content-body-help = the notification's text
field-getui-push-content-url = Link
field-getui-push-content-url-help = opened when the notification is tapped; nothing happens without it
