//! Building and running the server (zero2prod's `Application`): everything is constructed and
//! the port is bound in [`Application::build`], so a test can read [`Application::port`] before
//! spawning [`Application::run_until_stopped`].
//!
//! Here are the composition and the router's assembly; the layers it puts around the routes
//! (security headers, CORS, static files) are in `http/`, the tasks that run beside the server
//! in `background.rs`.

use crate::auth::{PasswordHasher, SessionTouches, TokenService, load_or_create_secret};
use crate::chat::SendQueue;
use crate::config::Config;
use crate::delivery::Delivery;
use crate::error::AppError;
use crate::metrics::Metrics;
use crate::security::Security;
use crate::state::{AppState, Throttles};
use crate::store::{self, Store};
use crate::{background, demo, http, routes, ws};
use anyhow::Context;
use axum::Router;
use axum::http::Request;
use axum::routing::get;
use colloque_protocol::{API_PREFIX, WS_PATH};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::watch;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

/// A built, bound, not yet running server.
pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
    from_bus: tokio::sync::mpsc::Receiver<crate::bus::Incoming>,
    metrics_listener: Option<TcpListener>,
    audit_retention_days: u32,
    demo_loaded: bool,
    shutdown: ShutdownHandle,
}

/// Stops a running [`Application`] exactly as SIGTERM does: it stops accepting connections,
/// closes every socket with 1001, lets in-flight requests finish, and
/// [`Application::run_until_stopped`] returns. Triggering before the server runs stops it as
/// soon as it starts; triggering twice is harmless.
#[derive(Clone, Debug)]
pub struct ShutdownHandle {
    sender: Arc<watch::Sender<bool>>,
}

impl ShutdownHandle {
    fn new() -> Self {
        Self {
            sender: Arc::new(watch::Sender::new(false)),
        }
    }

    /// Asks the server to stop.
    pub fn trigger(&self) {
        self.sender.send_replace(true);
    }

    async fn triggered(&self) {
        let mut receiver = self.sender.subscribe();
        // Only fails if the sender is gone, and `self` holds it.
        let _ = receiver.wait_for(|stop| *stop).await;
    }
}

impl Application {
    /// Validates the configuration, creates the data directory, loads or generates the JWT
    /// secret, opens the database and runs migrations, loads the demo
    /// data if asked and the database is empty, and binds.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        config.validate()?;
        store::create_data_dir(&config.data_dir)?;
        if config.production {
            store::check_data_dir_private(&config.data_dir)?;
        }
        let secret = match &config.jwt_secret {
            Some(secret) => secret.clone(),
            None => load_or_create_secret(&config.secret_path())?,
        };
        let tokens = TokenService::new(&secret, config.token_ttl_secs)?;
        let mfa = crate::auth::mfa::MfaKeys::derive(&secret);
        let store = Store::connect(&config.database_url()).await?;
        let cost = config.argon2;
        let passwords = tokio::task::spawn_blocking(move || PasswordHasher::new(cost))
            .await
            .context("failed to set up password hashing")??
            .with_queue(config.limits.hash_queue);
        let demo_loaded = if config.demo {
            demo::load_demo_data_if_empty(&store, &passwords).await?
        } else {
            false
        };

