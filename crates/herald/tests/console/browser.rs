//! Headless Chromium through chromedriver: start both, drive pages, read the browser's console
//! log and resource timings, and screenshot a failing test.

/// axe-core, vendored from the npm registry (see `vendor/README.md`).
const AXE: &str = include_str!("vendor/axe.min.js");

use fantoccini::elements::Element;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use futures::FutureExt;
use serde_json::{Value, json};
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

fn find_program(env: &str, name: &str) -> Option<PathBuf> {
    if let Ok(path) = std::env::var(env) {
        return Some(PathBuf::from(path));
    }
    std::env::var_os("PATH")?.to_str()?.split(':').map(|d| Path::new(d).join(name)).find(|p| p.is_file())
}

fn chromedriver() -> PathBuf {
    find_program("HERALD_TEST_CHROMEDRIVER", "chromedriver").unwrap_or_else(|| {
        panic!(
            "chromedriver not found (looked at $HERALD_TEST_CHROMEDRIVER and $PATH). The console's browser tests \
             need Debian's chromium and chromium-driver: run scripts/test.sh, which installs them, or \
             `apt-get install chromium chromium-driver`."
        )
    })
}

fn chromium() -> PathBuf {
    find_program("HERALD_TEST_CHROMIUM", "chromium").unwrap_or_else(|| {
        panic!(
            "chromium not found (looked at $HERALD_TEST_CHROMIUM and $PATH); scripts/test.sh installs Debian's chromium"
        )
    })
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"))
}

/// Where a failing test's screenshot goes.
pub fn screenshot_dir() -> PathBuf {
    target_dir().join("console-screenshots")
}

/// Where every page's screenshot at each width goes, on every run.
pub fn ui_screenshot_dir() -> PathBuf {
    target_dir().join("ui-screenshots")
}

/// The widths every page is looked at: a laptop, a narrow window or a tablet, and a phone.
pub const WIDTHS: [u32; 3] = [1400, 800, 390];

/// A browser session on a console at `base`.
pub struct Browser {
    pub client: Client,
    pub base: String,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    /// A failing test must not leave chromedriver (and its Chromium) running.
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// chromedriver's browser log (console messages, failed loads, CSP violations) since the last
/// read.
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(&self, base_url: &url::Url, session_id: Option<&str>) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/se/log", session_id.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (axum::http::Method, Option<String>) {
        (axum::http::Method::POST, Some(r#"{"type":"browser"}"#.into()))
    }
}

impl Browser {
    pub async fn open(base: &str) -> Browser {
        Self::open_reading(base, "en-US").await
    }

