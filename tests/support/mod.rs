//! Harness for the end-to-end tests: the real server with demo data on a loopback port, one
//! ChromeDriver per test in its own process group (killed on drop, even when a test panics),
//! and a thin `Browser` wrapper over a fantoccini session.

// Each test binary uses a subset of the harness.
#![allow(dead_code)]

use std::future::Future;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

pub mod axe;
mod conversation;
mod proxy;
pub use proxy::FreezableProxy;
use std::time::{Duration, Instant};

use colloque_server::{Application, Config, ShutdownHandle};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

/// The demo accounts' password (see README, "Demo accounts").
pub const DEMO_PASSWORD: &str = "colloque-demo";

/// How long a poll for a DOM condition may run before the test fails. It bounds a wait; it
/// is not a timing assertion.
const WAIT_LIMIT: Duration = Duration::from_secs(20);
const POLL_EVERY: Duration = Duration::from_millis(50);

/// The descendant of `element` with this `data-testid`, if any.
pub async fn child_testid(element: &Element, id: &str) -> Option<Element> {
    let css = format!("[data-testid='{id}']");
    element.find(Locator::Css(&css)).await.ok()
}

/// One end-to-end environment: a server and a WebDriver.
pub struct E2e {
    name: String,
    base_url: String,
    driver_url: String,
    out_dir: PathBuf,
    profiles: tempfile::TempDir,
    sessions: AtomicUsize,
    _driver: DriverGuard,
    _data: tempfile::TempDir,
}

impl E2e {
    /// Where this run's screenshots (and kept logs) go.
    pub fn out_dir(&self) -> &std::path::Path {
        &self.out_dir
    }

    /// The app's origin, `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The simple layout: one server serves the app, the API and the WebSocket.
    pub async fn start(name: &str) -> E2e {
        Self::start_with(name, |_| {}).await
    }

    /// [`Self::start`], with the server's configuration changed by `configure`.
    pub async fn start_with(name: &str, configure: impl FnOnce(&mut Config)) -> E2e {
        let data = tempfile::tempdir().expect("temp data dir");
        let mut config = Config {
            static_dir: Some(dist_dir()),
            demo: true,
            ..Config::for_tests(data.path().to_path_buf())
        };
        configure(&mut config);
        let app = Application::build(config).await.expect("build the server");
        let base_url = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped());

