//! Browser tests of the encrypted outbox (issue 10, "Nothing readable is left in the browser"):
//! WebCrypto AES-GCM sealing and what it refuses to open, and what the app does with what it
//! finds in storage: entries another key sealed or older than a day are dropped and the user
//! told, a reloaded tab without its key leaves them sealed, the login screen purges expired
//! entries and other users' outboxes, and a shared-computer login keeps nothing.
//!
//! The whole app is rendered; only `fetch` and the WebSocket are replaced (`common::app`).
#![cfg(target_arch = "wasm32")]

mod common;

use colloque::crypto::{OutboxKey, Sealed};
use colloque::hooks::outbox::{self, Content, OutboxEntry};
use colloque::session::Session;
use colloque_protocol::{
    ClientMsgId, ConversationId, LoginResponse, OutboxKey as WireKey, Role, SessionHandle,
    Timestamp, UserId,
};
use common::app::{Setup, entries, local, reset_storage, session_storage};
use common::{OTHER_OUTBOX_KEY, OUTBOX_KEY, PATIENT, install_fetch, profile};
use serde_json::json;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const DAY_MS: i64 = 24 * 3_600_000;

fn key(text: &str) -> OutboxKey {
    OutboxKey::from_base64(text).expect("a 256-bit key")
}

fn now() -> Timestamp {
    Timestamp(js_sys::Date::now() as i64)
}

fn session(outbox_key: Option<OutboxKey>) -> Session {
    Session {
        token: "t".into(),
        expires_at: Timestamp(now().0 + 15 * 60_000),
        user: profile(PATIENT, Role::Patient, "Lucas Bernard"),
        handle: SessionHandle("5e55".into()),
        outbox_key,
        shared: false,
        mfa_enrolment_required: false,
    }
}

/// An entry of `user`'s outbox left by a closed tab, sealed with `sealing_key`.
async fn entry(sealing_key: &str, user: UserId, body: &str, created_at: Timestamp) -> OutboxEntry {
    let client_id = ClientMsgId(uuid::Uuid::new_v4());
    let content = Content {
        conversation_id: ConversationId(10),
        body: body.into(),
        urgent: false,
        template_id: None,
        attachments: Vec::new(),
        awaiting: Vec::new(),
    };
    let sealed = outbox::seal(&key(sealing_key), user, client_id, created_at, &content)
        .await
        .expect("sealed");
    OutboxEntry {
        client_id,
        created_at,
        failed: None,
        tab: "a-closed-tab".into(),
        lease: 0,
        sealed,
    }
}

fn store(user: UserId, entries: &[OutboxEntry]) {
    local()
        .set_item(
            &outbox::storage_key(user),
            &serde_json::to_string(entries).unwrap(),
        )
        .unwrap();
}

fn stored(user: UserId) -> Option<String> {
    local().get_item(&outbox::storage_key(user)).unwrap()
}

// ---------- the cipher ----------

#[wasm_bindgen_test]
async fn a_sealed_text_opens_with_its_key_and_additional_data_and_each_sealing_has_a_fresh_iv() {
    let key = key(OUTBOX_KEY);
    let text = "J’ai encore de la fièvre depuis hier soir.".as_bytes();
    let one = key.seal(text, b"entry 1").await.expect("sealed");
    let two = key.seal(text, b"entry 1").await.expect("sealed");
    assert_ne!(one.iv, two.iv, "a fresh IV for each sealing");
    assert_ne!(one.data, two.data);
    assert_eq!(
        colloque::crypto::base64::decode(&one.iv).unwrap().len(),
        12,
        "96 bits"
    );
    assert_eq!(
        colloque::crypto::base64::decode(&one.data).unwrap().len(),
        text.len() + 16,
        "the ciphertext and its 128-bit tag"
    );
    let sealed = colloque::crypto::base64::decode(&one.data).unwrap();
    assert!(
        !sealed
            .windows("fièvre".len())
            .any(|w| w == "fièvre".as_bytes()),
        "nothing of the text shows"
    );
    assert_eq!(key.open(&one, b"entry 1").await.as_deref(), Some(text));
    assert_eq!(key.open(&two, b"entry 1").await.as_deref(), Some(text));
}

