//! End to end (issue 13, attachments in the app): Emma, on her phone (360 px), attaches a photo
//! taken now and, from her files, her lab results as a PDF and an HTML page named `.png`. Each
//! uploads at once; the page is refused in plain words that list the accepted types, the other
//! two are ready; she writes a word, sends, and finds both in her Mes documents. Dr Martin (1280 px) sees the photo's thumbnail
//! (fetched with his token: a real decoded image), opens the PDF (its bytes reach the page),
//! and finds both in Mes documents and in the conversation's Documents. axe-core checks the
//! composer with its files and the Documents page.
//!
//! Run it through `cargo xtask test` (see `tests/e2e.rs`). Waits are bounded polls for a DOM
//! condition, never fixed sleeps, and no test asserts a wall-clock duration.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use serde_json::json;
use std::path::Path;
use support::axe::{axe_source, serious_violations};
use support::{Browser, E2e};

const PATIENT: &str = "emma.petit@colloque.test";
const DOCTOR: &str = "dr.martin@colloque.test";
const TEXT: &str = "Voici la photo de mon bras et mes analyses";

/// A 320×240 photo, as a phone's camera would hand it over (JPEG).
fn photo() -> Vec<u8> {
    let image = image::RgbImage::from_fn(320, 240, |x, y| {
        image::Rgb([200 - (y / 3) as u8, 120 + (x / 8) as u8, 110])
    });
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 85)
        .encode_image(&image)
        .expect("encode the photo");
    bytes
}

/// A small, valid PDF.
fn pdf() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n\
      2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n\
      trailer << /Root 1 0 R >>\n%%EOF\n"
        .to_vec()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write a fixture");
    path.display().to_string()
}

