//! The composer's files: the two pickers (a file, or a photo taken now) and one chip per
//! picked file with its progress, its cancel, its error in plain words and its retry.

use crate::components::error_view::error_text;
use crate::hooks::use_attachments::{AttachmentsHandle, ChipState, MAX_FILES};
use crate::i18n::{I18n, Key, Lang};
use colloque_protocol::AttachmentType;
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// What the file picker offers: the accepted types (the server sniffs the bytes anyway).
/// `image/jpeg` first makes iOS hand over a JPEG rather than its HEIC where it can.
const ACCEPT: &str = "application/pdf,image/jpeg,image/png,image/heic,image/heif,.heic,.heif";

/// A size in words, without floating-point formatting (it weighs on the wasm bundle):
/// "850 o", "12 Ko", "1,4 Mo" (English: B, kB, MB).
pub fn format_size(bytes: u64, lang: Lang) -> String {
    let (b, kb, mb, sep) = match lang {
        Lang::Fr => ("o", "Ko", "Mo", ','),
        Lang::En => ("B", "kB", "MB", '.'),
    };
    if bytes < 1_000 {
        format!("{bytes} {b}")
    } else if bytes < 999_500 {
        format!("{} {kb}", (bytes + 500) / 1_000)
    } else {
        let tenths = (bytes + 50_000) / 100_000;
        format!("{}{sep}{} {mb}", tenths / 10, tenths % 10)
    }
}

/// The two pickers. Each picked file starts uploading at once.
pub fn pickers(i18n: &I18n, files: &AttachmentsHandle) -> Html {
    let full = files.chips.list.len() >= MAX_FILES;
    let onchange = {
        let files = files.clone();
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            let picked: Vec<web_sys::File> = input
                .files()
                .map(|list| {
                    (0..list.length())
                        .filter_map(|i| list.get(i))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default();
            // Emptied, so that picking the same file again (after a cancel) is a change.
            input.set_value("");
            if !picked.is_empty() {
                files.add(picked);
            }
        })
    };
    html! {
        <div class="attach-pickers">
            <label class={classes!("button", "secondary", "attach-button", full.then_some("disabled"))}>
                <input type="file" class="visually-hidden" data-testid="attach-file" accept={ACCEPT}
                    multiple=true disabled={full} onchange={onchange.clone()} aria-describedby="attach-hint" />
                { i18n.t(Key::AttachFile) }
            </label>
            <label class={classes!("button", "secondary", "attach-button", full.then_some("disabled"))}>
                <input type="file" class="visually-hidden" data-testid="attach-photo" accept="image/*"
                    capture="environment" disabled={full} {onchange} aria-describedby="attach-hint" />
                { i18n.t(Key::TakePhoto) }
            </label>
            <span id="attach-hint" class="muted">{ i18n.t(Key::AttachHint) }</span>
        </div>
    }
}

/// The picked files, one chip each.
pub fn chips(i18n: &I18n, files: &AttachmentsHandle) -> Html {
    let list = &files.chips.list;
    let notice = files.chips.notice.map(|key| {
        html! { <p class="notice" role="alert" data-testid="attach-notice">{ i18n.t(key) }</p> }
    });
    if list.is_empty() {
        return html! { <>{ for notice }</> };
    }
    let pdf = list.iter().any(|c| match &c.state {
        ChipState::Done(meta) => meta.content_type == AttachmentType::Pdf,
        _ => c.name.to_ascii_lowercase().ends_with(".pdf"),
    });
    let chips = list.iter().map(|chip| {
        let key = chip.key;
        let cancel = {
            let files = files.clone();
            Callback::from(move |_: MouseEvent| files.cancel(key))
        };
        let size = format_size(chip.size as u64, i18n.lang);
        let (state, body) = match &chip.state {
            ChipState::Uploading { sent, total } => {
                let max = (*total as u64).max(1);
                let value = (*sent as u64).min(max);
                let percent = (value * 100 / max).to_string();
                let body = html! {
                    <>
                        <progress max={max.to_string()} value={value.to_string()}
                            aria-label={chip.name.clone()} data-testid="file-progress" />
                        <span class="muted">{ i18n.tf(Key::FileUploading, &[&percent]) }</span>
                    </>
                };
                ("uploading", body)
            }
            ChipState::Done(_) => (
                "done",
                html! { <span class="muted" data-testid="file-ready">{ i18n.t(Key::FileReady) }</span> },
            ),
            ChipState::Failed(error) => {
                let retry = crate::services::attachments::can_retry(error).then(|| {
                    let files = files.clone();
                    let onclick = Callback::from(move |_: MouseEvent| files.retry(key));
                    html! {
                        <button type="button" class="secondary" data-testid="file-retry" {onclick}
                            aria-label={i18n.tf(Key::RetryFile, &[&chip.name])}>{ i18n.t(Key::Retry) }</button>
                    }
                });
                let body = html! {
                    <>
                        <p class="failed-reason" role="alert" data-testid="file-error">{ error_text(i18n, error) }</p>
                        { for retry }
                    </>
                };
                ("failed", body)
            }
        };
        html! {
            <li key={key} class={classes!("file-chip", state)} data-testid="file-chip" data-state={state}>
                <span class="file-name">{ chip.name.clone() }</span>
                <span class="muted">{ size }</span>
                { body }
                <button type="button" class="secondary" data-testid="file-cancel" onclick={cancel}
                    aria-label={i18n.tf(Key::CancelFile, &[&chip.name])}>{ i18n.t(Key::Cancel) }</button>
            </li>
        }
    });
    html! {
        <>
            <ul class="file-chips" aria-label={i18n.t(Key::FilesLabel)} data-testid="file-chips">{ for chips }</ul>
            { for notice }
            if pdf {
                <p class="muted" data-testid="pdf-as-is">{ i18n.t(Key::PdfAsIs) }</p>
            }
        </>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_in_each_language_without_floats() {
        assert_eq!(format_size(850, Lang::Fr), "850 o");
        assert_eq!(format_size(12_400, Lang::Fr), "12 Ko");
        assert_eq!(format_size(1_440_000, Lang::Fr), "1,4 Mo");
        assert_eq!(format_size(1_440_000, Lang::En), "1.4 MB");
        assert_eq!(format_size(10_000_000, Lang::En), "10.0 MB");
        assert_eq!(format_size(999_999, Lang::En), "1.0 MB");
        assert_eq!(format_size(999_499, Lang::En), "999 kB");
    }
}