        let mut e2e = E2e::start_driver(name).await;
        e2e.base_url = base_url;
        e2e._data = data;
        e2e
    }

    /// A cluster, as `cargo xtask cluster` starts it: a private PostgreSQL, NATS, three
    /// `colloque-server` processes (the binary in `COLLOQUE_SERVER_BIN`, which `cargo xtask
    /// test` builds) serving the app with the demo data, and nginx in front, round-robin. The
    /// browsers use nginx's address.
    pub async fn start_cluster(name: &str) -> (E2e, colloque_testbed::Cluster) {
        let server_bin = std::env::var_os("COLLOQUE_SERVER_BIN")
            .map(PathBuf::from)
            .expect("COLLOQUE_SERVER_BIN names the server binary — run through `cargo xtask test`");
        let mut options = colloque_testbed::ClusterOptions::new(server_bin);
        options.static_dir = Some(dist_dir());
        options.demo = true;
        options.proxy_port = Some(free_port());
        // Commits reach the kernel before they are acknowledged; killing processes loses
        // nothing without fsync (only a machine crash would).
        options.postgres.fsync = false;
        let cluster =
            tokio::task::spawn_blocking(move || colloque_testbed::Cluster::start(options))
                .await
                .expect("the cluster's start does not panic")
                .expect("the cluster starts");
        let mut e2e = E2e::start_driver(name).await;
        e2e.base_url = cluster.url();
        (e2e, cluster)
    }

    /// The production layout: the app's static files on one origin (as on a CDN, with a
    /// `config.json` pointing at the API) and the API server on another, which the test can
    /// stop and start again on the same port and database.
    pub async fn start_cdn(name: &str) -> (E2e, Api) {
        Self::start_cdn_with(name, |_| {}).await
    }

    /// [`Self::start_cdn`], with the API server's configuration changed by `configure`.
    pub async fn start_cdn_with(name: &str, configure: impl FnOnce(&mut Config)) -> (E2e, Api) {
        let (e2e, api, _) = Self::start_cdn_inner(name, false, configure).await;
        (e2e, api)
    }

    /// [`Self::start_cdn`], with the app's WebSocket going through a [`FreezableProxy`] (REST
    /// goes straight to the API).
    pub async fn start_cdn_with_ws_proxy(name: &str) -> (E2e, Api, FreezableProxy) {
        let (e2e, api, proxy) = Self::start_cdn_inner(name, true, |_| {}).await;
        (e2e, api, proxy.expect("the proxy"))
    }

    async fn start_cdn_inner(
        name: &str,
        proxy: bool,
        configure: impl FnOnce(&mut Config),
    ) -> (E2e, Api, Option<FreezableProxy>) {
        let dist = dist_dir();
        let api_port = free_port();
        let api_origin = format!("http://127.0.0.1:{api_port}");
        let proxy = match proxy {
            true => Some(FreezableProxy::start(api_port).await),
            false => None,
        };
        let ws_port = proxy.as_ref().map_or(api_port, |p| p.port);

        // The "CDN": a copy of dist/ whose config.json names the API's origin.
        let site = tempfile::tempdir().expect("temp site dir");
        for entry in std::fs::read_dir(&dist).expect("read dist/") {
            let entry = entry.expect("dist entry");
            if entry.file_type().map(|t| t.is_file()).unwrap_or(false) {
                std::fs::copy(entry.path(), site.path().join(entry.file_name()))
                    .expect("copy dist file");
            }
        }
        std::fs::write(
            site.path().join("config.json"),
            json!({ "api_base": api_origin, "ws_url": format!("ws://127.0.0.1:{ws_port}/ws") })
                .to_string(),
        )
        .expect("write config.json");
        let cdn_data = tempfile::tempdir().expect("temp cdn data dir");
        let cdn = Application::build(Config {
            static_dir: Some(site.path().to_path_buf()),
            // Lets the page's CSP connect to the API origin (and the proxy's).
            allowed_origins: vec![api_origin.clone(), format!("http://127.0.0.1:{ws_port}")],
            ..Config::for_tests(cdn_data.path().to_path_buf())
        })
        .await
        .expect("build the static server");
        let cdn_origin = format!("http://127.0.0.1:{}", cdn.port());
        let site_handle = cdn.shutdown_handle();
        let site_task = tokio::spawn(cdn.run_until_stopped());

        let data = tempfile::tempdir().expect("temp data dir");
        let mut api_config = Config {
            bind: ([127, 0, 0, 1], api_port).into(),
            demo: true,
            allowed_origins: vec![cdn_origin.clone()],
            ..Config::for_tests(data.path().to_path_buf())
        };
        configure(&mut api_config);
        let mut api = Api {
            config: api_config,
            running: None,
            site: Some((site_handle, site_task)),
            _data: data,
            _site: (site, cdn_data),
        };
        api.start().await;

        let mut e2e = E2e::start_driver(name).await;
        e2e.base_url = cdn_origin;
        (e2e, api, proxy)
    }

    async fn start_driver(name: &str) -> E2e {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        let chromedriver = std::env::var_os("CHROMEDRIVER")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/usr/bin/chromedriver"));
        assert!(
            chromedriver.exists(),
            "no ChromeDriver at {} — `cargo xtask test` installs it",
            chromedriver.display()
        );
        let out_dir = std::env::var_os("COLLOQUE_E2E_OUT")
            .map(PathBuf::from)
            .unwrap_or_else(|| manifest.join("target/e2e"));
        std::fs::create_dir_all(&out_dir).expect("create the screenshot directory");
        // This test's screenshots from an earlier run go: what is left is this run's.
        let prefix = format!("{name}-");
        for entry in std::fs::read_dir(&out_dir).expect("read the screenshot directory") {
            let path = entry.expect("a directory entry").path();
            let file = path.file_name().unwrap_or_default().to_string_lossy();
            if file.starts_with(&prefix) && file.ends_with(".png") {
                let _ = std::fs::remove_file(&path);
            }
        }
        let port = free_port();
        let driver = DriverGuard::spawn(&chromedriver, port);
        wait_for_port(port);
        E2e {
            name: name.to_string(),
            base_url: String::new(),
            driver_url: format!("http://127.0.0.1:{port}"),
            out_dir,
            profiles: tempfile::tempdir().expect("temp profile dir"),
            sessions: AtomicUsize::new(0),
            _driver: driver,
            _data: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// A new browser session with a fresh profile and the given window size.
    pub async fn browser(&self, width: u32, height: u32) -> Browser {
        self.browser_with_prefs(width, height, None).await
    }

    /// [`Self::browser`] with Chromium's profile preferences `prefs` (e.g. notifications
    /// allowed for every site, as a user who said yes).
    pub async fn browser_with_prefs(
        &self,
        width: u32,
        height: u32,
        prefs: Option<Value>,
    ) -> Browser {
        let n = self.sessions.fetch_add(1, Ordering::SeqCst);
        let profile = self.profiles.path().join(format!("profile-{n}"));
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    format!("--window-size={width},{height}"),
                    format!("--user-data-dir={}", profile.display()),
                ]
            }
        });
        // Chromium will not make a window narrower than 500 px, so phones are emulated: the
        // page then really lays out at the phone's width.
        let mut caps = caps;
        if let Some(prefs) = prefs {
            caps["goog:chromeOptions"]["prefs"] = prefs;
        }
        if width < 500 {
            caps["goog:chromeOptions"]["mobileEmulation"] = json!({
                "deviceMetrics": { "width": width, "height": height, "pixelRatio": 2.0 }
            });
        }
        let Value::Object(caps) = caps else {
            unreachable!()
        };
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&self.driver_url)
            .await
            .expect("start a Chromium session through ChromeDriver");
        let browser = Browser {
            client,
            base_url: self.base_url.clone(),
            shots: self.out_dir.join(format!("{}-s{n}", self.name)),
        };
        // Every page of this tab records its uncaught errors (a wasm trap is one), console
        // warnings, clicks and submissions, so that a wait that times out can say whether the
        // app was still alive and what reached it.
        browser
            .cdp(
                "Page.addScriptToEvaluateOnNewDocument",
                json!({ "source": RECORD_PAGE_EVENTS }),
            )
            .await;
        browser
    }
}

