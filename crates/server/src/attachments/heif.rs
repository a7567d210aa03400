//! HEIC/HEIF (ISO/IEC 23008-12, on ISOBMFF): the Exif and XMP items blanked out in place.
//!
//! An HEIF file keeps its metadata as *items* beside the image's: `iinf` names each item's
//! type (`Exif`, or `mime` for XMP), `iloc` says where its bytes are (extents in the file, or
//! in the `meta` box's `idat`). We overwrite those bytes with zeros, so the GPS position,
//! camera and dates are gone, and every offset in the file stays valid (nothing moves, nothing
//! is decoded or re-encoded). A reader then finds an Exif item it cannot parse, and ignores it.
//!
//! What cannot be blanked safely is refused: a file whose `meta` box cannot be read, or a
//! metadata item stored any other way (construction method 2, an extent past the end or
//! outside the media data, where blanking would break the boxes that describe the file).

use super::strip::Unreadable;

struct Box<'a> {
    kind: [u8; 4],
    /// Offset of the payload in the file.
    start: usize,
    payload: &'a [u8],
}

/// The boxes in `data` (which starts at `base` in the file).
fn boxes(data: &[u8], base: usize) -> Result<Vec<Box<'_>>, Unreadable> {
    let mut found = Vec::new();
    let mut at = 0usize;
    while at < data.len() {
        let size32 =
            u32::from_be_bytes(data.get(at..at + 4).ok_or(Unreadable)?.try_into().unwrap());
        let kind: [u8; 4] = data
            .get(at + 4..at + 8)
            .ok_or(Unreadable)?
            .try_into()
            .unwrap();
        let (header, size) = match size32 {
            0 => (8, data.len() - at),
            1 => {
                let large = u64::from_be_bytes(
                    data.get(at + 8..at + 16)
                        .ok_or(Unreadable)?
                        .try_into()
                        .unwrap(),
                );
                (16, usize::try_from(large).map_err(|_| Unreadable)?)
            }
            n => (8, n as usize),
        };
        if size < header {
            return Err(Unreadable);
        }
        let end = at.checked_add(size).ok_or(Unreadable)?;
        let payload = data.get(at + header..end).ok_or(Unreadable)?;
        found.push(Box {
            kind,
            start: base + at + header,
            payload,
        });
        at = end;
    }
    Ok(found)
}

/// A big-endian unsigned integer of `size` bytes (0, 4 or 8) at `*at`, moving `*at` on.
fn uint(data: &[u8], at: &mut usize, size: usize) -> Result<u64, Unreadable> {
    let bytes = data.get(*at..*at + size).ok_or(Unreadable)?;
    *at += size;
    Ok(bytes.iter().fold(0u64, |n, b| (n << 8) | u64::from(*b)))
}

/// Where the metadata items' bytes are, as file ranges.
fn metadata_ranges(file: &[u8]) -> Result<Vec<std::ops::Range<usize>>, Unreadable> {
    let top = boxes(file, 0)?;
    let meta = top.iter().find(|b| &b.kind == b"meta").ok_or(Unreadable)?;
    // `meta` is a full box: version and flags first.
    let children = boxes(meta.payload.get(4..).ok_or(Unreadable)?, meta.start + 4)?;
    let find = |kind: &[u8; 4]| children.iter().find(|b| &b.kind == kind);
    let iinf = find(b"iinf").ok_or(Unreadable)?;
    let iloc = find(b"iloc").ok_or(Unreadable)?;
    let idat = find(b"idat");

    // iinf: version, flags, entry count, then `infe` boxes.
    let version = *iinf.payload.first().ok_or(Unreadable)?;
    let skip = if version == 0 { 6 } else { 8 };
    let mut metadata_items = Vec::new();
    for infe in boxes(
        iinf.payload.get(skip..).ok_or(Unreadable)?,
        iinf.start + skip,
    )? {
        if &infe.kind != b"infe" {
            continue;
        }
        let p = infe.payload;
        let mut at = 4;
        let (id, kind) = match *p.first().ok_or(Unreadable)? {
            2 => (uint(p, &mut at, 2)?, p.get(at + 2..at + 6)),
            3 => (uint(p, &mut at, 4)?, p.get(at + 2..at + 6)),
            // Versions 0 and 1 have no item type: no Exif item can be declared with them.
            _ => continue,
        };
        if matches!(kind, Some(b"Exif" | b"mime")) {
            metadata_items.push(id);
        }
    }

    // iloc (ISO/IEC 14496-12, 8.11.3).
    let p = iloc.payload;
    let version = *p.first().ok_or(Unreadable)?;
    let sizes = p.get(4..6).ok_or(Unreadable)?;
    let (offset_size, length_size) = (usize::from(sizes[0] >> 4), usize::from(sizes[0] & 15));
    let base_offset_size = usize::from(sizes[1] >> 4);
    let index_size = if version >= 1 {
        usize::from(sizes[1] & 15)
    } else {
        0
    };
    let mut at = 6;
    let count = if version < 2 {
        uint(p, &mut at, 2)?
    } else {
        uint(p, &mut at, 4)?
    };
    let mut ranges = Vec::new();
    for _ in 0..count {
        let id = if version < 2 {
            uint(p, &mut at, 2)?
        } else {
            uint(p, &mut at, 4)?
        };
        let method = if version >= 1 {
            uint(p, &mut at, 2)? & 15
        } else {
            0
        };
        at += 2; // data_reference_index
        let base = uint(p, &mut at, base_offset_size)?;
        let extents = uint(p, &mut at, 2)?;
        for _ in 0..extents {
            if index_size > 0 {
                uint(p, &mut at, index_size)?;
            }
            let offset = uint(p, &mut at, offset_size)?;
            let length = uint(p, &mut at, length_size)?;
            if !metadata_items.contains(&id) {
                continue;
            }
            let (origin, limit) = match (method, idat) {
                // In the file: only inside an `mdat` box's payload (checked below), never over
                // the boxes that describe the file, which blanking would break.
                (0, _) => (0, file.len()),
                (1, Some(idat)) => (idat.start, idat.start + idat.payload.len()),
                _ => return Err(Unreadable),
            };
            let start = usize::try_from(base.checked_add(offset).ok_or(Unreadable)?)
                .map_err(|_| Unreadable)?
                .checked_add(origin)
                .ok_or(Unreadable)?;
            // A length of 0 means "to the end" (of the file, or of idat).
            let end = if length == 0 {
                limit
            } else {
                start
                    .checked_add(usize::try_from(length).map_err(|_| Unreadable)?)
                    .ok_or(Unreadable)?
            };
            if start > end || end > limit {
                return Err(Unreadable);
            }
            let in_media_data = |b: &&Box<'_>| {
                &b.kind == b"mdat" && b.start <= start && end <= b.start + b.payload.len()
            };
            if method == 0 && !top.iter().any(|b| in_media_data(&b)) {
                return Err(Unreadable);
            }
            ranges.push(start..end);
        }
    }
    Ok(ranges)
}