    /// A browser whose user reads `languages` (its `Accept-Language`, e.g. `zh-CN,zh`).
    pub async fn open_reading(base: &str, languages: &str) -> Browser {
        let driver_path = chromedriver();
        let port = crate::common::process::free_port();
        let profile = tempfile::tempdir().unwrap();
        let log = std::fs::File::create(profile.path().join("chromedriver.log")).unwrap();
        let driver = Command::new(&driver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", driver_path.display()));
        let url = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        for _ in 0..200 {
            if http.get(format!("{url}/status")).send().await.is_ok_and(|r| r.status().is_success()) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium(),
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                    "--window-size=1366,1000", "--no-first-run", "--disable-extensions",
                    format!("--user-data-dir={}", profile.path().join("profile").display()),
                ],
                "prefs": {"intl.accept_languages": languages},
            },
            "goog:loggingPrefs": {"browser": "ALL"},
        });
        let caps = caps.as_object().unwrap().clone();
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&url)
            .await
            .unwrap_or_else(|e| panic!("chromedriver at {url} gave no Chromium session: {e}"));
        Browser { client, base: base.to_string(), driver, _profile: profile }
    }

    pub async fn goto(&self, path: &str) {
        self.client.goto(&format!("{}{path}", self.base)).await.unwrap();
    }

    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.unwrap();
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        }
    }

    /// The element, waiting for it to appear.
    pub async fn find(&self, css: &str) -> Element {
        match self.client.wait().at_most(WAIT).for_element(Locator::Css(css)).await {
            Ok(el) => el,
            Err(e) => panic!("no {css} on {} within {WAIT:?}: {e}", self.path().await),
        }
    }

    /// The element's text once it can be read, finding it again when the page was replaced
    /// between finding and reading (a form's answer loading). Right after a click this may be
    /// the page before the answer: where that page has the same element, use `wait_text`.
    pub async fn text(&self, css: &str) -> String {
        self.wait_text(css, |_| true).await
    }

    /// Waits until `css`'s text satisfies `ok`; returns it.
    pub async fn wait_text(&self, css: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = tokio::time::Instant::now() + WAIT;
        let mut last = String::new();
        loop {
            if let Ok(el) = self.client.find(Locator::Css(css)).await
                && let Ok(text) = el.text().await
            {
                if ok(&text) {
                    return text;
                }
                last = text;
            }
            if tokio::time::Instant::now() > deadline {
                panic!("{css} on {} never read as expected; last: {last:?}", self.path().await);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the page's path starts with `prefix`.
    pub async fn wait_path(&self, prefix: &str) -> String {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let path = self.path().await;
            if path.starts_with(prefix) {
                return path;
            }
            if tokio::time::Instant::now() > deadline {
                panic!("never reached {prefix}; at {path}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn fill(&self, css: &str, value: &str) {
        let el = self.find(css).await;
        el.clear().await.unwrap();
        el.send_keys(value).await.unwrap();
    }

    pub async fn click(&self, css: &str) {
        self.find(css).await.click().await.unwrap();
    }

    pub async fn select(&self, css: &str, value: &str) {
        self.find(css).await.select_by_value(value).await.unwrap();
    }

    pub async fn login(&self, name: &str, password: &str) {
        self.goto("/login").await;
        self.fill("#name", name).await;
        self.fill("#password", password).await;
        self.click("#login-submit").await;
    }

    pub async fn script(&self, js: &str) -> Value {
        self.client.execute(js, vec![]).await.unwrap()
    }

    /// Console errors (SEVERE entries: script errors, failed loads, CSP violations) since the
    /// last call.
    pub async fn console_errors(&self) -> Vec<String> {
        let log = self.client.issue_cmd(BrowserLog).await.unwrap();
        log.as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["level"] == "SEVERE")
            .map(|e| e["message"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// Resources the page loaded from anywhere but herald's own origin.
    pub async fn foreign_requests(&self) -> Vec<String> {
        let js = "return performance.getEntriesByType('resource').map(e => e.name)\
                  .filter(n => !n.startsWith(location.origin + '/'));";
        serde_json::from_value(self.script(js).await).unwrap_or_default()
    }

    /// The page rendered with no console error and loaded nothing from another host.
    pub async fn assert_clean(&self) {
        let path = self.path().await;
        let errors = self.console_errors().await;
        assert!(errors.is_empty(), "console errors on {path}: {errors:#?}");
        let foreign = self.foreign_requests().await;
        assert!(foreign.is_empty(), "{path} loaded from another host: {foreign:?}");
    }

    /// Fails on any serious or critical accessibility violation on the page, naming each rule,
    /// its help text and the first elements at fault.
    pub async fn assert_accessible(&self) {
        let path = self.path().await;
        let found = self.accessibility_violations().await;
        assert_eq!(found, serde_json::json!([]), "accessibility violations on {path}");
    }

    /// The serious and critical violations axe-core (vendored, see `vendor/README.md`) finds on
    /// the page as it stands.
    pub async fn accessibility_violations(&self) -> Value {
        self.client.execute(&format!("{AXE}\nreturn true;"), vec![]).await.unwrap();
        let check = "const done = arguments[arguments.length - 1];\
            axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations\
              .filter(v => v.impact === 'serious' || v.impact === 'critical')\
              .map(v => ({rule: v.id, impact: v.impact, help: v.help,\
                          at: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))),\
              e => done([{rule: 'axe failed', help: String(e)}]));";
        self.client.execute_async(check, vec![]).await.unwrap()
    }

    /// Resizes the window to `width` (and a fixed height).
    pub async fn set_width(&self, width: u32) {
        self.client.set_window_size(width, 1000).await.unwrap();
    }

    /// Fails when the page scrolls sideways: everything fits the window's width.
    pub async fn assert_fits_width(&self) {
        let path = self.path().await;
        let widths =
            self.script("return [document.documentElement.scrollWidth, document.documentElement.clientWidth];").await;
        let (scroll, client) = (widths[0].as_i64().unwrap(), widths[1].as_i64().unwrap());
        assert!(scroll <= client, "{path} scrolls sideways: {scroll} px of content in a {client} px window");
    }

    pub async fn screenshot(&self, path: &Path) {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).unwrap();
        }
        match self.client.screenshot().await {
            Ok(png) => std::fs::write(path, png).unwrap(),
            Err(e) => eprintln!("screenshot to {} failed: {e}", path.display()),
        }
    }

    /// Saves a screenshot of the current page under `$HERALD_UI_SHOTS/NAME.png` when that
    /// variable is set (to look at the pages by eye).
    pub async fn shot(&self, name: &str) {
        if let Some(dir) = std::env::var_os("HERALD_UI_SHOTS") {
            self.screenshot(&Path::new(&dir).join(format!("{name}.png"))).await;
        }
    }
}

/// Runs `test` in a fresh browser on the console at `base`. When the test panics, the page it
/// was on is saved to target/console-screenshots/NAME.png before the panic goes on.
pub async fn with_browser(name: &str, base: &str, test: impl AsyncFnOnce(&Browser)) {
    with_browser_reading(name, base, "en-US", test).await
}

/// [`with_browser`] in a browser whose user reads `languages`.
pub async fn with_browser_reading(name: &str, base: &str, languages: &str, test: impl AsyncFnOnce(&Browser)) {
    let browser = Browser::open_reading(base, languages).await;
    let outcome = AssertUnwindSafe(test(&browser)).catch_unwind().await;
    if let Err(panic) = outcome {
        let path = screenshot_dir().join(format!("{name}.png"));
        browser.screenshot(&path).await;
        eprintln!("screenshot of the failing page: {}", path.display());
        let _ = browser.client.clone().close().await;
        std::panic::resume_unwind(panic);
    }
    let _ = browser.client.clone().close().await;
}
