//! The app on a 10,000-message conversation, in headless Chromium: the release app served by
//! the release server with the demo data, one demo conversation grown by 10,000 messages sent
//! over the WebSocket, then opened by its doctor. Measured in the page: the time from the click
//! in the inbox to the first messages painted, the JavaScript heap after a full garbage
//! collection and the DOM's size, once the conversation is open and again after scrolling to
//! its very first message (which loads the whole history backwards, a page at a time); then the
//! same conversation opened cold, from its address, wasm start-up included.

use crate::cdp::Browser;
use crate::client::{self, Socket};
use crate::report::{Report, mb, thousands};
use crate::server::Server;
use anyhow::Context;
use colloque_protocol::ConversationSummary;
use serde_json::json;
use std::path::Path;
use std::time::Instant;

/// A doctor's screen.
const VIEWPORT: (u32, u32) = (1280, 800);
const DOCTOR: &str = "dr.martin@colloque.test";
const PATIENT: &str = "emma.petit@colloque.test";
const PASSWORD: &str = "colloque-demo";

/// What the page reports at one moment.
#[derive(Debug, Clone, Copy)]
struct Snapshot {
    js_heap: u64,
    dom_nodes: u64,
    rendered: u64,
    loaded: u64,
    wasm_memory: u64,
}

