# /login 与 /setup/<token>：登录前显示的页面（使用浏览器的语言），以及对新用户名和密码的检查
# （/users 页面也会用到）。

## 登录
login-title = 登录 · herald
login-user-name = 用户名
login-password = 密码
login-submit = 登录
# “还没有用户？请运行 <code>herald user add NAME</code>，或打开 herald 首次启动时打印的初始化链接。”，
# 在命令两侧拆开。
login-no-user = 还没有用户？请运行
login-no-user-setup = ，或打开 herald 首次启动时打印的初始化链接。
login-throttled = 登录失败次数过多，请 { $wait } 秒后再试
login-busy = 来自你的地址的另一次登录正在校验中，请稍后再试
login-server-busy = 服务器正忙于校验其他登录，请稍后再试
login-wrong = 用户名或密码错误
login-user-disabled = 该用户已被停用：其他用户可以在“用户”页面重新启用它
login-stale-form = 表单的安全令牌缺失或已过期（浏览器是否启用了 Cookie？）：请刷新页面后重试
# 任何控制台表单的内容超过大小上限时。
login-form-too-large = 表单内容过大

## 初始化链接
setup-title = 创建第一个用户 · herald
setup-heading = 创建第一个用户
setup-hint = 此链接只能使用一次。在这里创建的用户可以登录控制台。
setup-password-again = 再次输入密码
setup-submit = 创建并登录
setup-unknown-link = 此初始化链接无效、已过期或已被使用：可能已经有用户了；否则重启 herald 会打印新的链接

## 新用户的用户名和密码（初始化链接与 /users 页面）
setup-name-problem = 须为 1 到 { $max } 个可打印字符
setup-password-too-short = 至少需要 { $min } 个字符
setup-password-too-long = 最多 { $max } 字节
setup-passwords-differ = 两次输入的密码不一致
