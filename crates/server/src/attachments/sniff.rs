//! The type of a file, from its first bytes only: never from its name nor a header.
//!
//! A checked table of four signatures rather than a general crate: the server accepts four
//! types, and each signature below is the one its format's specification fixes.

use colloque_protocol::AttachmentType;

/// The HEIF brands of HEIC images (HEVC-coded: what iPhones write).
const HEIC_BRANDS: [&[u8; 4]; 8] = [
    b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs",
];

/// The generic HEIF brands: an image (`mif1`) or a sequence (`msf1`) of any codec.
const HEIF_BRANDS: [&[u8; 4]; 2] = [b"mif1", b"msf1"];

/// The accepted type whose signature `bytes` starts with, if any.
///
/// - PDF: `%PDF-` at offset 0 (ISO 32000-1, 7.5.2);
/// - JPEG: `FF D8 FF` (SOI, then the next marker's `FF`);
/// - PNG: the 8-byte signature (RFC 2083, 3.1);
/// - HEIC/HEIF: an ISOBMFF `ftyp` box first (ISO/IEC 14496-12, 4.3) whose major brand is an
///   HEIC brand (`image/heic`), or `mif1`/`msf1` with an HEIC brand among the compatible ones
///   (`image/heif`). AVIF and other HEIF codecs are refused: nothing here could strip them.
pub fn sniff(bytes: &[u8]) -> Option<AttachmentType> {
    if bytes.starts_with(b"%PDF-") {
        return Some(AttachmentType::Pdf);
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(AttachmentType::Jpeg);
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some(AttachmentType::Png);
    }
    heif(bytes)
}

fn heif(bytes: &[u8]) -> Option<AttachmentType> {
    if bytes.get(4..8)? != b"ftyp" {
        return None;
    }
    let size = u32::from_be_bytes(bytes.get(0..4)?.try_into().ok()?) as usize;
    if size < 16 || size > bytes.len() || !size.is_multiple_of(4) {
        return None;
    }
    let major: &[u8; 4] = bytes.get(8..12)?.try_into().ok()?;
    // After the minor version (4 bytes), the compatible brands, four bytes each.
    let compatible: Vec<&[u8]> = bytes[16..size].chunks_exact(4).collect();
    let is_heic = |brand: &[u8]| HEIC_BRANDS.iter().any(|heic| heic.as_slice() == brand);
    if is_heic(major) {
        return Some(AttachmentType::Heic);
    }
    if HEIF_BRANDS.contains(&major) && compatible.iter().any(|brand| is_heic(brand)) {
        return Some(AttachmentType::Heif);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ftyp(major: &[u8; 4], compatible: &[&[u8; 4]]) -> Vec<u8> {
        let size = 16 + 4 * compatible.len();
        let mut bytes = (size as u32).to_be_bytes().to_vec();
        bytes.extend_from_slice(b"ftyp");
        bytes.extend_from_slice(major);
        bytes.extend_from_slice(&[0, 0, 0, 0]);
        for brand in compatible {
            bytes.extend_from_slice(*brand);
        }
        bytes
    }

    #[test]
    fn each_signature_gives_its_type_and_nothing_else_is_accepted() {
        assert_eq!(sniff(b"%PDF-1.7\n"), Some(AttachmentType::Pdf));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(AttachmentType::Jpeg));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some(AttachmentType::Png));
        assert_eq!(
            sniff(&ftyp(b"heic", &[b"mif1", b"heic"])),
            Some(AttachmentType::Heic)
        );
        assert_eq!(
            sniff(&ftyp(b"mif1", &[b"mif1", b"heic"])),
            Some(AttachmentType::Heif)
        );
        for refused in [
            ftyp(b"avif", &[b"mif1", b"avif"]),
            ftyp(b"mif1", &[b"avif"]),
            ftyp(b"isom", &[b"mp41"]),
            b"<!DOCTYPE html><html>".to_vec(),
            b"GIF89a".to_vec(),
            b" %PDF-1.7".to_vec(),
            Vec::new(),
            vec![0xFF, 0xD8],
        ] {
            assert_eq!(sniff(&refused), None, "{refused:?}");
        }
    }
}
