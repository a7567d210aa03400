//! Login, logout and the current user.

use super::requests::{Api, Error, request};
use colloque_protocol::{LoginRequest, LoginResponse, UserProfile};
use gloo_net::http::Method;

/// `POST /api/auth/login`.
pub async fn login(api: &Api, email: &str, password: &str) -> Result<LoginResponse, Error> {
    let body = LoginRequest {
        email: email.trim().to_owned(),
        password: password.to_owned(),
    };
    request(api, Method::POST, "/auth/login", &[], Some(&body)).await
}

/// `POST /api/auth/logout`: revokes the session server-side. Never renews: a refused token
/// means the session is already over.
pub async fn logout(api: &Api) -> Result<(), Error> {
    let api = api.clone().without_renewer();
    request::<(), ()>(&api, Method::POST, "/auth/logout", &[], None).await
}

/// `POST /api/auth/refresh`: a new token for the same session (the old one still valid).
pub async fn refresh(api: &Api) -> Result<LoginResponse, Error> {
    let api = api.clone().without_renewer();
    request::<(), _>(&api, Method::POST, "/auth/refresh", &[], None).await
}

/// `GET /api/me`.
pub async fn me(api: &Api) -> Result<UserProfile, Error> {
    request::<(), _>(api, Method::GET, "/me", &[], None).await
}