/// Run by the browser before each page's own scripts (DevTools, not the page: the CSP does
/// not apply): the page's uncaught errors and unhandled rejections, in `window.__e2eErrors`;
/// and, in `window.__e2eLog` (the last 40, in ms since the page loaded), its console errors
/// and warnings and the clicks and form submissions that reached the document, so that a wait
/// that times out tells a click the app never saw from one it ignored, and a page that was
/// reloaded meanwhile (the log starts again) from one that was not.
const RECORD_PAGE_EVENTS: &str = "window.__e2eErrors = [];
window.__e2eLog = [];
const __e2eNote = (what) => {
  window.__e2eLog.push(Math.round(performance.now()) + ' ' + what);
  if (window.__e2eLog.length > 40) window.__e2eLog.shift();
};
const __e2eName = (t) => t && t.getAttribute ? (t.tagName + ' ' + (t.getAttribute('data-testid') || t.id || '')) : String(t);
addEventListener('error', e => window.__e2eErrors.push(String(e.message || e.error)));
addEventListener('unhandledrejection', e => window.__e2eErrors.push('unhandled: ' + String(e.reason)));
addEventListener('click', e => __e2eNote('click ' + __e2eName(e.target)), true);
addEventListener('submit', e => __e2eNote('submit ' + __e2eName(e.target)), true);
for (const level of ['error', 'warn']) {
  const original = console[level].bind(console);
  console[level] = (...args) => { __e2eNote(level + ' ' + args.map(String).join(' ').slice(0, 200)); original(...args); };
}";

/// A fantoccini session with the few verbs the tests use.
pub struct Browser {
    client: Client,
    base_url: String,
    shots: PathBuf,
}

impl Browser {
    /// Opens a new tab of this browser on `path` and makes it the current one (the previous
    /// tab goes to the background); returns the previous tab's handle.
    pub async fn open_tab(&self, path: &str) -> fantoccini::wd::WindowHandle {
        let previous = self.client.window().await.expect("the current tab");
        let tab = self.client.new_window(true).await.expect("a new tab");
        self.client
            .switch_to_window(tab.handle)
            .await
            .expect("switch to the new tab");
        self.goto(path).await;
        previous
    }

    /// Makes `tab` the current tab again.
    pub async fn switch_to(&self, tab: fantoccini::wd::WindowHandle) {
        self.client
            .switch_to_window(tab)
            .await
            .expect("switch tabs");
    }

