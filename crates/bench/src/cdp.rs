//! Just enough of the Chrome DevTools Protocol to drive one headless Chromium page and read
//! its figures: a JSON-over-WebSocket request/response client on the bench's own
//! tokio-tungstenite (a WebDriver crate would add a ChromeDriver and nothing we need: the heap
//! and DOM figures only exist in DevTools).

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// A headless Chromium and one page in it.
pub struct Browser {
    child: Child,
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    session: String,
    next_id: u64,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts `chromium` (headless, its own fresh profile, DevTools on a free loopback port)
    /// and opens a blank page of `width`×`height` CSS pixels.
    pub async fn launch(chromium: &Path, width: u32, height: u32) -> anyhow::Result<Browser> {
        let profile = tempfile::tempdir()?;
        let child = Command::new(chromium)
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("failed to start {}", chromium.display()))?;
        let url = devtools_url(&profile.path().join("DevToolsActivePort")).await?;
        let (ws, _) = tokio_tungstenite::connect_async(url.as_str())
            .await
            .context("connect to Chromium's DevTools")?;
        let mut browser = Browser {
            child,
            ws,
            session: String::new(),
            next_id: 0,
            _profile: profile,
        };
        let target = browser
            .call("Target.createTarget", json!({"url": "about:blank"}))
            .await?;
        let target_id = target["targetId"]
            .as_str()
            .context("no targetId")?
            .to_owned();
        let attached = browser
            .call(
                "Target.attachToTarget",
                json!({"targetId": target_id, "flatten": true}),
            )
            .await?;
        browser.session = attached["sessionId"]
            .as_str()
            .context("no sessionId")?
            .to_owned();
        browser.call("Page.enable", json!({})).await?;
        browser.call("Runtime.enable", json!({})).await?;
        browser
            .call(
                "Emulation.setDeviceMetricsOverride",
                json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}),
            )
            .await?;
        Ok(browser)
    }

    /// Sends one command to the page (or to the browser before a page is attached) and
    /// returns its result; events that arrive meanwhile are skipped.
    pub async fn call(&mut self, method: &str, params: Value) -> anyhow::Result<Value> {
        self.next_id += 1;
        let id = self.next_id;
        let mut command = json!({"id": id, "method": method, "params": params});
        if !self.session.is_empty() {
            command["sessionId"] = json!(self.session);
        }
        self.ws.send(WsMessage::text(command.to_string())).await?;
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let message = tokio::time::timeout(left, self.ws.next())
                .await
                .with_context(|| format!("{method}: no answer within 120 s"))?
                .context("DevTools closed")??;
            let WsMessage::Text(text) = message else {
                continue;
            };
            let reply: Value = serde_json::from_str(&text)?;
            if reply["id"].as_u64() != Some(id) {
                continue;
            }
            if let Some(error) = reply.get("error") {
                bail!("{method}: {error}");
            }
            return Ok(reply["result"].clone());
        }
    }

    /// Evaluates `expression` in the page, awaiting it if it is a promise, and returns its
    /// value (JSON). A thrown exception is an error.
    pub async fn eval(&mut self, expression: &str) -> anyhow::Result<Value> {
        let result = self
            .call(
                "Runtime.evaluate",
                json!({"expression": expression, "awaitPromise": true, "returnByValue": true}),
            )
            .await?;
        if let Some(exception) = result.get("exceptionDetails") {
            bail!("the page threw: {exception}");
        }
        Ok(result["result"]["value"].clone())
    }

    /// Polls `condition` (a JavaScript expression) until it is true; at most `secs`.
    pub async fn wait_for(&mut self, condition: &str, secs: u64) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            match self.eval(condition).await {
                Ok(serde_json::Value::Bool(true)) => return Ok(()),
                Ok(_) => {}
                // The page was replaced under the question (a reload into the app's second
                // build, src/second_build.rs): ask the new one.
                Err(error) if replaced(&error) => {}
                Err(error) => return Err(error),
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        bail!("the page never satisfied {condition} within {secs} s")
    }

    /// Loads `url` and waits for its `load` event.
    pub async fn goto(&mut self, url: &str) -> anyhow::Result<()> {
        self.call("Page.navigate", json!({"url": url})).await?;
        self.wait_for("document.readyState === 'complete'", 30)
            .await
    }

    /// The JavaScript heap in use after a full garbage collection, in bytes.
    pub async fn js_heap_after_gc(&mut self) -> anyhow::Result<u64> {
        self.call("HeapProfiler.collectGarbage", json!({})).await?;
        let usage = self.call("Runtime.getHeapUsage", json!({})).await?;
        usage["usedSize"]
            .as_f64()
            .map(|bytes| bytes as u64)
            .context("no usedSize in Runtime.getHeapUsage")
    }

    /// Closes the browser.
    pub async fn close(mut self) {
        let _ = self.child.kill().await;
    }
}

/// Chromium writes its DevTools port and path into the profile once it listens.
async fn devtools_url(file: &Path) -> anyhow::Result<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(text) = std::fs::read_to_string(file) {
            let mut lines = text.lines();
            if let (Some(port), Some(path)) = (lines.next(), lines.next()) {
                return Ok(format!("ws://127.0.0.1:{port}{path}"));
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("Chromium did not open its DevTools port within 30 s")
}

/// True for DevTools' answer to an evaluation whose page navigated away meanwhile.
fn replaced(error: &anyhow::Error) -> bool {
    let text = error.to_string();
    [
        "Inspected target navigated or closed",
        "Execution context was destroyed",
        "Cannot find default execution context",
    ]
    .iter()
    .any(|known| text.contains(known))
}
