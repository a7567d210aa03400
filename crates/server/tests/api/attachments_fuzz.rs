//! Property tests of what an upload goes through before anything is stored: the real type
//! sniffing, metadata stripping (JPEG, PNG, HEIC) and thumbnailing, and the name check, fed
//! arbitrary bytes, arbitrary bytes behind each accepted signature, and real fixtures with
//! bytes flipped or cut off. They must never panic: every input is either refused cleanly
//! (415 `unsupported_file_type`) or gives a file of the sniffed type, without GPS.
//!
//! 2 000 cases per property by default; `PROPTEST_CASES=200000` for a long run.

use crate::attachment_fixtures::*;
use colloque_protocol::ErrorCode;
use colloque_server::attachments::{
    AttachmentLimits, parse_name, sanitize, sniff::sniff, thumbnail::thumbnail,
};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, FileFailurePersistence};

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(2_000);
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Off)),
        ..ProptestConfig::default()
    }
}

/// Arbitrary bytes, or arbitrary bytes behind one of the accepted signatures.
fn upload_like() -> impl Strategy<Value = Vec<u8>> {
    let signatures: Vec<Vec<u8>> = vec![
        b"%PDF-".to_vec(),
        vec![0xFF, 0xD8, 0xFF],
        b"\x89PNG\r\n\x1a\n".to_vec(),
        b"\0\0\0\x18ftypheic\0\0\0\0mif1heic".to_vec(),
        b"\0\0\0\x18ftypmif1\0\0\0\0mif1heic".to_vec(),
    ];
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..2048),
        (
            prop::sample::select(signatures),
            prop::collection::vec(any::<u8>(), 0..2048)
        )
            .prop_map(|(mut head, tail)| {
                head.extend(tail);
                head
            }),
    ]
}

/// A real fixture with some bytes changed and maybe its end cut off.
fn damaged_fixture() -> impl Strategy<Value = Vec<u8>> {
    let fixtures = vec![jpeg_with_gps(), png_with_metadata(), heic_with_gps(), pdf()];
    (
        prop::sample::select(fixtures),
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
        any::<prop::sample::Index>(),
        any::<bool>(),
    )
        .prop_map(|(mut bytes, flips, cut, truncate)| {
            for (at, value) in flips {
                let at = at.index(bytes.len());
                bytes[at] = value;
            }
            if truncate {
                bytes.truncate(cut.index(bytes.len() + 1));
            }
            bytes
        })
}

fn check(bytes: &[u8]) -> Result<(), TestCaseError> {
    match sanitize(bytes) {
        Ok((kind, stored)) => {
            prop_assert_eq!(sniff(&stored), Some(kind), "the stored file is of its type");
            prop_assert!(stored.len() <= bytes.len() + 64);
            prop_assert!(
                !has_gps_in_metadata(&stored),
                "no GPS left where readers look"
            );
            // Stripping what was stripped changes nothing more.
            let (again_kind, again) = sanitize(&stored).expect("a stored file is accepted again");
            prop_assert_eq!(again_kind, kind);
            prop_assert_eq!(again, stored.clone());
            let _ = thumbnail(kind, &stored);
        }
        Err(refusal) => {
            let error = refusal.into_error(&AttachmentLimits::default());
            prop_assert_eq!(error.status().as_u16(), 415);
            prop_assert_eq!(error.code(), ErrorCode::UnsupportedFileType);
        }
    }
    Ok(())
}

/// GPS in a place an image reader looks for metadata (a JPEG's APP1, a PNG's eXIf): what
/// stripping must leave none of. (Arbitrary bytes may of course spell a GPS IFD inside the
/// image data itself, which no reader takes for metadata.)
fn has_gps_in_metadata(bytes: &[u8]) -> bool {
    exif::Reader::new()
        .read_from_container(&mut std::io::Cursor::new(bytes))
        .is_ok_and(|exif| exif.fields().any(|f| f.tag.context() == exif::Context::Gps))
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_uploads_are_refused_cleanly_or_stored_without_metadata(bytes in upload_like()) {
        check(&bytes)?;
    }

    #[test]
    fn damaged_photos_are_refused_cleanly_or_stored_without_metadata(bytes in damaged_fixture()) {
        check(&bytes)?;
    }

    #[test]
    fn arbitrary_names_are_kept_or_refused_cleanly(name in any::<String>()) {
        match parse_name(&name) {
            Ok(kept) => {
                prop_assert!(!kept.is_empty() && kept.chars().count() <= 255);
                prop_assert!(!kept.contains(['/', '\\']) && !kept.chars().any(char::is_control));
            }
            Err(error) => prop_assert_eq!(error.status().as_u16(), 400),
        }
    }
}
