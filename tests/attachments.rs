//! Browser tests of attachments in the app (issue 13; docs/attachments.md, "The app"): each
//! picked file uploads at once with its progress, a cancel, its error in plain words and a
//! retry; Send takes the uploaded files by id and waits for the ones still uploading; the
//! thread shows a photo's thumbnail fetched with the token and a PDF as a row.
//!
//! The whole app is rendered ([`common::app`]); `fetch` answers from a table, the WebSocket is
//! in memory, and `XMLHttpRequest` (which the uploads and downloads use, for their progress)
//! is replaced by a recorder that the test answers request by request: progress, an answer,
//! a network failure. Waits are bounded polls, never fixed sleeps.
#![cfg(target_arch = "wasm32")]

mod common;

use colloque::crypto::OutboxKey;
use colloque::hooks::outbox::{self, Content};
use colloque_protocol::{
    AttachmentId, AttachmentMeta, AttachmentType, ClientFrame, ClientMsgId, ConversationId,
    Message, MessageId, MessageKind, Seq, ServerFrame, Timestamp, TriageState,
};
use common::app::*;
use common::care::*;
use common::{OUTBOX_KEY, PATIENT, install_fetch};
use serde_json::json;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const CONV: ConversationId = ConversationId(11);

/// Replaces `XMLHttpRequest` by a recorder: every sent request lands in `window.__xhrs`, and
/// `__xhrProgress` / `__xhrFinish` answer it.
fn install_xhr() {
    js_sys::eval(
        r#"
        window.__xhrs = [];
        window.XMLHttpRequest = function () {
            const x = this;
            x.upload = {onprogress: null};
            x.status = 0; x.responseText = ""; x.response = null; x.responseType = "";
            x.headers = {}; x.withCredentials = false; x.aborted = false; x.done = false;
            x.onloadend = null;
            x.open = function (m, u) { x.method = m; x.url = u; };
            x.setRequestHeader = function (k, v) { x.headers[k.toLowerCase()] = v; };
            x.send = function (body) { x.body = body; window.__xhrs.push(x); };
            x.abort = function () {
                if (x.done) return;
                x.aborted = true; x.done = true; x.status = 0;
                if (x.onloadend) x.onloadend();
            };
        };
        window.__xhrProgress = function (i, loaded, total) {
            const x = window.__xhrs[i];
            x.upload.onprogress(new ProgressEvent("progress", {lengthComputable: true, loaded, total}));
        };
        window.__xhrFinish = function (i, status, text) {
            const x = window.__xhrs[i];
            x.status = status;
            if (x.responseType === "blob") x.response = new Blob([text], {type: "image/jpeg"});
            else x.responseText = text;
            x.done = true;
            x.onloadend();
        };
        "#,
    )
    .expect("install the fake XMLHttpRequest");
}

fn xhr_count() -> u32 {
    js_sys::eval("window.__xhrs.length")
        .unwrap()
        .as_f64()
        .unwrap() as u32
}

/// A field of request `i` ("method", "url", "aborted", "body.name", "headers.authorization").
fn xhr(i: u32, field: &str) -> JsValue {
    js_sys::eval(&format!("window.__xhrs[{i}].{field}")).unwrap()
}

fn xhr_str(i: u32, field: &str) -> String {
    xhr(i, field).as_string().unwrap_or_default()
}

fn progress(i: u32, loaded: u32, total: u32) {
    js_sys::eval(&format!("window.__xhrProgress({i}, {loaded}, {total})")).unwrap();
}

fn finish(i: u32, status: u16, body: &serde_json::Value) {
    let text = serde_json::to_string(&body.to_string()).unwrap();
    js_sys::eval(&format!("window.__xhrFinish({i}, {status}, {text})")).unwrap();
}

/// Picks files (name, MIME type) in the picker `testid`, as a user would.
fn pick(app: &Mounted, testid: &str, files: &[(&str, &str)]) {
    let input = app.testid(testid).expect("a file picker");
    let list = js_sys::Array::new();
    for (name, kind) in files {
        list.push(&json!([name, kind]).to_string().into());
    }
    js_sys::Function::new_with_args(
        "input, files",
        "const dt = new DataTransfer();
         for (const f of files) { const [n, t] = JSON.parse(f); dt.items.add(new File(['x'.repeat(2000)], n, {type: t})); }
         input.files = dt.files;
         input.dispatchEvent(new Event('change', {bubbles: true}));",
    )
    .call2(&JsValue::NULL, &input, &list)
    .unwrap();
}

