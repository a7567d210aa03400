//! Prometheus metrics, on a listener of their own (`--metrics-bind`), never on the public port.
//!
//! Labels never hold a user id, an email, a conversation or any content: only fixed words
//! (an outcome, a state).

use crate::bus::BusState;
use crate::delivery::Delivery;
use crate::store::Store;
use anyhow::Context;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::net::TcpListener;

/// How a login ended.
#[derive(Debug, Clone, Copy, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LoginLabels {
    /// `success`, `failure`, `throttled` or `busy`.
    pub outcome: &'static str,
}

/// The labels of an e-mail count.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EmailLabels {
    /// `new_message`, `unread_answer` or `awaiting_reply`.
    pub kind: &'static str,
    /// `sent` or `failed`.
    pub outcome: &'static str,
}

/// The labels of a push count.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PushLabels {
    /// `sent`, `gone` (the push service no longer knows the subscription: deleted) or
    /// `failed`.
    pub outcome: &'static str,
}

/// The metrics of one instance. Cheap to clone: every metric is a shared handle.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    /// Messages stored by this instance.
    pub messages_stored: Counter,
    /// From a send's arrival at this instance to its answer (ack), in seconds.
    pub send_to_ack: Histogram,
    /// From a message's storage to its push onto a socket of this instance, in seconds
    /// (messages written by another instance included: that is the cross-instance delay).
    pub send_to_push: Histogram,
    /// Logins by outcome.
    pub logins: Family<LoginLabels, Counter>,
    /// Passes of the e-mail notifier completed by this instance.
    pub notify_passes: Counter,
    /// E-mails by kind and outcome (`sent`, `failed`).
    pub emails: Family<EmailLabels, Counter>,
    /// Web Push requests by outcome (`sent`, `gone`, `failed`).
    pub pushes: Family<PushLabels, Counter>,
    sockets: Gauge,
    users: Gauge,
    bus_up: Gauge,
    bus_dropped: Counter,
    fills: Counter,
    swept: Counter,
    pool_size: Gauge,
    pool_idle: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("colloque");
        // 0.25 ms to about 8 s.
        let latency = || Histogram::new(exponential_buckets(0.000_25, 2.0, 16));
        let metrics = Metrics {
            registry: Arc::new(Registry::default()),
            messages_stored: Counter::default(),
            send_to_ack: latency(),
            send_to_push: latency(),
            logins: Family::default(),
            notify_passes: Counter::default(),
            emails: Family::default(),
            pushes: Family::default(),
            sockets: Gauge::default(),
            users: Gauge::default(),
            bus_up: Gauge::default(),
            bus_dropped: Counter::default(),
            fills: Counter::default(),
            swept: Counter::default(),
            pool_size: Gauge::default(),
            pool_idle: Gauge::default(),
        };
        let m = &metrics;
        registry.register(
            "messages_stored",
            "Messages stored by this instance",
            m.messages_stored.clone(),
        );
        registry.register(
            "send_to_ack_seconds",
            "From a send's arrival to its ack",
            m.send_to_ack.clone(),
        );
        registry.register(
            "send_to_push_seconds",
            "From a message's storage to its push onto a socket of this instance",
            m.send_to_push.clone(),
        );
        registry.register("logins", "Logins by outcome", m.logins.clone());
        registry.register(
            "notify_passes",
            "Passes of the e-mail notifier completed by this instance",
            m.notify_passes.clone(),
        );
        registry.register(
            "emails",
            "Notification e-mails by kind and outcome",
            m.emails.clone(),
        );
        registry.register("pushes", "Web Push requests by outcome", m.pushes.clone());
        registry.register(
            "sockets_open",
            "Authenticated sockets open on this instance",
            m.sockets.clone(),
        );
        registry.register(
            "users_connected",
            "Users with a socket on this instance",
            m.users.clone(),
        );
        registry.register(
            "bus_up",
            "1 when wake-ups reach the other instances (or there are none)",
            m.bus_up.clone(),
        );
        registry.register(
            "bus_wakeups_dropped",
            "Wake-ups not published (bus down or behind); the sweep delivered what they announced",
            m.bus_dropped.clone(),
        );
        registry.register(
            "delivery_fills",
            "Gaps read from the database and pushed",
            m.fills.clone(),
        );
        registry.register(
            "sweep_gaps_filled",
            "Gaps found by the sweep or a resync: deliveries a lost wake-up announced",
            m.swept.clone(),
        );
        registry.register(
            "db_pool_connections",
            "Database connections open",
            m.pool_size.clone(),
        );
        registry.register(
            "db_pool_idle",
            "Database connections idle",
            m.pool_idle.clone(),
        );
        Metrics {
            registry: Arc::new(registry),
            ..metrics
        }
    }
}

impl Metrics {
    /// Counts a login.
    pub fn login(&self, outcome: &'static str) {
        self.logins.get_or_create(&LoginLabels { outcome }).inc();
    }

    /// The text exposition, with the live figures read now.
    pub fn render(&self, delivery: &Delivery, store: &Store) -> String {
        let registry = delivery.registry();
        self.sockets.set(registry.total() as i64);
        self.users.set(registry.users_here().len() as i64);
        self.bus_up
            .set(i64::from(delivery.bus().state() != BusState::Down));
        catch_up(&self.bus_dropped, delivery.bus().dropped());
        let stats = delivery.stats();
        catch_up(&self.fills, stats.fills.load(Ordering::Relaxed));
        catch_up(&self.swept, stats.swept.load(Ordering::Relaxed));
        let (size, idle) = store.pool_use();
        self.pool_size.set(i64::from(size));
        self.pool_idle.set(idle as i64);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String cannot fail");
        text
    }
}

/// Moves a counter up to a total kept elsewhere.
fn catch_up(counter: &Counter, total: u64) {
    let now = counter.get();
    if total > now {
        counter.inc_by(total - now);
    }
}

/// Seconds since a message's `sent_at`, never negative.
pub fn seconds_since(at: colloque_protocol::Timestamp) -> f64 {
    let ms = crate::util::now_ms().0.saturating_sub(at.0).max(0);
    Duration::from_millis(ms as u64).as_secs_f64()
}

#[derive(Clone)]
struct Scrape {
    metrics: Metrics,
    delivery: Delivery,
    store: Store,
}

/// Binds the metrics listener (`GET /metrics` only).
pub async fn bind(address: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(address)
        .await
        .with_context(|| format!("failed to listen for metrics on {address}"))
}

/// Serves `GET /metrics` on `listener` until the task is aborted.
pub async fn serve(listener: TcpListener, metrics: Metrics, delivery: Delivery, store: Store) {
    let app = Router::new()
        .route("/metrics", get(scrape))
        .with_state(Scrape {
            metrics,
            delivery,
            store,
        });
    if let Err(error) = axum::serve(listener, app).await {
        tracing::error!(%error, "the metrics listener stopped");
    }
}

async fn scrape(State(scrape): State<Scrape>) -> impl IntoResponse {
    let body = scrape.metrics.render(&scrape.delivery, &scrape.store);
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
}