/// The file with every Exif and XMP item's bytes set to zero. Refuses a file it cannot read.
pub fn strip_heif(bytes: &[u8]) -> Result<Vec<u8>, Unreadable> {
    let ranges = metadata_ranges(bytes)?;
    let mut out = bytes.to_vec();
    for range in ranges {
        out[range].fill(0);
    }
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn full_box(kind: &[u8; 4], version: u8, body: &[u8]) -> Vec<u8> {
        let mut payload = vec![version, 0, 0, 0];
        payload.extend_from_slice(body);
        plain_box(kind, &payload)
    }

    fn plain_box(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut bytes = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
        bytes.extend_from_slice(kind);
        bytes.extend_from_slice(payload);
        bytes
    }

    /// A minimal HEIC: `ftyp`, `meta` (`hdlr`, `iinf` with an `hvc1` image item and an `Exif`
    /// item, `iloc` pointing at both in `mdat`), then `mdat`. Public to the integration tests'
    /// twin in tests/api (which builds the same bytes).
    pub(crate) fn heic_with_exif(exif: &[u8]) -> Vec<u8> {
        let image = b"\0\0\0\x04HEVC".to_vec();
        let ftyp = plain_box(b"ftyp", b"heic\0\0\0\0mif1heic");
        let infe = |id: u16, kind: &[u8; 4]| {
            let mut body = id.to_be_bytes().to_vec();
            body.extend_from_slice(&[0, 0]);
            body.extend_from_slice(kind);
            body.push(0);
            full_box(b"infe", 2, &body)
        };
        let mut iinf_body = 2u16.to_be_bytes().to_vec();
        iinf_body.extend(infe(1, b"hvc1"));
        iinf_body.extend(infe(2, b"Exif"));
        let iinf = full_box(b"iinf", 0, &iinf_body);
        let hdlr = full_box(b"hdlr", 0, b"\0\0\0\0pict\0\0\0\0\0\0\0\0\0\0\0\0\0");
        // iloc v0, offset_size 4, length_size 4, base_offset_size 0; offsets patched below.
        let iloc_len = 8 + 4 + 2 + 2 + 2 * (2 + 2 + 2 + 8);
        let meta_len = 8 + 4 + hdlr.len() + iinf.len() + iloc_len;
        let mdat_start = ftyp.len() + meta_len + 8;
        let mut iloc_body = vec![0x44, 0x00];
        iloc_body.extend_from_slice(&2u16.to_be_bytes());
        for (id, offset, length) in [
            (1u16, mdat_start, image.len()),
            (2u16, mdat_start + image.len(), exif.len()),
        ] {
            iloc_body.extend_from_slice(&id.to_be_bytes());
            iloc_body.extend_from_slice(&[0, 0]);
            iloc_body.extend_from_slice(&1u16.to_be_bytes());
            iloc_body.extend_from_slice(&(offset as u32).to_be_bytes());
            iloc_body.extend_from_slice(&(length as u32).to_be_bytes());
        }
        let iloc = full_box(b"iloc", 0, &iloc_body);
        assert_eq!(iloc.len(), iloc_len);
        let mut meta_body = hdlr;
        meta_body.extend(iinf);
        meta_body.extend(iloc);
        let meta = full_box(b"meta", 0, &meta_body);
        assert_eq!(meta.len(), meta_len);
        let mut mdat_payload = image;
        mdat_payload.extend_from_slice(exif);
        let mut file = ftyp;
        file.extend(meta);
        file.extend(plain_box(b"mdat", &mdat_payload));
        file
    }

    #[test]
    fn the_exif_item_is_blanked_and_the_image_kept() {
        let file = heic_with_exif(b"\0\0\0\x06Exif\0\0MM\0*GPS position here");
        let stripped = strip_heif(&file).unwrap();
        assert_eq!(stripped.len(), file.len());
        let text = String::from_utf8_lossy(&stripped);
        // (`Exif` itself stays: it is the item's type, in `iinf`.)
        assert!(!text.contains("GPS") && !text.contains("MM\0*"));
        assert!(text.contains("HEVC"));
        assert!(strip_heif(&file[..40]).is_err());
    }
}
