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

/// `POST /api/auth/logout`: revokes the token server-side.
pub async fn logout(api: &Api) -> Result<(), Error> {
    request::<(), ()>(api, Method::POST, "/auth/logout", &[], None).await
}

/// `GET /api/me`.
pub async fn me(api: &Api) -> Result<UserProfile, Error> {
    request::<(), _>(api, Method::GET, "/me", &[], None).await
}
