# /users：控制台用户。

user-heading = 控制台用户
user-name = 用户名
user-added-at = 添加时间
user-state = 状态
user-new-password = 设置新密码
user-you = （你）
user-disabled = 已停用
user-active = 正常
user-new-password-label = { $name } 的新密码
user-set-password-label = 设置 { $name } 的密码
user-set = 设置
user-enable = 启用
user-disable = 停用
user-enable-label = 启用 { $name }
user-disable-label = 停用 { $name }

## 添加用户
user-add-heading = 添加用户
user-add-hint = 每个用户都能在控制台中执行所有操作。停用用户会结束其所有会话；设置新密码也会结束其会话。
user-user-name = 用户名
user-password = 密码
user-password-again = 再次输入密码
user-add-submit = 添加用户

## 操作结果或拒绝原因
user-done-added = 用户已添加。
user-done-disabled = 用户已停用：其会话均已结束。
user-done-enabled = 用户已启用。
user-done-password = 密码已设置：其会话均已结束。
user-not-yourself = 不能停用你自己
# 新密码被拒绝：谁的密码，以及原因（来自 login.ftl 的文字）。
user-password-problem = { $name }：{ $problem }