#[wasm_bindgen_test]
async fn a_changed_byte_other_additional_data_or_another_key_does_not_open() {
    let key_a = key(OUTBOX_KEY);
    let sealed = key_a
        .seal(b"Ordonnance de Doliprane", b"aad")
        .await
        .unwrap();
    let flip = |text: &str, at: usize| {
        let mut bytes = colloque::crypto::base64::decode(text).unwrap();
        bytes[at] ^= 1;
        colloque::crypto::base64::encode(&bytes)
    };
    let tampered = [
        // A bit of the ciphertext, of the tag (the last byte), of the IV.
        Sealed {
            data: flip(&sealed.data, 0),
            ..sealed.clone()
        },
        Sealed {
            data: flip(&sealed.data, 23 + 15),
            ..sealed.clone()
        },
        Sealed {
            iv: flip(&sealed.iv, 3),
            ..sealed.clone()
        },
        // Cut short, not base64, an IV of the wrong size.
        Sealed {
            data: sealed.data[..10].into(),
            ..sealed.clone()
        },
        Sealed {
            data: "pas du base64 !".into(),
            ..sealed.clone()
        },
        Sealed {
            iv: "AAAA".into(),
            ..sealed.clone()
        },
    ];
    for bad in &tampered {
        assert_eq!(key_a.open(bad, b"aad").await, None, "{bad:?}");
    }
    assert_eq!(key_a.open(&sealed, b"other aad").await, None);
    assert_eq!(key(OTHER_OUTBOX_KEY).open(&sealed, b"aad").await, None);
    assert!(
        key_a.open(&sealed, b"aad").await.is_some(),
        "and untouched, it opens"
    );
    // Not a key at all.
    assert!(OutboxKey::from_base64("trop-court").is_none());
    assert!(OutboxKey::from_base64(&OUTBOX_KEY[..40]).is_none());
}

#[wasm_bindgen_test]
async fn an_entry_moved_to_another_user_or_another_time_does_not_open() {
    let sealed = entry(OUTBOX_KEY, PATIENT, "Mes résultats", now()).await;
    let key = key(OUTBOX_KEY);
    assert!(outbox::open(&key, PATIENT, &sealed).await.is_some());
    assert_eq!(outbox::open(&key, UserId(2), &sealed).await, None);
    let older = OutboxEntry {
        created_at: Timestamp(sealed.created_at.0 - DAY_MS),
        ..sealed.clone()
    };
    assert_eq!(outbox::open(&key, PATIENT, &older).await, None);
    let other_id = OutboxEntry {
        client_id: ClientMsgId(uuid::Uuid::new_v4()),
        ..sealed
    };
    assert_eq!(outbox::open(&key, PATIENT, &other_id).await, None);
}

// ---------- what the app does with what it finds ----------

#[wasm_bindgen_test]
async fn entries_the_key_cannot_open_are_dropped_and_the_user_is_told_plainly() {
    reset_storage();
    let rotated = entry(OTHER_OUTBOX_KEY, PATIENT, "Sous l’ancienne clé", now()).await;
    let mut corrupted = entry(OUTBOX_KEY, PATIENT, "Abîmé", now()).await;
    let mut bytes = colloque::crypto::base64::decode(&corrupted.sealed.data).unwrap();
    bytes[0] ^= 0x80;
    corrupted.sealed.data = colloque::crypto::base64::encode(&bytes);
    store(PATIENT, &[rotated, corrupted]);
    install_fetch(&[("GET /api/conversations", 200, json!([]))]);
    let app = Setup::at("/patient/messages")
        .logged_in(session(Some(key(OUTBOX_KEY))))
        .mount();
    app.until("the notice", |a| a.testid("outbox-dropped").is_some())
        .await;
    let notice = app
        .testid("outbox-dropped")
        .unwrap()
        .text_content()
        .unwrap();
    assert!(notice.contains("n’ont pas pu être relus (2)"), "{notice}");
    assert_eq!(stored(PATIENT), None, "gone from the browser");
    app.click("outbox-dropped-ok");
    app.until("the notice read", |a| a.testid("outbox-dropped").is_none())
        .await;
}

#[wasm_bindgen_test]
async fn an_entry_older_than_a_day_is_dropped_unread_and_the_user_is_told() {
    reset_storage();
    let old = entry(
        OUTBOX_KEY,
        PATIENT,
        "Écrit avant-hier",
        Timestamp(now().0 - DAY_MS - 60_000),
    )
    .await;
    let fresh = entry(OUTBOX_KEY, PATIENT, "Écrit à l’instant", now()).await;
    let fresh_id = fresh.client_id.to_string();
    store(PATIENT, &[old.clone(), fresh]);
    install_fetch(&[("GET /api/conversations", 200, json!([]))]);
    let app = Setup::at("/patient/messages")
        .logged_in(session(Some(key(OUTBOX_KEY))))
        .mount();
    app.until("the notice", |a| a.testid("outbox-dropped").is_some())
        .await;
    let notice = app
        .testid("outbox-dropped")
        .unwrap()
        .text_content()
        .unwrap();
    assert!(notice.contains("plus de 24 heures"), "{notice}");
    assert!(notice.contains("(1)"), "{notice}");
    app.until("the fresh one kept, as this tab's", |_| {
        stored(PATIENT).is_some_and(|s| s.contains(&fresh_id) && !s.contains("a-closed-tab"))
    })
    .await;
    assert!(
        !stored(PATIENT)
            .unwrap()
            .contains(&old.client_id.to_string()),
        "the old one is gone"
    );
}