/// Grows a demo conversation by `count` messages and measures the app on it.
pub async fn long_thread(
    server_bin: &Path,
    dist: &Path,
    chromium: &Path,
    work: &Path,
    count: usize,
    report: &mut Report,
) -> anyhow::Result<()> {
    let server = Server::start_app(server_bin, &work.join("long-thread"), dist).await?;
    let base = server.base_url();
    let http = reqwest::Client::new();
    let patient = client::login(&http, &base, PATIENT, PASSWORD).await?;
    let conversations: Vec<ConversationSummary> = http
        .get(format!("{base}/api/conversations"))
        .bearer_auth(&patient.token)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let conversation = conversations
        .iter()
        .find(|c| c.doctor.display_name.contains("Martin"))
        .context("the demo patient has no conversation with Dr Martin")?;
    let socket = Socket::connect(&server.ws_url(), &patient).await?;
    client::send_acked(&socket, conversation.id, count).await?;
    socket.close();
    let last_seq = conversation.last_seq.0 + count as i64;

    let mut browser = Browser::launch(chromium, VIEWPORT.0, VIEWPORT.1).await?;
    // Before any page script: the wasm's memory (trunk announces the started module) and the
    // first message's appearance, timed from the navigation's start.
    browser
        .call(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({"source": r#"
                addEventListener("TrunkApplicationStarted", e => { window.__wasm = e.detail && e.detail.wasm; });
                new MutationObserver((_, observer) => {
                    if (document.querySelector("[data-testid=message]")) {
                        requestAnimationFrame(() => { window.__firstMessageAt = performance.now(); });
                        observer.disconnect();
                    }
                }).observe(document, {childList: true, subtree: true});
            "#}),
        )
        .await?;
    browser.goto(&format!("{base}/login")).await?;
    browser
        .wait_for("!!document.querySelector('[data-testid=login-email]')", 30)
        .await?;
    browser
        .eval(&format!(
            r#"(() => {{
                const type = (id, text) => {{
                    const el = document.querySelector(`[data-testid=${{id}}]`);
                    el.value = text;
                    el.dispatchEvent(new Event("input", {{bubbles: true}}));
                }};
                type("login-email", "{DOCTOR}");
                type("login-password", "{PASSWORD}");
                return true;
            }})()"#
        ))
        .await?;
    browser
        .eval("document.querySelector('[data-testid=login-submit]').click()")
        .await?;
    let item = format!(
        "[data-testid=conversation-item][data-conversation-id='{}']",
        conversation.id.0
    );
    browser
        .wait_for(&format!("!!document.querySelector(\"{item}\")"), 30)
        .await?;
    let before_open = snapshot(&mut browser).await?;

    // Open it from the inbox: click → first messages painted.
    let open_ms = browser
        .eval(&format!(
            r#"new Promise(resolve => {{
                const started = performance.now();
                const painted = () => requestAnimationFrame(() => resolve(performance.now() - started));
                const observer = new MutationObserver(() => {{
                    if (document.querySelector("[data-testid=message]")) {{ observer.disconnect(); painted(); }}
                }});
                observer.observe(document.body, {{childList: true, subtree: true}});
                document.querySelector("{item}").click();
            }})"#
        ))
        .await?
        .as_f64()
        .context("no open time")?;
    browser
        .wait_for(
            &format!(
                "[...document.querySelectorAll('[data-testid=message]')].some(m => m.dataset.seq === '{last_seq}')"
            ),
            30,
        )
        .await?;
    let opened = snapshot(&mut browser).await?;

    // Up to the first message, the way a reader flings: to the top of what is rendered, wait
    // for two frames, again, until message 1 is the first one rendered.
    browser
        .eval(
            r#"(() => {
                window.__longTasks = [];
                new PerformanceObserver(list => {
                    for (const entry of list.getEntries()) window.__longTasks.push(entry.duration);
                }).observe({type: "longtask"});
                return true;
            })()"#,
        )
        .await?;
    let started = Instant::now();
    let mut flings = 0u32;
    loop {
        let first = browser
            .eval(
                r#"(async () => {
                    const list = document.querySelector("[data-testid=message-list]");
                    list.scrollTop = 0;
                    list.dispatchEvent(new Event("scroll"));
                    await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
                    const first = list.querySelector("[data-testid=message]");
                    return first ? Number(first.dataset.seq) : 0;
                })()"#,
            )
            .await?;
        flings += 1;
        if first == json!(1) {
            break;
        }
        anyhow::ensure!(
            started.elapsed().as_secs() < 300,
            "the first message was not reached after {flings} flings"
        );
    }
    let to_top = started.elapsed();
    let longest_task = browser
        .eval("Math.max(0, ...window.__longTasks)")
        .await?
        .as_f64()
        .unwrap_or(0.0);
    let at_top = snapshot(&mut browser).await?;
    anyhow::ensure!(
        at_top.loaded == last_seq as u64,
        "after scrolling to the top the app holds {} of {last_seq} messages",
        at_top.loaded
    );

    // Cold: the conversation's address in a fresh load of the page (the session survives it).
    browser
        .goto(&format!("{base}/medecin/messages/{}", conversation.id.0))
        .await?;
    browser.wait_for("window.__firstMessageAt > 0", 30).await?;
    let cold_ms = browser
        .eval("window.__firstMessageAt")
        .await?
        .as_f64()
        .context("no cold time")?;
    browser.close().await;
    server.stop().await;

    report.row(
        &format!(
            "{}-message conversation: click in the inbox → first messages painted",
            thousands(count)
        ),
        format!("{open_ms:.0} ms"),
        "≤ 300 ms",
    );
    report.row(
        "  the same, reloading its address (the app from the browser cache, started again)",
        format!("{cold_ms:.0} ms"),
        "",
    );
    report.row(
        "  JS heap after opening it / after scrolling to its first message",
        format!("{} / {}", mb(opened.js_heap), mb(at_top.js_heap)),
        "≤ 30 MB",
    );
    report.row(
        "  wasm memory / DOM nodes / messages rendered, after opening",
        format!(
            "{} / {} / {}",
            mb(opened.wasm_memory),
            opened.dom_nodes,
            opened.rendered
        ),
        "",
    );
    report.row(
        "  the same after scrolling to the first message",
        format!(
            "{} / {} / {} (of {} loaded)",
            mb(at_top.wasm_memory),
            at_top.dom_nodes,
            at_top.rendered,
            at_top.loaded
        ),
        "",
    );
    report.row(
        "  scrolling to the first message: time, flings, longest task",
        format!(
            "{:.1} s, {flings}, {longest_task:.0} ms",
            to_top.as_secs_f64()
        ),
        "",
    );
    let figures = |s: &Snapshot| {
        json!({"js_heap_bytes": s.js_heap, "dom_nodes": s.dom_nodes, "rendered": s.rendered,
            "loaded": s.loaded, "wasm_memory_bytes": s.wasm_memory})
    };
    report.value(
        "long_thread",
        json!({"messages": count, "open_ms": open_ms, "cold_open_ms": cold_ms,
            "inbox": figures(&before_open), "opened": figures(&opened), "at_top": figures(&at_top),
            "to_top_secs": to_top.as_secs_f64(), "flings": flings, "longest_task_ms": longest_task}),
    );
    Ok(())
}

async fn snapshot(browser: &mut Browser) -> anyhow::Result<Snapshot> {
    let js_heap = browser.js_heap_after_gc().await?;
    let page = browser
        .eval(
            r#"(() => {
                const list = document.querySelector("[data-testid=message-list]");
                const memory = window.__wasm && window.__wasm.memory;
                return {
                    dom: document.getElementsByTagName("*").length,
                    rendered: document.querySelectorAll("[data-testid=message]").length,
                    loaded: list ? Number(list.dataset.loaded) : 0,
                    wasm: memory ? memory.buffer.byteLength : 0,
                };
            })()"#,
        )
        .await?;
    let number = |key: &str| page[key].as_u64().unwrap_or(0);
    Ok(Snapshot {
        js_heap,
        dom_nodes: number("dom"),
        rendered: number("rendered"),
        loaded: number("loaded"),
        wasm_memory: number("wasm"),
    })
}
