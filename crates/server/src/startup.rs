//! Building and running the server (zero2prod's `Application`): everything is constructed and
//! the port is bound in [`Application::build`], so a test can read [`Application::port`] before
//! spawning [`Application::run_until_stopped`].

use crate::audit::{self, Action, Entry, Source};
use crate::auth::{PasswordHasher, SessionTouches, TokenService, load_or_create_secret};
use crate::chat::SendQueue;
use crate::config::Config;
use crate::delivery::Delivery;
use crate::error::AppError;
use crate::metrics::Metrics;
use crate::security::Security;
use crate::state::{AppState, Throttles};
use crate::store::{self, Store};
use crate::util::now_ms;
use crate::{demo, routes, ws};
use anyhow::Context;
use axum::Router;
use axum::http::{HeaderName, HeaderValue, Method, Request, StatusCode, header};
use axum::routing::get;
use colloque_protocol::{API_PREFIX, WS_PATH};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::watch;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;
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
    /// secret, opens the database and runs migrations, purges old audit entries, loads the demo
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
        let (incoming, from_bus) = tokio::sync::mpsc::channel(8_192);
        let bus = crate::bus::connect(config.nats_url.as_deref(), incoming).await?;
        let metrics = Metrics::default();
        let delivery = Delivery::new(
            store.clone(),
            bus,
            config.limits.ws_queue,
            config.limits.session_idle,
            metrics.clone(),
        );
        let sends = SendQueue::start(store.clone(), delivery.clone());
        let state = AppState {
            store,
            tokens,
            passwords,
            delivery,
            metrics,
            sends,
            touches: SessionTouches::default(),
            throttles: Throttles::new(&config.limits),
            sockets: crate::ws::Admission::new(
                config.limits.ws_max_sockets,
                config.limits.ws_unauthenticated_per_address,
            ),
            limits: Arc::new(config.limits.clone()),
            security: Arc::new(security),
        };
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
    /// (code 1001), lets in-flight requests finish and closes the database. The listening
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
        let background = [
            tokio::spawn(audit::purge_daily(
                state.store.clone(),
                self.audit_retention_days,
            )),
            tokio::spawn(sweep_revoked_sessions(state.clone())),
            tokio::spawn(delete_ended_sessions(state.clone())),
            tokio::spawn(crate::auth::write_touches_periodically(
                state.touches.clone(),
                state.store.clone(),
                state.limits.session_idle,
            )),
            tokio::spawn(state.delivery.clone().run(
                self.from_bus,
                state.limits.delivery_sweep,
                state.limits.delivery_sweep_bus_down,
            )),
        ];
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

/// Closes the sockets of sessions that ended elsewhere: an account disabled by the admin CLI
/// (another process), a session revoked by another server process, or one that went idle or
/// reached its end. Logout in this process closes its sockets at once; this catches the rest
/// within [`crate::config::Limits::revocation_check`].
async fn sweep_revoked_sessions(state: AppState) {
    let mut every = tokio::time::interval(state.limits.revocation_check);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        match state.delivery.recheck_sessions(None).await {
            Ok(users) if users.is_empty() => {}
            Ok(users) => {
                tracing::info!(users = users.len(), "closed the sockets of ended sessions");
                for user in users {
                    let entry =
                        Entry::new(Action::SessionRevoked, Some(user)).detail("sockets closed");
                    state.store.audit(&Source::system(), entry).await;
                }
            }
            Err(error) => tracing::error!(%error, "failed to check the sessions of open sockets"),
        }
    }
}

/// HSTS (two years, subdomains included) on answers to requests that reached the proxy over
/// TLS: a trusted proxy says so with `X-Forwarded-Proto: https`. Over plain HTTP the header
/// would be ignored by browsers, and from an untrusted peer the claim means nothing.
async fn strict_transport_security(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: Request<axum::body::Body>,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let peer = request
        .extensions()
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip());
    let over_tls = peer.is_some_and(|peer| {
        state
            .security
            .trusted_proxies
            .iter()
            .any(|net| net.contains(&peer))
    }) && request
        .headers()
        .get("x-forwarded-proto")
        .is_some_and(|proto| proto.as_bytes().eq_ignore_ascii_case(b"https"));
    let mut response = next.run(request).await;
    if over_tls {
        response.headers_mut().insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        );
    }
    response
}

/// Deletes the sessions that ended more than a day ago, at start and then every
/// [`crate::config::Limits::session_sweep`], so the table holds live sessions and recent ones,
/// not every login since the server was installed.
async fn delete_ended_sessions(state: AppState) {
    let mut every = tokio::time::interval(state.limits.session_sweep);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let now = now_ms();
        let cutoff = crate::auth::idle_cutoff(state.limits.session_idle, now);
        match state.store.delete_expired_sessions(now, cutoff).await {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(deleted, "deleted ended sessions"),
            Err(error) => tracing::error!(%error, "failed to delete ended sessions"),
        }
    }
}