    pub async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base_url))
            .await
            .unwrap_or_else(|e| panic!("goto {path}: {e}"));
    }

    /// Logs in through the login form and waits for the logged-in shell.
    pub async fn login(&self, email: &str) {
        self.login_with(email, DEMO_PASSWORD).await;
    }

    /// Logs in with this password through the login form and waits for the logged-in shell.
    pub async fn login_with(&self, email: &str, password: &str) {
        self.goto("/login").await;
        self.login_on_screen(email, password).await;
    }

    /// Logs in through the login form already on screen (no page load: what the tab holds
    /// stays) and waits for the logged-in shell.
    pub async fn login_on_screen(&self, email: &str, password: &str) {
        self.wait_testid("login-email")
            .await
            .send_keys(email)
            .await
            .expect("type the email");
        self.wait_testid("login-password")
            .await
            .send_keys(password)
            .await
            .expect("type the password");
        self.click_testid("login-submit").await;
        self.wait_testid("logout").await;
    }

    /// Waits until the app's live connection says "online" (its status is then only a dot on a
    /// phone; while connecting its words take a row of their own).
    pub async fn wait_online(&self) {
        self.wait_until(|| async {
            let status = self.find_css("[data-testid='connection-status']").await?;
            let state = status.attr("data-state").await.ok()??;
            (state == "online").then_some(())
        })
        .await;
    }

    pub async fn wait_testid(&self, id: &str) -> Element {
        let css = format!("[data-testid='{id}']");
        self.wait_until(|| self.find_css(&css)).await
    }

    pub async fn click_testid(&self, id: &str) {
        self.click_css(&format!("[data-testid='{id}']")).await;
    }

    /// Finds and clicks the element; a node re-rendered between the two ("stale element
    /// reference") is found again, any other error fails the test.
    pub async fn click_css(&self, css: &str) {
        self.wait_until(|| async {
            let element = self.find_css(css).await?;
            match element.click().await {
                Ok(_) => Some(()),
                Err(e) if e.is_stale_element_reference() => None,
                Err(e) => panic!("click {css}: {e}"),
            }
        })
        .await;
    }

    /// The browser tab's title.
    pub async fn title(&self) -> String {
        self.client.title().await.expect("the page title")
    }

    /// Whether the element `css` names exists and is shown (not `display: none`).
    pub async fn is_displayed(&self, css: &str) -> bool {
        match self.find_css(css).await {
            Some(element) => element.is_displayed().await.unwrap_or(false),
            None => false,
        }
    }

    pub async fn find_css(&self, css: &str) -> Option<Element> {
        self.client.find(Locator::Css(css)).await.ok()
    }

    /// Waits for an element matching `css` whose visible text contains `text`.
    pub async fn wait_for_element_containing(&self, css: &str, text: &str) -> Element {
        self.wait_for_element_containing_within(WAIT_LIMIT, css, text)
            .await
    }

    /// [`Self::wait_for_element_containing`] with another bound (see
    /// [`Self::wait_until_within`]).
    pub async fn wait_for_element_containing_within(
        &self,
        limit: Duration,
        css: &str,
        text: &str,
    ) -> Element {
        self.wait_until_within(limit, || async {
            for element in self.client.find_all(Locator::Css(css)).await.ok()? {
                if element.text().await.ok()?.contains(text) {
                    return Some(element);
                }
            }
            None
        })
        .await
    }

    /// Polls `check` until it yields a value; fails the test with a screenshot after
    /// [`WAIT_LIMIT`].
    pub async fn wait_until<T, F, Fut>(&self, check: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Option<T>>,
    {
        self.wait_until_within(WAIT_LIMIT, check).await
    }

    /// [`Self::wait_until`] with another bound, for what the app does on its own clock (the
    /// heartbeat). Still a bound on a wait, not a timing assertion.
    pub async fn wait_until_within<T, F, Fut>(&self, limit: Duration, mut check: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Option<T>>,
    {
        let started = Instant::now();
        loop {
            if let Some(value) = check().await {
                return value;
            }
            if started.elapsed() > limit {
                self.screenshot("timeout").await;
                let errors = self
                    .client
                    .execute(
                        "return {errors: window.__e2eErrors || null, \
                         log: window.__e2eLog || null, \
                         loaded_ms_ago: Math.round(performance.now())};",
                        vec![],
                    )
                    .await
                    .map_or_else(|e| format!("(unreadable: {e})"), |v| v.to_string());
                panic!(
                    "condition not met within {limit:?}; see {}-timeout.png; the page's \
                     uncaught errors, console errors and warnings, clicks and submissions: \
                     {errors}; page:\n{}",
                    self.shots.display(),
                    self.source().await
                );
            }
            tokio::time::sleep(POLL_EVERY).await;
        }
    }

    /// Leaves a marker on `window`; a reload would wipe it.
    pub async fn mark_page(&self) {
        self.execute(
            "window.__colloqueE2eMarker = 'still-here'; return true;",
            vec![],
        )
        .await;
    }

    pub async fn assert_not_reloaded(&self) {
        let marker = self
            .execute("return window.__colloqueE2eMarker || null;", vec![])
            .await;
        assert_eq!(marker, json!("still-here"), "the page was reloaded");
    }

    pub async fn execute(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("execute script: {e}"))
    }

    /// The visible text of every element matching `css`, in document order.
    pub async fn texts(&self, css: &str) -> Vec<String> {
        let mut texts = Vec::new();
        for element in self
            .client
            .find_all(Locator::Css(css))
            .await
            .unwrap_or_default()
        {
            if let Ok(text) = element.text().await {
                texts.push(text);
            }
        }
        texts
    }

    /// Reloads the page, as the browser's reload button does.
    pub async fn refresh(&self) {
        self.client.refresh().await.expect("reload the page");
    }

    /// Runs an asynchronous script; it calls its last argument with the result.
    pub async fn execute_async(&self, script: &str) -> Value {
        self.client
            .execute_async(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("execute async script: {e}"))
    }

    /// [`Self::execute_async`] with arguments; the callback is the last one.
    pub async fn execute_async_with(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute_async(script, args)
            .await
            .unwrap_or_else(|e| panic!("execute async script: {e}"))
    }

    pub async fn source(&self) -> String {
        self.client.source().await.unwrap_or_default()
    }

    pub async fn screenshot(&self, step: &str) {
        if let Ok(png) = self.client.screenshot().await {
            let path = PathBuf::from(format!("{}-{step}.png", self.shots.display()));
            std::fs::write(&path, png).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            println!("screenshot: {}", path.display());
        }
    }

    pub async fn close(self) {
        let _ = self.client.close().await;
    }

    /// A Chrome DevTools Protocol command on the current tab, through ChromeDriver
    /// (`POST /session/{id}/goog/cdp/execute`); its result.
    pub async fn cdp(&self, cmd: &str, params: Value) -> Value {
        let command = Cdp {
            cmd: cmd.to_owned(),
            params,
        };
        self.client
            .issue_cmd(command)
            .await
            .unwrap_or_else(|e| panic!("{cmd}: {e}"))
    }
}

