-- The console language a user reads pages in ('en' or 'zh-CN'); NULL to follow the browser.
ALTER TABLE console_users ADD COLUMN language TEXT;