/// The whole HTTP surface: `/api/*`, `/ws`, and the web app (or JSON 404s) for everything else.
/// Security headers go on every response, static files included.
fn router(state: AppState, config: &Config) -> anyhow::Result<Router> {
    let deadline = state.limits.http_request_timeout;
    let api = routes::api_router().layer(axum::middleware::from_fn(
        move |request: Request<axum::body::Body>, next: axum::middleware::Next| {
            crate::serve::request_deadline(deadline, request, next)
        },
    ));
    let mut app = Router::new()
        .nest(API_PREFIX, api)
        .route(WS_PATH, get(ws::handler))
        // Metrics live on their own listener (`--metrics-bind`); here the path is not the app's.
        .route("/metrics", get(|| async { AppError::NotFound }));
    app = match &config.static_dir {
        Some(dir) => app.fallback_service(static_files(dir)),
        None => app.fallback(|| async { AppError::NotFound }),
    };
    app = app.layer(cors(state.security.origins())?);
    Ok(app
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            state.security.csp.clone(),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        // No other window keeps a handle on the app's, and no other site embeds its files.
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("cross-origin-resource-policy"),
            HeaderValue::from_static("same-origin"),
        ))
        // The app uses none of these; a script injected anyway could not either.
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static(
                "camera=(), microphone=(), geolocation=(), payment=(), usb=(), \
                 interest-cohort=()",
            ),
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            strict_transport_security,
        ))
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

/// The built web app. Deep links (`/medecin/messages/3`) are app routes, not files: every
/// other path gets index.html and the app's router takes over. The brotli or gzip copy that
/// `cargo xtask build` writes next to a file is sent when the browser accepts it.
///
/// Caching: trunk names every asset after a hash of its content (`colloque-<16 hex>_bg.wasm`),
/// so such a file never changes and a browser may keep it for a year; index.html and
/// config.json keep their names, so they are revalidated on every load and a new deployment
/// is picked up at once.
fn static_files(dir: &Path) -> Router {
    let index = dir.join("index.html");
    if !index.is_file() {
        tracing::warn!(path = %index.display(), "the static directory has no index.html");
    }
    let files = ServeDir::new(dir)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(
            ServeFile::new(index)
                .precompressed_br()
                .precompressed_gzip(),
        );
    Router::new()
        .fallback_service(files)
        .layer(axum::middleware::from_fn(static_cache_control))
}

async fn static_cache_control(
    request: Request<axum::body::Body>,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let hashed = is_content_hashed(request.uri().path());
    let mut response = next.run(request).await;
    // index.html answers for missing files too: only a real hashed asset is immutable.
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(b"text/html"));
    // A 304 carries the headers a cache copies onto its stored copy: keep the year there too.
    let fresh = response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED;
    let value = if hashed && fresh && !is_html {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    // The answer depends on Accept-Encoding (a brotli or gzip copy): a cache in front of the
    // server must not hand one browser's encoding to another.
    headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    response
}

/// Whether a path names a content-hashed file: `…/name-<hex>.ext` or `…/name-<hex>_bg.wasm`,
/// with 8 to 16 hex digits (trunk does not pad its hashes; `cargo xtask build` renames the
/// wasm and JS after the hash of their final bytes, 16 digits). Works on bytes: a path may
/// hold any UTF-8.
fn is_content_hashed(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default().as_bytes();
    let Some(dot) = name.iter().position(|&b| b == b'.') else {
        return false;
    };
    let stem = &name[..dot];
    let Some(dash) = stem.iter().rposition(|&b| b == b'-') else {
        return false;
    };
    let tail = &stem[dash + 1..];
    let digits = tail.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    let rest = &tail[digits..];
    (8..=16).contains(&digits) && (rest.is_empty() || rest.starts_with(b"_"))
}

/// Cross-origin calls from the allowed origins only (the same list as the WebSocket's).
fn cors(origins: &[String]) -> anyhow::Result<CorsLayer> {
    let origins = origins
        .iter()
        .map(|origin| {
            HeaderValue::from_str(origin.trim())
                .with_context(|| format!("invalid allowed origin {origin:?}"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .expose_headers([HeaderName::from_static("www-authenticate")])
        .max_age(Duration::from_secs(3600)))
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

#[cfg(test)]
mod tests {
    use super::is_content_hashed;

    #[test]
    fn only_trunks_content_hashed_names_count_as_immutable() {
        for hashed in [
            "/colloque-e52948a2040c9c43_bg.wasm",
            "/colloque-e52948a2040c9c43.js",
            "/favicon-faecd9f2a6510f8f.svg",
            // trunk does not pad: a 15-digit hash is still a hash.
            "/colloque-e52948a2040c9c4.js",
        ] {
            assert!(is_content_hashed(hashed), "{hashed}");
        }
        for plain in [
            "/",
            "/index.html",
            "/config.json",
            "/medecin/messages/3",
            "/colloque_bg.wasm",
            "/colloque-e529.js",
            "/colloque-e52948a2040c9c43x.js",
            "/colloque-e52948a2040c9c43a0.js",
            "/a-xééééééééé.js",
            "/é-é.é",
            "/-",
            "/colloque-zz52948a2040c9c43.js",
            "/patient/messages/e52948a2040c9c43",
            "/a-e52948a2040c9c43",
        ] {
            assert!(!is_content_hashed(plain), "{plain}");
        }
    }
}