fn meta(n: u128, name: &str, kind: AttachmentType, thumbnail: bool) -> AttachmentMeta {
    AttachmentMeta {
        id: AttachmentId(uuid::Uuid::from_u128(n)),
        name: name.into(),
        content_type: kind,
        size: 1_440_000,
        has_thumbnail: thumbnail,
    }
}

fn chips(app: &Mounted) -> Vec<(String, String)> {
    let list = app
        .root
        .query_selector_all("[data-testid='file-chip']")
        .unwrap();
    (0..list.length())
        .filter_map(|i| list.item(i))
        .map(wasm_bindgen::JsCast::unchecked_into::<web_sys::Element>)
        .map(|e| {
            let name = e
                .query_selector(".file-name")
                .unwrap()
                .and_then(|n| n.text_content())
                .unwrap_or_default();
            (name, e.get_attribute("data-state").unwrap_or_default())
        })
        .collect()
}

fn sends(app: &Mounted) -> Vec<(String, Vec<AttachmentId>)> {
    app.server
        .sent
        .borrow()
        .iter()
        .filter_map(|f| match f {
            ClientFrame::Send {
                body,
                attachment_ids,
                ..
            } => Some((body.clone(), attachment_ids.clone())),
            _ => None,
        })
        .collect()
}

/// Lucas's conversation open (with `messages`), the socket ready.
async fn mounted(messages: serde_json::Value) -> Mounted {
    mounted_with(messages, &[]).await
}

/// [`mounted`], with these entries in Lucas's stored outbox (left by a closed tab).
async fn mounted_with(messages: serde_json::Value, stored: &[outbox::OutboxEntry]) -> Mounted {
    reset_storage();
    if !stored.is_empty() {
        local()
            .set_item(
                &outbox::storage_key(PATIENT),
                &serde_json::to_string(stored).unwrap(),
            )
            .unwrap();
    }
    install_xhr();
    install_fetch(&[
        (
            "GET /api/conversations",
            200,
            json_of(&vec![summary(11, TriageState::InProgress, None)]),
        ),
        (
            "GET /api/conversations/11/messages",
            200,
            json!({"messages": messages, "has_more": false}),
        ),
    ]);
    // With its outbox key: pending messages are sealed into the outbox at once.
    let mut session = session(lucas());
    session.outbox_key = OutboxKey::from_base64(OUTBOX_KEY);
    let app = Setup::at("/patient/messages/11").logged_in(session).mount();
    app.until("the socket", |a| a.server.events.borrow().is_some())
        .await;
    app.server.push(ServerFrame::Ready { user: lucas() });
    app.until("the composer", |a| a.testid("attach-file").is_some())
        .await;
    app
}

#[wasm_bindgen_test]
async fn a_picked_photo_uploads_at_once_with_its_progress_and_goes_with_the_text_by_id() {
    let app = mounted(json!([])).await;
    pick(&app, "attach-photo", &[("photo bras.jpg", "image/jpeg")]);
    app.until("the upload", |_| xhr_count() == 1).await;
    assert_eq!(xhr_str(0, "method"), "POST");
    assert_eq!(
        xhr_str(0, "url"),
        "/api/attachments?name=photo%20bras.jpg",
        "the name in the query, encoded"
    );
    assert_eq!(xhr_str(0, "headers.authorization"), "Bearer t");
    assert_eq!(
        xhr_str(0, "body.name"),
        "photo bras.jpg",
        "the raw file as the body"
    );
    assert_eq!(chips(&app), [("photo bras.jpg".into(), "uploading".into())]);

    progress(0, 500, 2000);
    app.until("25 %", |a| text(a, "file-chips").contains("Envoi… 25 %"))
        .await;
    let bar = app.testid("file-progress").unwrap();
    assert_eq!(bar.get_attribute("value").as_deref(), Some("500"));
    assert_eq!(bar.get_attribute("max").as_deref(), Some("2000"));
    // The text can be typed meanwhile; a file alone asks for a word.
    assert!(app.testid("add-a-word").is_some());
    assert!(
        app.testid("composer-send")
            .unwrap()
            .has_attribute("disabled")
    );

    let stored = meta(7, "photo bras.jpg", AttachmentType::Jpeg, true);
    finish(0, 201, &json_of(&stored));
    app.until("ready", |a| {
        chips(a) == [("photo bras.jpg".to_owned(), "done".to_owned())]
    })
    .await;
    write_and_send(&app, "Voici mon bras").await;
    app.until("the send frame", |a| !sends(a).is_empty()).await;
    assert_eq!(
        sends(&app),
        [("Voici mon bras".to_owned(), vec![stored.id])]
    );
    assert!(chips(&app).is_empty(), "the composer starts empty");
}