/// The composer's chips: (name, state).
async fn chips(browser: &Browser) -> Vec<(String, String)> {
    let found = browser
        .execute(
            "return [...document.querySelectorAll(\"[data-testid='file-chip']\")]
                .map(c => [c.querySelector('.file-name').textContent, c.dataset.state]);",
            vec![],
        )
        .await;
    serde_json::from_value(found).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patient_sends_a_photo_and_a_pdf_from_her_phone_and_the_doctor_opens_and_finds_them() {
    let axe = axe_source();
    let files = tempfile::tempdir().expect("a folder for the files");
    let photo = write(files.path(), "bras.jpg", &photo());
    let analyses = write(files.path(), "analyses.pdf", &pdf());
    let fake = write(
        files.path(),
        "page.png",
        b"<!doctype html><html><body>not an image</body></html>",
    );
    let e2e = E2e::start("attachments").await;
    let patient = e2e.browser(360, 740).await;
    let doctor = e2e.browser(1280, 900).await;
    let mut violations = Vec::new();

    // 1. Emma opens her conversation with Dr Martin and attaches a photo taken now...
    patient.login(PATIENT).await;
    patient
        .open_conversation_named("/patient/messages", "Claire Martin")
        .await;
    patient.wait_online().await;
    patient
        .wait_testid("attach-photo")
        .await
        .send_keys(&photo)
        .await
        .expect("take the photo");
    // ...and two files from her phone: the PDF, and a web page saved as `.png`.
    patient
        .wait_testid("attach-file")
        .await
        .send_keys(&format!("{analyses}\n{fake}"))
        .await
        .expect("pick the files");
    let refused = patient
        .wait_for_element_containing("[data-testid='file-error']", "Fichiers acceptés")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        refused.contains("PDF, JPEG, PNG et HEIC"),
        "the refusal lists the accepted types: {refused}"
    );
    patient
        .wait_until(|| async {
            let chips = chips(&patient).await;
            let ready = |name: &str| chips.iter().any(|(n, s)| n == name && s == "done");
            (ready("bras.jpg") && ready("analyses.pdf")).then_some(())
        })
        .await;
    assert!(
        chips(&patient)
            .await
            .contains(&("page.png".to_owned(), "failed".to_owned()))
    );
    patient.wait_testid("pdf-as-is").await;
    // A file alone asks for a word; the text is typed, and the refused file holds nothing up.
    patient.wait_testid("add-a-word").await;
    patient
        .wait_testid("composer-input")
        .await
        .send_keys(TEXT)
        .await
        .expect("type the text");
    patient.screenshot("1-patient-attach").await;
    for v in serious_violations(&patient, &axe).await {
        violations.push(format!("composer with files: {v}"));
    }
    let send = patient
        .wait_until(|| async {
            let button = patient.find_css("[data-testid='composer-send']").await?;
            button.is_enabled().await.ok()?.then_some(button)
        })
        .await;
    send.click().await.expect("send");
    let sent = patient.wait_message("sent", TEXT).await;
    patient
        .wait_until(|| async {
            let n = patient
                .execute(
                    "return document.querySelectorAll(\"[data-testid='message'][data-status='sent'] [data-testid='file-open']\").length;",
                    vec![],
                )
                .await;
            (n == json!(2)).then_some(())
        })
        .await;
    drop(sent);
    patient.screenshot("2-patient-sent").await;
    // Her own Mes documents has both (a deep link: the page loads and the session resumes).
    patient.goto("/patient/documents").await;
    let rows = patient
        .wait_until(|| async {
            let rows = patient.texts("[data-testid='document']").await;
            (rows.len() == 2).then_some(rows)
        })
        .await;
    assert!(
        rows.iter()
            .all(|r| r.contains("Envoyé par vous à Dr Claire Martin")),
        "{rows:?}"
    );

    // 2. Dr Martin sees the photo's thumbnail, a real image fetched with his token.
    doctor.login(DOCTOR).await;
    doctor.goto("/medecin/messages").await;
    doctor
        .wait_for_element_containing("[data-testid='conversation-item']", "Emma Petit")
        .await
        .click()
        .await
        .expect("open Emma's exchange");
    doctor
        .wait_for_element_containing("[data-testid='message']", TEXT)
        .await;
    let width = doctor
        .wait_until(|| async {
            let width = doctor
                .execute(
                    "const img = document.querySelector(\"[data-testid='file-thumbnail']\");
                     return img && img.complete && img.naturalWidth > 0
                        ? [img.naturalWidth, img.alt, img.src.slice(0, 5)] : null;",
                    vec![],
                )
                .await;
            (!width.is_null()).then_some(width)
        })
        .await;
    assert_eq!(
        width,
        json!([320, "bras.jpg", "blob:"]),
        "the thumbnail, 320 px wide"
    );

    // He opens the PDF: its bytes are handed to the browser as a download named after it.
    doctor
        .execute(
            // The page's CSP keeps `fetch` off `blob:` URLs: the Blob is read where it is made.
            "window.__downloads = [];
             window.__blobs = {};
             const make = URL.createObjectURL;
             URL.createObjectURL = function (blob) {
                 const url = make.call(URL, blob);
                 window.__blobs[url] = blob;
                 return url;
             };
             HTMLAnchorElement.prototype.click = function () {
                 const name = this.download;
                 window.__blobs[this.href].text()
                     .then(t => window.__downloads.push([name, t.slice(0, 8)]));
             };",
            vec![],
        )
        .await;
    doctor
        .click_css("[data-testid='file-open'][data-kind='application/pdf']")
        .await;
    let downloads = doctor
        .wait_until(|| async {
            let d = doctor.execute("return window.__downloads;", vec![]).await;
            (d.as_array().is_some_and(|a| !a.is_empty())).then_some(d)
        })
        .await;
    assert_eq!(downloads, json!([["analyses.pdf", "%PDF-1.4"]]));
    // Tapping the photo opens it whole.
    doctor
        .click_css("[data-testid='file-open'][data-kind='image/jpeg']")
        .await;
    doctor.wait_testid("image-viewer").await;
    doctor
        .click_css("[data-testid='image-viewer'] button")
        .await;

    // 3. Both are in the conversation's Documents, and in Mes documents.
    doctor.click_testid("show-documents").await;
    doctor
        .wait_for_element_containing("[data-testid='document']", "analyses.pdf")
        .await;
    doctor
        .wait_for_element_containing("nav a", "Mes documents")
        .await
        .click()
        .await
        .expect("the navigation leads to the documents");
    let rows = doctor
        .wait_until(|| async {
            let rows = doctor.texts("[data-testid='document']").await;
            (rows.len() == 2).then_some(rows)
        })
        .await;
    assert!(
        rows[0].contains("analyses.pdf") || rows[1].contains("analyses.pdf"),
        "{rows:?}"
    );
    assert!(
        rows.iter()
            .any(|r| r.contains("bras.jpg") && r.contains("Emma Petit")),
        "{rows:?}"
    );
    assert!(
        !rows.iter().any(|r| r.contains("page.png")),
        "the refused file was never stored"
    );
    doctor.screenshot("3-doctor-documents").await;
    for v in serious_violations(&doctor, &axe).await {
        violations.push(format!("documents page: {v}"));
    }

    assert!(violations.is_empty(), "axe: {violations:#?}");
    patient.close().await;
    doctor.close().await;
}

