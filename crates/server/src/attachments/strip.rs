//! Removing what a photo says besides its pixels (GPS position, camera, dates, names, XMP
//! edits, comments), without decoding or re-encoding the image.
//!
//! Our own walkers rather than a container crate, because they must also drop what comes after
//! the image's end (a JPEG's trailing Multi-Picture images, each with its own Exif; bytes after
//! a PNG's `IEND`) and walk every scan of a progressive JPEG, which the crates we looked at
//! keep as one opaque tail. Both keep an allow-list: anything not known to be pixels, colour
//! or layout is dropped.

/// The file is not a well-formed image of its sniffed type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unreadable;

/// A JPEG with only its image segments: SOFn, DHT, DQT, DRI, SOS and their scans, and of the
/// application segments only JFIF (`APP0`), the ICC colour profile (`APP2`) and Adobe's colour
/// transform (`APP14`). Exif (`APP1`, GPS included), XMP, Photoshop's IPTC, comments and every
/// other `APPn` are dropped, and so is everything after `EOI`. The Exif orientation is kept, as
/// a new Exif segment holding that one tag, so the photo stays the right way up.
pub fn strip_jpeg(bytes: &[u8]) -> Result<Vec<u8>, Unreadable> {
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return Err(Unreadable);
    }
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&[0xFF, 0xD8]);
    let mut orientation = None;
    let mut at = 2;
    loop {
        // Fill bytes (FF FF …) may come before a marker.
        if bytes.get(at) != Some(&0xFF) {
            return Err(Unreadable);
        }
        while bytes.get(at) == Some(&0xFF) {
            at += 1;
        }
        let marker = *bytes.get(at).ok_or(Unreadable)?;
        at += 1;
        match marker {
            0xD9 => {
                out.extend_from_slice(&[0xFF, 0xD9]);
                return Ok(with_orientation(out, orientation));
            }
            // Markers without a length.
            0x01 | 0xD0..=0xD7 => {
                out.extend_from_slice(&[0xFF, marker]);
                continue;
            }
            0x00 | 0xD8 => return Err(Unreadable),
            _ => {}
        }
        let length = usize::from(u16::from_be_bytes([
            *bytes.get(at).ok_or(Unreadable)?,
            *bytes.get(at + 1).ok_or(Unreadable)?,
        ]));
        if length < 2 {
            return Err(Unreadable);
        }
        let segment = bytes.get(at..at + length).ok_or(Unreadable)?;
        let contents = &segment[2..];
        at += length;
        if marker == 0xE1 && orientation.is_none() {
            orientation = contents
                .strip_prefix(b"Exif\0\0")
                .and_then(exif_orientation);
        }
        if keep_jpeg_segment(marker, contents) {
            out.extend_from_slice(&[0xFF, marker]);
            out.extend_from_slice(segment);
        }
        if marker == 0xDA {
            // The entropy-coded scan runs to the next marker: an FF that is neither stuffing
            // (FF 00) nor a restart marker (FF D0–D7), which are part of the scan.
            let start = at;
            loop {
                let next = bytes.get(at..).ok_or(Unreadable)?;
                let offset = next.iter().position(|&b| b == 0xFF).ok_or(Unreadable)?;
                at += offset;
                match bytes.get(at + 1) {
                    Some(0x00 | 0xD0..=0xD7) => at += 2,
                    Some(_) => break,
                    None => return Err(Unreadable),
                }
            }
            out.extend_from_slice(&bytes[start..at]);
        }
    }
}

fn keep_jpeg_segment(marker: u8, contents: &[u8]) -> bool {
    match marker {
        0xE0 => contents.starts_with(b"JFIF\0"),
        0xE2 => contents.starts_with(b"ICC_PROFILE\0"),
        0xEE => contents.starts_with(b"Adobe"),
        // Every other APPn, and COM.
        0xE1 | 0xE3..=0xED | 0xEF | 0xFE => false,
        _ => true,
    }
}