/// ChromeDriver's `goog/cdp/execute` command.
#[derive(Debug)]
struct Cdp {
    cmd: String,
    params: Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        let session = session_id.unwrap_or_default();
        base_url.join(&format!("session/{session}/goog/cdp/execute"))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({"cmd": self.cmd, "params": self.params});
        (http::Method::POST, Some(body.to_string()))
    }
}

/// An API server that can be stopped (as SIGTERM would) and started again on the same port
/// and database.
pub struct Api {
    config: Config,
    running: Option<(ShutdownHandle, tokio::task::JoinHandle<std::io::Result<()>>)>,
    site: Option<(ShutdownHandle, tokio::task::JoinHandle<std::io::Result<()>>)>,
    _data: tempfile::TempDir,
    _site: (tempfile::TempDir, tempfile::TempDir),
}

impl Api {
    pub async fn start(&mut self) {
        assert!(self.running.is_none(), "the API server is already running");
        let app = Application::build(self.config.clone())
            .await
            .expect("build the API server");
        let handle = app.shutdown_handle();
        self.running = Some((handle, tokio::spawn(app.run_until_stopped())));
    }

    /// Stops the static server (the "CDN") for good: the app's origin answers nothing any
    /// more, not even to the service worker (DevTools' offline emulation covers the page's
    /// requests only, not its worker's).
    pub async fn stop_site(&mut self) {
        let (handle, task) = self.site.take().expect("the site is running");
        handle.trigger();
        task.await
            .expect("the site's task")
            .expect("the site stops cleanly");
    }

    pub async fn stop(&mut self) {
        let (handle, task) = self.running.take().expect("the API server is running");
        handle.trigger();
        task.await
            .expect("the server task")
            .expect("the server stops cleanly");
    }
}

/// ChromeDriver in its own process group, so Chromium dies with it.
struct DriverGuard(Child);

impl DriverGuard {
    fn spawn(binary: &Path, port: u16) -> DriverGuard {
        let child = Command::new(binary)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", binary.display()));
        DriverGuard(child)
    }
}

impl Drop for DriverGuard {
    fn drop(&mut self) {
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.0.wait();
    }
}

/// The release build of the app (`cargo xtask test` builds it and sets `COLLOQUE_DIST`).
pub fn dist_dir() -> PathBuf {
    let dist = std::env::var_os("COLLOQUE_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("dist"));
    assert!(
        dist.join("index.html").exists(),
        "no app build at {} — run the end-to-end tests with `cargo xtask test`",
        dist.display()
    );
    dist
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn wait_for_port(port: u16) {
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < WAIT_LIMIT,
            "ChromeDriver did not listen on {port}"
        );
        std::thread::sleep(POLL_EVERY);
    }
}