/// Emma picks the wrong photo and sends while it is still uploading (a weak signal: the
/// browser holds the upload). She calls the message back: the upload stops, the message is
/// never sent, its text is back in the composer. She picks the right photo and sends: Dr
/// Martin gets the text once, with the right photo only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patient_calls_back_a_message_waiting_for_the_wrong_photo_and_sends_the_right_one() {
    const WORDS: &str = "Voici la photo de ma cheville";
    let files = tempfile::tempdir().expect("a folder for the files");
    let wrong = write(files.path(), "facture.jpg", &photo());
    let right = write(files.path(), "cheville.jpg", &photo());
    let e2e = E2e::start("attachments-cancel").await;
    let patient = e2e.browser(360, 740).await;
    let doctor = e2e.browser(1280, 900).await;

    patient.login(PATIENT).await;
    patient
        .open_conversation_named("/patient/messages", "Claire Martin")
        .await;
    patient.wait_online().await;
    // Every upload waits in the browser, as on a signal too weak to carry it.
    patient
        .cdp(
            "Fetch.enable",
            json!({"patterns": [{"urlPattern": "*/api/attachments?*"}]}),
        )
        .await;
    patient
        .wait_testid("attach-photo")
        .await
        .send_keys(&wrong)
        .await
        .expect("take the wrong photo");
    patient
        .wait_testid("composer-input")
        .await
        .send_keys(WORDS)
        .await
        .expect("type the text");
    patient.click_testid("composer-send").await;
    patient
        .wait_for_element_containing("[data-testid='file-awaiting']", "facture.jpg")
        .await;
    patient
        .screenshot("1-patient-waiting-for-the-wrong-photo")
        .await;

    patient.click_testid("message-cancel").await;
    patient
        .wait_until(|| async {
            let value = patient
                .execute(
                    "const el = document.querySelector(\"[data-testid='composer-input']\");
                     return document.activeElement === el ? el.value : null;",
                    vec![],
                )
                .await;
            (value == json!(WORDS)).then_some(())
        })
        .await;
    assert!(
        !patient
            .texts("[data-testid='message']")
            .await
            .iter()
            .any(|m| m.contains(WORDS)),
        "the message left the thread"
    );
    patient.screenshot("2-patient-text-back").await;

    // The signal is back; she takes the right photo and sends the same words.
    patient.cdp("Fetch.disable", json!({})).await;
    patient
        .wait_testid("attach-photo")
        .await
        .send_keys(&right)
        .await
        .expect("take the right photo");
    patient
        .wait_until(|| async {
            let chips = chips(&patient).await;
            (chips == [("cheville.jpg".to_owned(), "done".to_owned())]).then_some(())
        })
        .await;
    patient.click_testid("composer-send").await;
    patient.wait_message("sent", WORDS).await;

    doctor.login(DOCTOR).await;
    doctor
        .open_conversation_named("/medecin/messages", "Emma Petit")
        .await;
    doctor
        .wait_for_element_containing("[data-testid='message']", WORDS)
        .await;
    let files_shown = doctor
        .wait_until(|| async {
            let names = doctor
                .execute(
                    "return [...document.querySelectorAll(\"[data-testid='message']\")]
                        .map(m => [m.querySelector(\"[data-testid='message-body']\").textContent,
                                   [...m.querySelectorAll('img[alt]')].map(i => i.alt)])
                        .filter(([body]) => body === arguments[0]);",
                    vec![json!(WORDS)],
                )
                .await;
            (names.to_string().contains("cheville.jpg")).then_some(names)
        })
        .await;
    assert_eq!(
        files_shown,
        json!([[WORDS, ["cheville.jpg"]]]),
        "the words once, with the right photo only"
    );
    assert!(
        !doctor.source().await.contains("facture.jpg"),
        "the wrong photo never reached him"
    );
    doctor.screenshot("3-doctor-right-photo").await;
    patient.close().await;
    doctor.close().await;
}