/// The Exif orientation (1–8) in IFD0 of a TIFF structure, if it says one.
pub fn exif_orientation(tiff: &[u8]) -> Option<u16> {
    let big_endian = match tiff.get(0..2)? {
        b"MM" => true,
        b"II" => false,
        _ => return None,
    };
    let u16_at = |at: usize| -> Option<u16> {
        let b: [u8; 2] = tiff.get(at..at + 2)?.try_into().ok()?;
        Some(if big_endian {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    };
    let u32_at = |at: usize| -> Option<u32> {
        let b: [u8; 4] = tiff.get(at..at + 4)?.try_into().ok()?;
        Some(if big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    };
    let ifd = usize::try_from(u32_at(4)?).ok()?;
    let count = usize::from(u16_at(ifd)?);
    (0..count).find_map(|n| {
        let entry = ifd.checked_add(2 + 12 * n)?;
        (u16_at(entry)? == 0x0112 && u16_at(entry + 2)? == 3)
            .then(|| u16_at(entry + 8))
            .flatten()
            .filter(|value| (1..=8).contains(value))
    })
}

/// The JPEG with an Exif segment holding only `orientation`, after SOI (and JFIF), when the
/// original said one other than "upright".
fn with_orientation(jpeg: Vec<u8>, orientation: Option<u16>) -> Vec<u8> {
    let Some(orientation) = orientation.filter(|o| *o != 1) else {
        return jpeg;
    };
    let mut exif = Vec::with_capacity(38);
    exif.extend_from_slice(&[0xFF, 0xE1, 0x00, 0x00]);
    exif.extend_from_slice(b"Exif\0\0MM\0\x2a\0\0\0\x08");
    exif.extend_from_slice(&[0x00, 0x01, 0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01]);
    exif.extend_from_slice(&orientation.to_be_bytes());
    exif.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    let length = (exif.len() - 2) as u16;
    exif[2..4].copy_from_slice(&length.to_be_bytes());
    // After SOI, and after a JFIF segment if there is one (it must come first).
    let mut insert_at = 2;
    if jpeg.get(2..4) == Some(&[0xFF, 0xE0]) {
        let length = usize::from(u16::from_be_bytes([jpeg[4], jpeg[5]]));
        insert_at = 4 + length;
    }
    let mut out = Vec::with_capacity(jpeg.len() + exif.len());
    out.extend_from_slice(&jpeg[..insert_at]);
    out.extend_from_slice(&exif);
    out.extend_from_slice(&jpeg[insert_at..]);
    out
}

/// The PNG chunks kept: the critical ones, transparency, colour (gamma, chromaticities, sRGB,
/// ICC profile, significant bits), background, pixel size, and APNG's animation chunks.
/// Text (`tEXt`, `zTXt`, `iTXt`: XMP lives there), `eXIf`, `tIME` and every unknown chunk are
/// dropped, and so is anything after `IEND`.
const PNG_KEPT: [&[u8; 4]; 15] = [
    b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT",
    b"bKGD", b"pHYs", b"acTL", b"fcTL", b"fdAT",
];

/// A PNG with only the chunks of [`PNG_KEPT`].
pub fn strip_png(bytes: &[u8]) -> Result<Vec<u8>, Unreadable> {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    if !bytes.starts_with(SIGNATURE) {
        return Err(Unreadable);
    }
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(SIGNATURE);
    let mut at = SIGNATURE.len();
    let mut first = true;
    loop {
        let length: [u8; 4] = bytes.get(at..at + 4).ok_or(Unreadable)?.try_into().unwrap();
        let length = usize::try_from(u32::from_be_bytes(length)).map_err(|_| Unreadable)?;
        let kind: &[u8] = bytes.get(at + 4..at + 8).ok_or(Unreadable)?;
        let end = at
            .checked_add(12)
            .and_then(|n| n.checked_add(length))
            .ok_or(Unreadable)?;
        let chunk = bytes.get(at..end).ok_or(Unreadable)?;
        if first && kind != b"IHDR" {
            return Err(Unreadable);
        }
        first = false;
        if PNG_KEPT.iter().any(|kept| kept.as_slice() == kind) {
            out.extend_from_slice(chunk);
        }
        at = end;
        if kind == b"IEND" {
            return Ok(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(marker: u8, contents: &[u8]) -> Vec<u8> {
        let mut bytes = vec![0xFF, marker];
        bytes.extend_from_slice(&((contents.len() + 2) as u16).to_be_bytes());
        bytes.extend_from_slice(contents);
        bytes
    }

    #[test]
    fn a_jpeg_keeps_its_image_and_orientation_and_loses_exif_xmp_comments_and_its_tail() {
        let exif = b"Exif\0\0MM\0\x2a\0\0\0\x08\0\x02\x01\x12\0\x03\0\0\0\x01\0\x06\0\0\x88\x25\0\x04\0\0\0\x01\0\0\0\x40\0\0\0\0GPSGPSGPS";
        let mut jpeg = vec![0xFF, 0xD8];
        jpeg.extend(segment(0xE0, b"JFIF\0\x01\x02\0\0\x01\0\x01\0\0"));
        jpeg.extend(segment(0xE1, exif));
        jpeg.extend(segment(
            0xE1,
            b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>secret",
        ));
        jpeg.extend(segment(0xFE, b"a comment"));
        jpeg.extend(segment(0xDB, &[0; 65]));
        jpeg.extend(segment(0xDA, &[1, 1, 0, 0, 63, 0]));
        jpeg.extend_from_slice(&[0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56]);
        jpeg.extend(segment(0xC4, &[0; 20]));
        jpeg.extend(segment(0xDA, &[1, 1, 0, 0, 63, 0]));
        jpeg.extend_from_slice(&[0x78]);
        jpeg.extend_from_slice(&[0xFF, 0xD9]);
        jpeg.extend_from_slice(b"\xFF\xD8\xFF\xE1trailing MPF image with GPSGPSGPS");
        let stripped = strip_jpeg(&jpeg).unwrap();
        let text = String::from_utf8_lossy(&stripped);
        assert!(!text.contains("GPS") && !text.contains("secret") && !text.contains("comment"));
        assert!(stripped.ends_with(&[0x78, 0xFF, 0xD9]));
        assert!(
            stripped
                .windows(7)
                .any(|w| w == [0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56])
        );
        let app1 = stripped.windows(6).position(|w| w == b"Exif\0\0").unwrap();
        assert_eq!(exif_orientation(&stripped[app1 + 6..]), Some(6));
        assert_eq!(strip_jpeg(&stripped).unwrap(), stripped, "idempotent");
    }

    #[test]
    fn a_png_keeps_its_image_chunks_only() {
        let chunk = |kind: &[u8; 4], data: &[u8]| {
            let mut bytes = (data.len() as u32).to_be_bytes().to_vec();
            bytes.extend_from_slice(kind);
            bytes.extend_from_slice(data);
            bytes.extend_from_slice(&[0, 0, 0, 0]);
            bytes
        };
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend(chunk(b"IHDR", &[0; 13]));
        png.extend(chunk(b"tEXt", b"GPS\0here"));
        png.extend(chunk(b"eXIf", b"MM\0*GPS"));
        png.extend(chunk(b"IDAT", b"pixels"));
        png.extend(chunk(b"IEND", b""));
        png.extend_from_slice(b"GPS trailing");
        let stripped = strip_png(&png).unwrap();
        assert!(!String::from_utf8_lossy(&stripped).contains("GPS"));
        assert!(String::from_utf8_lossy(&stripped).contains("pixels"));
        assert!(strip_png(&png[..20]).is_err());
    }
}