        let listener = bind(config.bind)?;
        let metrics_listener = match config.metrics_bind {
            Some(address) => Some(crate::metrics::bind(address).await?),
            None => None,
        };
        let bound = listener.local_addr()?;
        for warning in config.warnings(bound) {
            tracing::warn!(%bound, "{warning}");
        }
        let security = Security::new(&config, bound)?;
        let public_url = config
            .notify
            .public_url
            .clone()
            .or_else(|| config.allowed_origins.first().cloned())
            .unwrap_or_else(|| format!("http://{bound}"));
        let notifier =
            crate::notify::Notifier::new(&config.notify, public_url, &config.data_dir, &secret)?;
        let (incoming, from_bus) = tokio::sync::mpsc::channel(8_192);
        let bus = crate::bus::connect(config.nats_url.as_deref(), incoming).await?;
        if config.fault_drop_wakeups {
            tracing::warn!("fault injection: this instance publishes no wake-up");
            bus.drop_every_publish();
        }
        let metrics = Metrics::default();
        let delivery = Delivery::new(
            store.clone(),
            bus,
            (config.limits.ws_queue, config.limits.ws_sockets_per_user),
            config.limits.session_rules(),
            metrics.clone(),
        );
        let sends = SendQueue::start(store.clone(), delivery.clone());
        let throttles = Throttles::new(&config.limits, store.clone());
        let state = AppState::new(crate::state::Shared {
            audit: crate::audit::Auditor::new(store.clone()),
            store,
            tokens,
            passwords,
            mfa,
            delivery,
            metrics,
            sends,
            touches: SessionTouches::default(),
            throttles,
            sockets: crate::ws::Admission::new(
                config.limits.ws_max_sockets,
                config.limits.ws_unauthenticated_per_address,
            ),
            limits: Arc::new(config.limits.clone()),
            security: Arc::new(security),
            attachment_slots: crate::attachments::processing_slots(),
            notifier,
        });
        let router = router(state.clone(), &config)?;
        tracing::info!(address = %bound, "listening");
        Ok(Self {
            listener,
            router,
            state,
            from_bus,
            metrics_listener,
            audit_retention_days: config.audit_retention_days,
            demo_loaded,
            shutdown: ShutdownHandle::new(),
        })
    }

    /// Where notification e-mails go, for the start-up banner.
    pub fn mail_destination(&self) -> String {
        self.state.notifier.describe()
    }

    /// Where Web Push's VAPID key comes from, for the start-up banner.
    pub fn push_key_source(&self) -> String {
        self.state.notifier.describe_push()
    }

    /// The metrics listener's port, if metrics are served.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_listener
            .as_ref()
            .and_then(|listener| listener.local_addr().ok())
            .map(|address| address.port())
    }

    /// The bound port (useful with port 0).
    pub fn port(&self) -> u16 {
        self.local_addr().port()
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has a local address")
    }

    /// True when this start loaded the demo data (the database was empty and `demo` was set).
    pub fn demo_loaded(&self) -> bool {
        self.demo_loaded
    }

    /// A handle that stops this server from another task (end-to-end tests restart a server on
    /// the same port and data directory).
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.shutdown.clone()
    }

    /// The allowed origins (CORS and WebSocket), the server's own included.
    pub fn allowed_origins(&self) -> &[String] {
        self.state.security.origins()
    }

    /// Serves until Ctrl-C, SIGTERM or [`ShutdownHandle::trigger`], then closes every socket
    /// (code 1001), lets in-flight requests finish, writes the audit trail's pending counts of
    /// refusals and closes the database. The listening
    /// socket is closed when this returns, so the port can be bound again at once.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let state = self.state;
        let metrics = self.metrics_listener.map(|listener| {
            tokio::spawn(crate::metrics::serve(
                listener,
                state.metrics.clone(),
                state.delivery.clone(),
                state.store.clone(),
            ))
        });
        let background = background::spawn(&state, self.from_bus, self.audit_retention_days);
        let registry = state.delivery.registry().clone();
        let shutdown = self.shutdown;
        let limits = crate::serve::ServeLimits {
            header_read_timeout: state.limits.http_header_timeout,
            max_connections: state.limits.http_max_connections,
        };
        let served = crate::serve::serve(self.listener, self.router, limits, async move {
            tokio::select! {
                () = shutdown_signal() => {}
                () = shutdown.triggered() => {}
            }
            tracing::info!("shutting down");
            registry.close_all();
        })
        .await;
        for task in background.into_iter().chain(metrics) {
            task.abort();
        }
        if let Err(error) = state.touches.flush(&state.store).await {
            tracing::warn!(%error, "failed to record the last session activity");
        }
        // The counts of refusals whose minute is still open: written now, not lost.
        if let Err(error) = state.audit.flush_all().await {
            tracing::error!(%error, "failed to write the last counts of refusals to the audit trail");
        }
        // Sockets were told to close; give their tasks a moment to let go of connections.
        if tokio::time::timeout(Duration::from_secs(5), state.store.close())
            .await
            .is_err()
        {
            tracing::warn!("the database pool did not close within 5 s");
        }
        served
    }
}

/// Binds with `SO_REUSEADDR` (explicitly: a restarted server must get its fixed port back at
/// once, even while connections of the previous run linger in `TIME_WAIT`).
fn bind(address: SocketAddr) -> anyhow::Result<TcpListener> {
    let socket = match address {
        SocketAddr::V4(_) => TcpSocket::new_v4(),
        SocketAddr::V6(_) => TcpSocket::new_v6(),
    }
    .context("failed to create the listening socket")?;
    socket
        .set_reuseaddr(true)
        .context("failed to set SO_REUSEADDR")?;
    socket
        .bind(address)
        .with_context(|| format!("failed to listen on {address}"))?;
    socket
        .listen(1024)
        .with_context(|| format!("failed to listen on {address}"))
}

/// The whole HTTP surface: `/api/*`, `/ws`, and the web app (or JSON 404s) for everything else.
/// Security headers go on every response, static files included.
fn router(state: AppState, config: &Config) -> anyhow::Result<Router> {
    let api = routes::api_router(state.limits.http_request_timeout);
    let mut app = Router::new()
        .nest(API_PREFIX, api)
        .route(WS_PATH, get(ws::handler))
        // Metrics live on their own listener (`--metrics-bind`); here the path is not the app's.
        .route("/metrics", get(|| async { AppError::NotFound }));
    app = match &config.static_dir {
        Some(dir) => app.fallback_service(http::static_files::router(dir)),
        None => app.fallback(|| async { AppError::NotFound }),
    };
    app = app.layer(http::cors::layer(state.security.origins())?);
    Ok(http::security_headers::add(app, &state.security)
        .layer(
            // Method and path only: no query string, no headers (Authorization), no bodies.
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request<_>| {
                    tracing::info_span!(
                        "http",
                        method = %request.method(),
                        path = %request.uri().path(),
                    )
                })
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .with_state(state))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
