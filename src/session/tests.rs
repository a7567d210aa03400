//! The session's pure logic.

use super::*;
use colloque_protocol::Role;

fn session(handle: &str, user: i64, expires_at: i64) -> Session {
    Session {
        token: format!("token-{expires_at}"),
        expires_at: Timestamp(expires_at),
        user: UserProfile {
            id: colloque_protocol::UserId(user),
            role: Role::Patient,
            display_name: "Emma Petit".into(),
            speciality: None,
        },
        handle: SessionName(handle.into()),
        outbox_key: None,
        shared: false,
        mfa_enrolment_required: false,
    }
}

#[test]
fn a_tab_takes_only_a_newer_token_of_its_own_session() {
    let ours = session("a1", 4, 1_000);
    assert!(takes_over(&ours, &session("a1", 4, 2_000)));
    assert!(
        !takes_over(&ours, &session("a1", 4, 1_000)),
        "not the same one"
    );
    assert!(
        !takes_over(&ours, &session("a1", 4, 500)),
        "not an older one"
    );
    assert!(
        !takes_over(&ours, &session("b2", 4, 2_000)),
        "not another session's"
    );
    assert!(
        !takes_over(&ours, &session("a1", 5, 2_000)),
        "not another user's"
    );
}

/// static/shell.js hides the static login form when a session is saved in this tab: it must
/// read the key this module writes (a static script cannot import it).
#[test]
fn the_static_shell_reads_the_saved_session_s_key() {
    crate::shell::assert_static_script_says(&format!("sessionStorage.getItem(\"{STORAGE_KEY}\")"));
}