#[wasm_bindgen_test]
async fn a_refused_file_says_the_accepted_types_a_failed_one_retries_and_a_cancel_drops_it() {
    let app = mounted(json!([])).await;
    pick(
        &app,
        "attach-file",
        &[
            ("page.png", "image/png"),
            ("analyse.pdf", "application/pdf"),
        ],
    );
    app.until("two uploads", |_| xhr_count() == 2).await;
    finish(
        0,
        415,
        &json!({"code": "unsupported_file_type", "message": "accepted: PDF, JPEG, PNG"}),
    );
    app.until("the refusal", |a| {
        text(a, "file-error").contains("Fichiers acceptés : PDF, JPEG, PNG et HEIC")
    })
    .await;
    assert!(
        app.testid("file-retry").is_none(),
        "the same file would be refused again: no retry"
    );
    // The network fails for the other one: that one can be tried again.
    finish(1, 0, &json!(null));
    app.until("two failures", |a| {
        chips(a).iter().filter(|c| c.1 == "failed").count() == 2
    })
    .await;
    assert!(
        app.root
            .text_content()
            .unwrap()
            .contains("Impossible de joindre le serveur")
    );
    app.click("file-retry");
    app.until("a new upload", |_| xhr_count() == 3).await;
    assert_eq!(xhr_str(2, "body.name"), "analyse.pdf");
    assert_eq!(
        chips(&app)[1],
        ("analyse.pdf".to_owned(), "uploading".to_owned())
    );
    assert!(
        app.testid("pdf-as-is").is_some(),
        "a PDF is said to go as it is"
    );

    // Annuler: the request is aborted and the chip goes; the refused one stays until removed.
    let cancel = app
        .root
        .query_selector_all("[data-testid='file-cancel']")
        .unwrap()
        .item(1)
        .unwrap();
    wasm_bindgen::JsCast::unchecked_into::<web_sys::HtmlElement>(cancel).click();
    app.until("the chip gone", |a| chips(a).len() == 1).await;
    assert_eq!(xhr(2, "aborted"), JsValue::TRUE);

    // The failed file does not hold the text back.
    write_and_send(&app, "Mes résultats").await;
    app.until("the send frame", |a| !sends(a).is_empty()).await;
    assert_eq!(sends(&app), [("Mes résultats".to_owned(), Vec::new())]);
}

#[wasm_bindgen_test]
async fn more_than_four_files_are_refused_in_plain_words() {
    let app = mounted(json!([])).await;
    let five: Vec<(String, &str)> = (1..=5)
        .map(|i| (format!("p{i}.jpg"), "image/jpeg"))
        .collect();
    let five: Vec<(&str, &str)> = five.iter().map(|(n, t)| (n.as_str(), *t)).collect();
    pick(&app, "attach-file", &five);
    app.until("four uploads", |_| xhr_count() == 4).await;
    app.until("the notice", |a| {
        text(a, "attach-notice").contains("4 fichiers au plus")
    })
    .await;
    assert_eq!(chips(&app).len(), 4);
    assert!(app.testid("attach-file").unwrap().has_attribute("disabled"));
}

