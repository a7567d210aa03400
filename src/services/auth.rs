//! Login, logout, token renewal, the current user, and the account's sessions and password.

use super::requests::{Api, Error, request};
use colloque_protocol::{
    ChangePasswordRequest, LoginRequest, LoginResponse, SessionHandle, SessionInfo, UserProfile,
};
use gloo_net::http::Method;

/// `POST /api/auth/login`. Its answer also sets the session's refresh cookie (HttpOnly: the
/// app never sees it).
pub async fn login(api: &Api, email: &str, password: &str) -> Result<LoginResponse, Error> {
    let body = LoginRequest {
        email: email.trim().to_owned(),
        password: password.to_owned(),
    };
    request(api, Method::POST, "/auth/login", &[], Some(&body)).await
}

/// `POST /api/auth/logout`: revokes the session server-side and clears its refresh cookie.
/// Never renews: a refused token means the session is already over.
pub async fn logout(api: &Api) -> Result<(), Error> {
    let api = api.clone().without_renewer();
    request::<(), ()>(&api, Method::POST, "/auth/logout", &[], None).await
}

/// `POST /api/auth/refresh/{session}`: a new token for the same session, from the refresh
/// cookie the browser sends with this request only. The token before it stops working a few
/// seconds later.
pub async fn refresh(api: &Api, session: &SessionHandle) -> Result<LoginResponse, Error> {
    let api = api.clone().without_renewer();
    let path = format!("/auth/refresh/{session}");
    request::<(), _>(&api, Method::POST, &path, &[], None).await
}

/// `GET /api/me`.
pub async fn me(api: &Api) -> Result<UserProfile, Error> {
    request::<(), _>(api, Method::GET, "/me", &[], None).await
}

/// `GET /api/sessions`: the account's live sessions, this one marked.
pub async fn sessions(api: &Api) -> Result<Vec<SessionInfo>, Error> {
    request::<(), _>(api, Method::GET, "/sessions", &[], None).await
}

/// `POST /api/sessions/{id}/end`: signs that device out.
pub async fn end_session(api: &Api, id: &SessionHandle) -> Result<(), Error> {
    let path = format!("/sessions/{id}/end");
    request::<(), ()>(api, Method::POST, &path, &[], None).await
}

/// `POST /api/me/password`: the other sessions end.
pub async fn change_password(api: &Api, current: String, new: String) -> Result<(), Error> {
    let body = ChangePasswordRequest {
        current_password: current,
        new_password: new,
    };
    request(api, Method::POST, "/me/password", &[], Some(&body)).await
}
