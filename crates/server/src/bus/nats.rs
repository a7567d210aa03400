//! The bus over core NATS (the `async-nats` client; no JetStream, see docs/deploy.md).
//!
//! - The connection is `no_echo`: an instance never receives its own wake-ups (it delivered to
//!   its own sockets before publishing).
//! - Publishing never waits on the caller's path: events go through a bounded queue to a task
//!   of their own, and are dropped (and counted) while NATS is unreachable or the queue is
//!   full. The sweep delivers what they announced.
//! - One subscription per user whose sockets this instance holds, all polled by one task.
//!   The client resends them after a reconnect.
//! - Reconnections and slow-consumer drops ask the instance for a resync.

use super::{Event, Incoming, decode, encode};
use anyhow::Context;
use colloque_protocol::UserId;
use futures_util::StreamExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_stream::StreamMap;

/// Wake-ups waiting to be published; past this they are dropped (the sweep covers them).
const OUTBOX: usize = 16_384;

/// Messages NATS may queue for one subscription before it counts as a slow consumer. A user's
/// subject sees a handful of wake-ups a minute.
const SUBSCRIPTION_CAPACITY: usize = 1_024;

/// The NATS bus. Cheap to clone.
#[derive(Clone)]
pub struct NatsBus {
    inner: Arc<Inner>,
}

struct Inner {
    outbox: mpsc::Sender<(UserId, Event)>,
    watches: mpsc::UnboundedSender<Watch>,
    connected: Arc<AtomicBool>,
    dropped: AtomicU64,
    /// Fault injection: drop every publish.
    drop_all: AtomicBool,
}

enum Watch {
    Add(UserId),
    Remove(UserId),
}

impl NatsBus {
    /// Connects (in the background if NATS is not reachable yet: the instance starts anyway,
    /// degraded) and starts the publishing and subscription tasks.
    pub async fn connect(url: &str, incoming: mpsc::Sender<Incoming>) -> anyhow::Result<Self> {
        let connected = Arc::new(AtomicBool::new(false));
        let on_event = {
            let (connected, incoming) = (connected.clone(), incoming.clone());
            move |event: async_nats::Event| {
                let (connected, incoming) = (connected.clone(), incoming.clone());
                async move { on_client_event(event, &connected, &incoming).await }
            }
        };
        let client = async_nats::ConnectOptions::new()
            .name("colloque-server")
            .no_echo()
            .retry_on_initial_connect()
            .max_reconnects(None)
            .connection_timeout(Duration::from_secs(2))
            .ping_interval(Duration::from_secs(5))
            // Back within half a second of NATS returning, however long it was away.
            .reconnect_delay_callback(|attempts| {
                Duration::from_millis((attempts as u64 * 100).min(500))
            })
            .subscription_capacity(SUBSCRIPTION_CAPACITY)
            .event_callback(on_event)
            .connect(url)
            .await
            .context("invalid NATS URL or options")?;
        let (outbox, to_publish) = mpsc::channel(OUTBOX);
        let (watches, to_watch) = mpsc::unbounded_channel();
        tokio::spawn(publish_loop(client.clone(), to_publish, connected.clone()));
        tokio::spawn(subscription_loop(client, to_watch, incoming));
        Ok(NatsBus {
            inner: Arc::new(Inner {
                outbox,
                watches,
                connected,
                dropped: AtomicU64::new(0),
                drop_all: AtomicBool::new(false),
            }),
        })
    }

    pub(super) fn publish(&self, user: UserId, event: Event) {
        if self.inner.drop_all.load(Ordering::Relaxed)
            || !self.is_connected()
            || self.inner.outbox.try_send((user, event)).is_err()
        {
            self.inner.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(super) fn drop_every_publish(&self) {
        self.inner.drop_all.store(true, Ordering::Relaxed);
    }

    pub(super) fn watch(&self, user: UserId) {
        let _ = self.inner.watches.send(Watch::Add(user));
    }

    pub(super) fn unwatch(&self, user: UserId) {
        let _ = self.inner.watches.send(Watch::Remove(user));
    }

    pub(super) fn is_connected(&self) -> bool {
        self.inner.connected.load(Ordering::Acquire)
    }

    pub(super) fn dropped(&self) -> u64 {
        self.inner.dropped.load(Ordering::Relaxed)
    }
}

async fn on_client_event(
    event: async_nats::Event,
    connected: &AtomicBool,
    incoming: &mpsc::Sender<Incoming>,
) {
    match event {
        async_nats::Event::Connected => {
            tracing::info!("connected to NATS");
            connected.store(true, Ordering::Release);
            // Whatever was published while this instance was away is lost to it.
            let _ = incoming.send(Incoming::Resync).await;
        }
        async_nats::Event::Disconnected => {
            tracing::warn!(
                "disconnected from NATS; deliveries to other instances wait for the sweep"
            );
            connected.store(false, Ordering::Release);
        }
        async_nats::Event::SlowConsumer(_) => {
            tracing::warn!("NATS dropped wake-ups for this instance (slow consumer); resyncing");
            let _ = incoming.send(Incoming::Resync).await;
        }
        other => tracing::info!(event = %other, "NATS event"),
    }
}

async fn publish_loop(
    client: async_nats::Client,
    mut outbox: mpsc::Receiver<(UserId, Event)>,
    connected: Arc<AtomicBool>,
) {
    while let Some((user, event)) = outbox.recv().await {
        // Queued while NATS was up, published after it went down: the client would keep it
        // for the reconnection, by when the sweep has delivered it. Dropped instead.
        if !connected.load(Ordering::Acquire) {
            continue;
        }
        let payload = encode(&event).into();
        if let Err(error) = client.publish(super::Bus::subject(user), payload).await {
            tracing::debug!(%error, "a wake-up was not published");
        }
    }
}

async fn subscription_loop(
    client: async_nats::Client,
    mut watches: mpsc::UnboundedReceiver<Watch>,
    incoming: mpsc::Sender<Incoming>,
) {
    let mut subscriptions: StreamMap<UserId, async_nats::Subscriber> = StreamMap::new();
    loop {
        tokio::select! {
            watch = watches.recv() => match watch {
                Some(Watch::Add(user)) => {
                    if subscriptions.contains_key(&user) {
                        continue;
                    }
                    match client.subscribe(super::Bus::subject(user)).await {
                        Ok(subscriber) => {
                            subscriptions.insert(user, subscriber);
                        }
                        // The sweep still delivers this user's messages, within its interval.
                        Err(error) => tracing::warn!(%error, "failed to subscribe to a user's wake-ups"),
                    }
                }
                // Dropping the subscriber unsubscribes.
                Some(Watch::Remove(user)) => {
                    subscriptions.remove(&user);
                }
                None => return,
            },
            Some((_, message)) = subscriptions.next(), if !subscriptions.is_empty() => {
                match decode(message.subject.as_str(), &message.payload) {
                    Some((user, event)) => {
                        if incoming.send(Incoming::Event(user, event)).await.is_err() {
                            return;
                        }
                    }
                    None => tracing::debug!("ignored an unreadable wake-up"),
                }
            }
        }
    }
}