#[wasm_bindgen_test]
async fn a_message_sent_while_its_file_uploads_waits_for_it_then_goes_with_it() {
    let app = mounted(json!([])).await;
    pick(
        &app,
        "attach-file",
        &[("ordonnance.pdf", "application/pdf")],
    );
    app.until("the upload", |_| xhr_count() == 1).await;
    assert!(
        app.testid("files-wait").is_none(),
        "no text yet: a word is asked first"
    );
    write_and_send(&app, "Ma dernière ordonnance").await;
    app.until("the waiting message", |a| {
        a.testid("file-awaiting").is_some()
    })
    .await;
    assert!(text(&app, "file-awaiting").contains("ordonnance.pdf"));
    assert!(sends(&app).is_empty(), "not sent before its file");
    // In the sealed outbox at once, with the name of the file it waits for: a reload now
    // sends the text and names the file to pick again.
    let sealed = stored_until(|c| !c.awaiting.is_empty()).await;
    assert_eq!(sealed.body, "Ma dernière ordonnance");
    assert_eq!(sealed.awaiting, ["ordonnance.pdf"]);
    // A word written after it waits behind it: Dr Martin reads them in the order written.
    write_and_send(&app, "Merci beaucoup").await;
    app.until("the second message shown", |a| {
        text(a, "message-list").contains("Merci beaucoup")
    })
    .await;
    assert!(
        sends(&app).is_empty(),
        "nothing goes before the file's message"
    );

    let stored = meta(9, "ordonnance.pdf", AttachmentType::Pdf, false);
    finish(0, 201, &json_of(&stored));
    app.until("both send frames", |a| sends(a).len() == 2).await;
    assert_eq!(
        sends(&app),
        [
            ("Ma dernière ordonnance".to_owned(), vec![stored.id]),
            ("Merci beaucoup".to_owned(), vec![]),
        ]
    );
    app.until("the file in the pending message", |a| {
        a.testid("file-awaiting").is_none() && a.testid("file-open").is_some()
    })
    .await;
    let sealed =
        stored_until(|c| c.awaiting.is_empty() && c.body == "Ma dernière ordonnance").await;
    assert_eq!(sealed.attachments, [stored], "sealed again with its file");
}

#[wasm_bindgen_test]
async fn a_message_waiting_for_the_wrong_photo_is_cancelled_its_text_returns_and_the_next_goes() {
    let app = mounted(json!([])).await;
    pick(&app, "attach-file", &[("mauvaise-photo.jpg", "image/jpeg")]);
    app.until("the upload", |_| xhr_count() == 1).await;
    write_and_send(&app, "Voici la photo de ma cheville").await;
    app.until("the waiting message", |a| {
        a.testid("file-awaiting").is_some()
    })
    .await;
    stored_until(|c| c.body == "Voici la photo de ma cheville").await;
    write_and_send(&app, "Merci beaucoup").await;
    app.until("the second message shown", |a| {
        text(a, "message-list").contains("Merci beaucoup")
    })
    .await;
    assert!(sends(&app).is_empty(), "both wait for the file");
    assert_eq!(
        app.one("[data-testid='message-cancel']")
            .and_then(|b| b.text_content())
            .as_deref(),
        Some("Annuler l’envoi"),
        "only the message waiting for its file can be called back"
    );
    let cancels = app
        .root
        .query_selector_all("[data-testid='message-cancel']")
        .unwrap();
    assert_eq!(cancels.length(), 1);

    app.click("message-cancel");
    app.until("the message gone from the thread", |a| {
        !text(a, "message-list").contains("Voici la photo")
    })
    .await;
    assert_eq!(xhr(0, "aborted"), JsValue::TRUE, "its upload stopped");
    // The word written after it waited behind it only: it goes now, alone.
    app.until("the second message sent", |a| !sends(a).is_empty())
        .await;
    assert_eq!(sends(&app), [("Merci beaucoup".to_owned(), vec![])]);
    // Its text is back in the composer, which has the focus, ready for the right photo.
    let input: web_sys::HtmlTextAreaElement =
        wasm_bindgen::JsCast::unchecked_into(app.testid("composer-input").expect("the composer"));
    assert_eq!(input.value(), "Voici la photo de ma cheville");
    assert_eq!(
        document()
            .active_element()
            .and_then(|e| e.get_attribute("data-testid"))
            .as_deref(),
        Some("composer-input")
    );
    assert!(app.testid("file-awaiting").is_none());
    // And it left the sealed outbox: a reload will not send it.
    stored_until(|c| c.body == "Merci beaucoup").await;
    let key = OutboxKey::from_base64(OUTBOX_KEY).unwrap();
    for _ in 0..50 {
        yew::scheduler::flush().await;
        let mut bodies = Vec::new();
        for entry in outbox::stored(PATIENT) {
            if let Some(content) = outbox::open(&key, PATIENT, &entry).await {
                bodies.push(content.body);
            }
        }
        if bodies == ["Merci beaucoup"] {
            return;
        }
        gloo_timers::future::TimeoutFuture::new(20).await;
    }
    panic!("the cancelled message stayed in the outbox");
}

