# /profile：用户自己的设置。
profile-title = 个人设置
profile-heading = { $name } 的个人设置
profile-saved = 已保存：每个页面都使用这种语言，并以这个时区显示时间。
profile-language = 语言
profile-language-hint = 控制台所有页面使用的语言。未选择时，页面跟随浏览器的语言。
profile-language-label = 页面语言
profile-language-browser = 跟随浏览器
profile-zone = 时区
profile-zone-hint = 每个页面都以这个时区显示时间并注明时区；现在是 { $now }。模板的定时计划仍按它自己的时区触发。
profile-zone-label = 时间显示为