#[wasm_bindgen_test]
async fn a_reloaded_tab_without_its_key_leaves_the_stored_messages_sealed_and_counts_them() {
    reset_storage();
    let one = entry(OUTBOX_KEY, PATIENT, "Premier", now()).await;
    let two = entry(OUTBOX_KEY, PATIENT, "Second", now()).await;
    store(PATIENT, &[one, two]);
    let before = stored(PATIENT);
    install_fetch(&[("GET /api/conversations", 200, json!([]))]);
    let app = Setup::at("/patient/messages")
        .logged_in(session(None))
        .mount();
    app.until("the waiting notice", |a| {
        a.testid("outbox-waiting").is_some()
    })
    .await;
    let notice = app
        .testid("outbox-waiting")
        .unwrap()
        .text_content()
        .unwrap();
    assert!(notice.contains("2 messages"), "{notice}");
    assert_eq!(stored(PATIENT), before, "untouched until the key comes");
    assert!(app.testid("outbox-dropped").is_none(), "nothing dropped");
}

#[wasm_bindgen_test]
async fn the_login_screen_purges_expired_entries_and_a_login_purges_other_users_outboxes() {
    reset_storage();
    let other = UserId(7);
    let old = entry(
        OUTBOX_KEY,
        PATIENT,
        "Vieux",
        Timestamp(now().0 - 2 * DAY_MS),
    )
    .await;
    let mine = entry(OUTBOX_KEY, PATIENT, "Récent", now()).await;
    let theirs = entry(OTHER_OUTBOX_KEY, other, "Au suivant", now()).await;
    store(PATIENT, &[old.clone(), mine.clone()]);
    store(other, &[theirs]);
    let login = serde_json::to_value(LoginResponse {
        token: "t".into(),
        expires_at: Timestamp(now().0 + 15 * 60_000),
        user: profile(PATIENT, Role::Patient, "Lucas Bernard"),
        session: SessionHandle("5e55".into()),
        outbox_key: WireKey(OUTBOX_KEY.into()),
        mfa_enrolment_required: false,
    })
    .unwrap();
    install_fetch(&[
        ("POST /api/auth/login", 200, login),
        ("GET /api/conversations", 200, json!([])),
    ]);
    let app = Setup::at("/login").mount();
    app.until("the purge of expired entries", |_| {
        stored(PATIENT).is_some_and(|s| !s.contains(&old.client_id.to_string()))
    })
    .await;
    assert!(
        stored(PATIENT)
            .unwrap()
            .contains(&mine.client_id.to_string())
    );
    assert!(stored(other).is_some(), "nobody has logged in yet");

    app.submit_login("lucas@example.org", "colloque-demo");
    app.until("the patient's home", |a| a.path() == "/patient")
        .await;
    assert_eq!(stored(other), None, "another user's leftovers are gone");
    app.until("her own message read back and kept", |_| {
        stored(PATIENT).is_some_and(|s| s.contains(&mine.client_id.to_string()))
    })
    .await;
}

#[wasm_bindgen_test]
async fn a_shared_computer_login_keeps_nothing_in_the_browser_storage() {
    reset_storage();
    let login = serde_json::to_value(LoginResponse {
        token: "shared-token".into(),
        expires_at: Timestamp(now().0 + 15 * 60_000),
        user: profile(PATIENT, Role::Patient, "Lucas Bernard"),
        session: SessionHandle("5e55".into()),
        outbox_key: WireKey(OUTBOX_KEY.into()),
        mfa_enrolment_required: false,
    })
    .unwrap();
    install_fetch(&[
        ("POST /api/auth/login", 200, login),
        ("GET /api/conversations", 200, json!([])),
    ]);
    let app = Setup::at("/login").mount();
    app.until("the login form", |a| a.testid("login-shared").is_some())
        .await;
    let help = app
        .one("#login-shared-help")
        .and_then(|e| e.text_content())
        .unwrap_or_default();
    assert!(help.contains("perdu si vous fermez"), "{help}");
    app.click("login-shared");
    app.submit_login("lucas@example.org", "colloque-demo");
    app.until("the patient's home", |a| a.path() == "/patient")
        .await;
    app.until("the logout button", |a| a.testid("logout").is_some())
        .await;
    let kept: Vec<String> = entries(&session_storage())
        .into_iter()
        .chain(entries(&local()))
        .map(|(k, _)| k)
        .filter(|k| k != "colloque.lang")
        .collect();
    assert!(kept.is_empty(), "nothing kept: {kept:?}");
}