/// A message of Lucas's stored outbox, opened with his key, once `check` holds for it.
async fn stored_until(check: impl Fn(&Content) -> bool) -> Content {
    let key = OutboxKey::from_base64(OUTBOX_KEY).unwrap();
    for _ in 0..250 {
        yew::scheduler::flush().await;
        for entry in outbox::stored(PATIENT) {
            if let Some(content) = outbox::open(&key, PATIENT, &entry).await
                && check(&content)
            {
                return content;
            }
        }
        gloo_timers::future::TimeoutFuture::new(20).await;
    }
    panic!("the outbox never held the expected message");
}

#[wasm_bindgen_test]
async fn the_thread_shows_a_photos_thumbnail_fetched_with_the_token_and_a_pdf_row() {
    let photo = meta(21, "eruption.jpg", AttachmentType::Jpeg, true);
    let pdf = meta(22, "bilan sanguin.pdf", AttachmentType::Pdf, false);
    let message = Message {
        id: MessageId(101),
        conversation_id: CONV,
        seq: Seq(1),
        sender_id: PATIENT,
        client_id: ClientMsgId(uuid::Uuid::from_u128(1)),
        body: "Voici".into(),
        sent_at: Timestamp(now() - 60_000),
        kind: MessageKind::Text,
        attachments: vec![photo.clone(), pdf.clone()],
    };
    let app = mounted(json!([json_of(&message)])).await;
    app.until("the thumbnail request", |_| xhr_count() == 1)
        .await;
    assert_eq!(xhr_str(0, "method"), "GET");
    assert_eq!(
        xhr_str(0, "url"),
        format!("/api/attachments/{}/thumbnail", photo.id)
    );
    assert_eq!(xhr_str(0, "headers.authorization"), "Bearer t");
    assert_eq!(xhr_str(0, "responseType"), "blob");
    finish(0, 200, &json!("jpeg bytes"));
    app.until("the thumbnail", |a| a.testid("file-thumbnail").is_some())
        .await;
    let img = app.testid("file-thumbnail").unwrap();
    assert!(img.get_attribute("src").unwrap().starts_with("blob:"));
    assert_eq!(img.get_attribute("alt").as_deref(), Some("eruption.jpg"));

    let rows = app
        .root
        .query_selector_all("[data-testid='file-open']")
        .unwrap();
    assert_eq!(rows.length(), 2);
    let pdf_row = app
        .one("[data-testid='file-open'][data-kind='application/pdf']")
        .unwrap();
    let words = pdf_row.text_content().unwrap();
    assert!(
        words.starts_with("Ouvrir PDF") && words.contains("bilan sanguin.pdf · 1,4 Mo"),
        "{words}"
    );

    // Tapping the photo fetches the full image and opens it in the viewer.
    click_css(&app, "[data-testid='file-open'][data-kind='image/jpeg']");
    app.until("the full image request", |_| xhr_count() == 2)
        .await;
    assert_eq!(xhr_str(1, "url"), format!("/api/attachments/{}", photo.id));
    finish(1, 200, &json!("full jpeg"));
    app.until("the viewer", |a| a.testid("image-viewer").is_some())
        .await;
    let full = app.one("[data-testid='image-viewer'] img").unwrap();
    assert!(full.get_attribute("src").unwrap().starts_with("blob:"));
    assert_eq!(full.get_attribute("alt").as_deref(), Some("eruption.jpg"));
    app.until("the focus on Fermer", |_| {
        document()
            .active_element()
            .and_then(|e| e.text_content())
            .as_deref()
            == Some("Fermer")
    })
    .await;
    // Escape closes it.
    js_sys::Function::new_with_args(
        "el",
        "el.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape', bubbles: true}));",
    )
    .call1(&JsValue::NULL, &document().active_element().unwrap())
    .unwrap();
    app.until("the viewer closed", |a| a.testid("image-viewer").is_none())
        .await;
}

#[wasm_bindgen_test]
async fn after_a_reload_cut_an_upload_the_text_goes_and_the_file_to_pick_again_is_named() {
    let key = OutboxKey::from_base64(OUTBOX_KEY).unwrap();
    let client_id = ClientMsgId(uuid::Uuid::new_v4());
    let created_at = Timestamp(now() - 5_000);
    let ready = meta(31, "scan.png", AttachmentType::Png, true);
    let content = Content {
        conversation_id: CONV,
        body: "Le scan et la photo".into(),
        urgent: false,
        template_id: None,
        attachments: vec![ready.clone()],
        awaiting: vec!["photo.heic".into()],
    };
    let sealed = outbox::seal(&key, PATIENT, client_id, created_at, &content)
        .await
        .unwrap();
    let entry = outbox::OutboxEntry {
        client_id,
        created_at,
        failed: None,
        tab: "a-closed-tab".into(),
        lease: 0,
        sealed,
    };
    let app = mounted_with(json!([]), &[entry]).await;
    app.until("the notice", |a| {
        text(a, "files-lost").contains("photo.heic")
    })
    .await;
    assert!(text(&app, "files-lost").contains("Choisissez-le de nouveau"));
    app.until("the send frame", |a| !sends(a).is_empty()).await;
    assert_eq!(
        sends(&app),
        [("Le scan et la photo".to_owned(), vec![ready.id])],
        "the text and the uploaded file go; the cut-off one does not hold them"
    );
    click_css(&app, "[data-testid='files-lost'] button");
    app.until("the notice read", |a| a.testid("files-lost").is_none())
        .await;
}

