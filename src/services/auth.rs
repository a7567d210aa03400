//! Login (and its second step), logout, token renewal, the current user, and the account's
//! sessions, password and multi-factor authentication.

use super::requests::{Api, Error, decode, request, request_raw};
use colloque_protocol::{
    ChangePasswordRequest, LoginRequest, LoginResponse, MfaChallenge, MfaCodeRequest,
    MfaDisableRequest, MfaEnrolment, MfaLoginRequest, MfaStatus, RecoveryCodes, SessionHandle,
    SessionInfo, UserProfile,
};
use gloo_net::http::Method;

/// What a right password gives.
pub enum LoginOutcome {
    /// A session (and its refresh cookie, HttpOnly: the app never sees it).
    Session(LoginResponse),
    /// The account has multi-factor authentication: a code is needed with this challenge.
    Mfa(MfaChallenge),
}

/// `POST /api/auth/login`.
pub async fn login(api: &Api, email: &str, password: &str) -> Result<LoginOutcome, Error> {
    let body = LoginRequest {
        email: email.trim().to_owned(),
        password: password.to_owned(),
    };
    let (status, text) = request_raw(api, Method::POST, "/auth/login", Some(&body)).await?;
    if status == 202 {
        return decode(status, &text).map(LoginOutcome::Mfa);
    }
    decode(status, &text).map(LoginOutcome::Session)
}

/// `POST /api/auth/login/mfa`: the login's second step, with a code of the authenticator app
/// or a recovery code.
pub async fn login_mfa(api: &Api, challenge: &str, code: &str) -> Result<LoginResponse, Error> {
    let body = MfaLoginRequest {
        challenge: challenge.to_owned(),
        code: code.trim().to_owned(),
    };
    request(api, Method::POST, "/auth/login/mfa", &[], Some(&body)).await
}

/// `GET /api/me/mfa`.
pub async fn mfa_status(api: &Api) -> Result<MfaStatus, Error> {
    request::<(), _>(api, Method::GET, "/me/mfa", &[], None).await
}

/// `POST /api/me/mfa/enrol`: a new secret, pending until confirmed.
pub async fn mfa_enrol(api: &Api) -> Result<MfaEnrolment, Error> {
    request::<(), _>(api, Method::POST, "/me/mfa/enrol", &[], None).await
}

/// `POST /api/me/mfa/confirm`: MFA on; the recovery codes, shown once.
pub async fn mfa_confirm(api: &Api, code: String) -> Result<RecoveryCodes, Error> {
    let body = MfaCodeRequest { code };
    request(api, Method::POST, "/me/mfa/confirm", &[], Some(&body)).await
}

/// `POST /api/me/mfa/disable`.
pub async fn mfa_disable(api: &Api, password: String, code: String) -> Result<(), Error> {
    let body = MfaDisableRequest { password, code };
    request(api, Method::POST, "/me/mfa/disable", &[], Some(&body)).await
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
