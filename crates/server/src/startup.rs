//! Building and running the server (zero2prod's `Application`): everything is constructed and
//! the port is bound in [`Application::build`], so a test can read [`Application::port`] before
//! spawning [`Application::run_until_stopped`].

use crate::auth::{PasswordHasher, TokenService, load_or_create_secret};
use crate::config::Config;
use crate::error::AppError;
use crate::state::AppState;
use crate::util::now_ms;
use crate::ws::Hub;
use crate::{db, demo, routes, ws};
use anyhow::Context;
use axum::Router;
use axum::http::{HeaderName, HeaderValue, Method, Request, header};
use axum::routing::get;
use colloque_protocol::{API_PREFIX, WS_PATH};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;
use tokio::net::TcpListener;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

/// A built, bound, not yet running server.
pub struct Application {
    listener: TcpListener,
    router: Router,
    hub: Hub,
    demo_loaded: bool,
}

impl Application {
    /// Creates the data directory, loads or generates the JWT secret, opens the database and
    /// runs migrations, loads the demo data if asked and the database is empty, and binds.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        create_data_dir(&config.data_dir)?;
        let secret = match &config.jwt_secret {
            Some(secret) => secret.clone(),
            None => load_or_create_secret(&config.secret_path())?,
        };
        let tokens = TokenService::new(&secret, config.token_ttl_secs)?;
        let pool = db::connect(&config.database_path()).await?;
        let purged = db::sessions::delete_expired(&pool, now_ms()).await?;
        if purged > 0 {
            tracing::info!(purged, "deleted expired sessions");
        }
        let cost = config.argon2;
        let passwords = tokio::task::spawn_blocking(move || PasswordHasher::new(cost))
            .await
            .context("failed to set up password hashing")??;
        let demo_loaded = if config.demo {
            demo::load_demo_data_if_empty(&pool, &passwords).await?
        } else {
            false
        };

        let hub = Hub::default();
        let state = AppState {
            db: pool,
            tokens,
            passwords,
            hub: hub.clone(),
        };
        let router = router(state, &config)?;
        let listener = TcpListener::bind(config.bind)
            .await
            .with_context(|| format!("failed to listen on {}", config.bind))?;
        tracing::info!(address = %listener.local_addr()?, "listening");
        Ok(Self {
            listener,
            router,
            hub,
            demo_loaded,
        })
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

    /// Serves until Ctrl-C or SIGTERM, then closes every socket (code 1001) and lets in-flight
    /// requests finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let hub = self.hub;
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(async move {
                shutdown_signal().await;
                tracing::info!("shutting down");
                hub.close_all();
            })
            .await
    }
}

/// The whole HTTP surface: `/api/*`, `/ws`, and the web app (or JSON 404s) for everything else.
fn router(state: AppState, config: &Config) -> anyhow::Result<Router> {
    let mut app = Router::new()
        .nest(API_PREFIX, routes::api_router())
        .route(WS_PATH, get(ws::handler));
    app = match &config.static_dir {
        Some(dir) => {
            let index = dir.join("index.html");
            if !index.is_file() {
                tracing::warn!(path = %index.display(), "the static directory has no index.html");
            }
            // Deep links (/medecin/messages/3) are app routes, not files: serve index.html and
            // let the app's router take over.
            app.fallback_service(ServeDir::new(dir).fallback(ServeFile::new(index)))
        }
        None => app.fallback(|| async { AppError::NotFound }),
    };
    if !config.allowed_origins.is_empty() {
        app = app.layer(cors(&config.allowed_origins)?);
    }
    Ok(app
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

/// Creates the data directory (owner-only on Unix: it holds health data and the secret).
fn create_data_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .with_context(|| format!("failed to create the data directory {}", dir.display()))
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