#[wasm_bindgen_test]
async fn typing_beside_an_attached_file_keeps_the_composer_focused() {
    let app = mounted(json!([])).await;
    pick(
        &app,
        "attach-file",
        &[("ordonnance.pdf", "application/pdf")],
    );
    app.until("the upload", |_| xhr_count() == 1).await;
    finish(
        0,
        201,
        &json_of(&meta(3, "ordonnance.pdf", AttachmentType::Pdf, false)),
    );
    app.until("ready", |a| a.testid("file-ready").is_some())
        .await;
    let input = app.testid("composer-input").unwrap();
    wasm_bindgen::JsCast::unchecked_ref::<web_sys::HtmlElement>(&input)
        .focus()
        .unwrap();
    js_sys::Function::new_with_args(
        "el",
        "el.value = 'V'; el.dispatchEvent(new Event('input', {bubbles: true}));",
    )
    .call1(&JsValue::NULL, &input)
    .unwrap();
    app.until("the hint gone", |a| a.testid("add-a-word").is_none())
        .await;
    let now = app.testid("composer-input").unwrap();
    assert!(now.is_same_node(Some(&input)), "the same text field");
    let active = document().active_element().unwrap();
    assert_eq!(
        active.get_attribute("data-testid").as_deref(),
        Some("composer-input"),
        "{}",
        active.outer_html()
    );
}

#[wasm_bindgen_test]
async fn documents_list_each_file_with_its_type_date_and_sender_and_page_on() {
    let doc = |n: u128, name: &str, kind, author: colloque_protocol::UserId, position: i64| {
        json!({
            "attachment": json_of(&meta(n, name, kind, false)),
            "position": position,
            "author_id": author.0,
            "conversation_id": 11,
            "message_id": 100 + position,
            "sent_at": now() - 3_600_000,
        })
    };
    let app = mounted(json!([])).await;
    install_fetch(&[
        (
            "GET /api/conversations",
            200,
            json_of(&vec![summary(11, TriageState::InProgress, None)]),
        ),
        (
            "GET /api/conversations/11/messages",
            200,
            json!({"messages": [], "has_more": false}),
        ),
        (
            "GET /api/conversations/11/attachments",
            200,
            json!({"documents": [
                doc(41, "ordonnance.pdf", AttachmentType::Pdf, common::DOCTOR, 9),
                doc(42, "bras.jpg", AttachmentType::Jpeg, PATIENT, 8),
            ], "has_more": true}),
        ),
        (
            "GET /api/conversations/11/attachments?before=8",
            200,
            json!({"documents": [doc(43, "ancien.pdf", AttachmentType::Pdf, PATIENT, 2)], "has_more": false}),
        ),
    ]);
    app.click("show-documents");
    app.until("two documents", |a| {
        a.root
            .query_selector_all("[data-testid='document']")
            .unwrap()
            .length()
            == 2
    })
    .await;
    let words = text(&app, "documents");
    assert!(words.contains("ordonnance.pdf"), "{words}");
    assert!(words.contains("Document PDF"), "{words}");
    assert!(words.contains("Envoyé par Dr Claire Martin"), "{words}");
    assert!(words.contains("Envoyé par vous"), "{words}");
    assert!(
        !words.contains("Envoyé par vous à"),
        "one conversation: {words}"
    );
    assert!(
        app.testid("composer-input").is_some(),
        "the composer is kept, hidden"
    );
    click_css(&app, "[data-testid='documents'] > button");
    app.until("the older page", |a| {
        text(a, "documents").contains("ancien.pdf")
    })
    .await;
    assert_eq!(
        common::calls("GET /api/conversations/11/attachments?before=8"),
        1
    );
}
