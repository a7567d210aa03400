//! Real files for the attachment tests, built here: a JPEG from the `image` encoder carrying a
//! real Exif block (camera, orientation and a GPS IFD, as a phone writes them), a PNG with
//! text and `eXIf` chunks, a PDF, and an HEIC container with an Exif item. And the upload and
//! database shortcuts the tests share.

use crate::helpers::*;
use colloque_protocol::{AttachmentId, AttachmentMeta};
use serde_json::Value;

/// Where the fixture photo was "taken": the latitude's degrees, minutes and hundredths of
/// seconds, as rationals.
pub const LATITUDE: [(u32, u32); 3] = [(48, 1), (51, 1), (2_400, 100)];

/// A TIFF (big-endian) with IFD0 = Make, Orientation (6: rotate 90°), GPS IFD pointer; and a
/// GPS IFD = LatitudeRef N, Latitude, LongitudeRef E, Longitude.
pub fn exif_with_gps() -> Vec<u8> {
    let mut t = b"MM\0\x2a\0\0\0\x08".to_vec();
    // IFD0 at 8: 3 entries (2 + 36 + 4 = 42 bytes), then its data at 50.
    let make = b"Colloque test phone\0";
    let make_at = 50u32;
    let gps_at = make_at + make.len() as u32;
    let entry = |t: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]| {
        t.extend_from_slice(&tag.to_be_bytes());
        t.extend_from_slice(&kind.to_be_bytes());
        t.extend_from_slice(&count.to_be_bytes());
        t.extend_from_slice(&value);
    };
    t.extend_from_slice(&3u16.to_be_bytes());
    entry(&mut t, 0x010F, 2, make.len() as u32, make_at.to_be_bytes());
    entry(&mut t, 0x0112, 3, 1, [0, 6, 0, 0]);
    entry(&mut t, 0x8825, 4, 1, gps_at.to_be_bytes());
    t.extend_from_slice(&0u32.to_be_bytes());
    assert_eq!(t.len() as u32, make_at);
    t.extend_from_slice(make);
    // GPS IFD: 4 entries (2 + 48 + 4 = 54 bytes), then two arrays of 3 rationals.
    let lat_at = gps_at + 54;
    let lon_at = lat_at + 24;
    t.extend_from_slice(&4u16.to_be_bytes());
    entry(&mut t, 0x0001, 2, 2, *b"N\0\0\0");
    entry(&mut t, 0x0002, 5, 3, lat_at.to_be_bytes());
    entry(&mut t, 0x0003, 2, 2, *b"E\0\0\0");
    entry(&mut t, 0x0004, 5, 3, lon_at.to_be_bytes());
    t.extend_from_slice(&0u32.to_be_bytes());
    assert_eq!(t.len() as u32, lat_at);
    for (n, d) in LATITUDE.into_iter().chain([(2, 1), (21, 1), (700, 100)]) {
        t.extend_from_slice(&n.to_be_bytes());
        t.extend_from_slice(&d.to_be_bytes());
    }
    t
}

/// A 96×64 JPEG photo (a gradient, encoded by the `image` crate) with [`exif_with_gps`] in
/// its APP1 segment, an XMP packet and a comment, as a phone would write it.
pub fn jpeg_with_gps() -> Vec<u8> {
    let image = image::RgbImage::from_fn(96, 64, |x, y| image::Rgb([x as u8 * 2, y as u8 * 3, 90]));
    let mut plain = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut plain, 85)
        .encode_image(&image)
        .unwrap();
    let segment = |marker: u8, contents: &[u8]| {
        let mut bytes = vec![0xFF, marker];
        bytes.extend_from_slice(&((contents.len() + 2) as u16).to_be_bytes());
        bytes.extend_from_slice(contents);
        bytes
    };
    let mut exif = b"Exif\0\0".to_vec();
    exif.extend(exif_with_gps());
    let mut jpeg = plain[..2].to_vec();
    jpeg.extend(segment(0xE1, &exif));
    jpeg.extend(segment(
        0xE1,
        b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta><exif:GPSLatitude>48,51.4N</exif:GPSLatitude></x:xmpmeta>",
    ));
    jpeg.extend(segment(0xFE, b"holiday at home"));
    jpeg.extend_from_slice(&plain[2..]);
    jpeg
}

/// A 40×30 PNG with a `tEXt` comment and an `eXIf` chunk holding [`exif_with_gps`].
pub fn png_with_metadata() -> Vec<u8> {
    let image = image::RgbImage::from_fn(40, 30, |x, _| image::Rgb([x as u8 * 5, 10, 200]));
    let mut plain = Vec::new();
    image::codecs::png::PngEncoder::new(&mut plain)
        .write_image(&image, 40, 30, image::ExtendedColorType::Rgb8)
        .unwrap();
    let chunk = |kind: &[u8; 4], data: &[u8]| {
        let mut bytes = (data.len() as u32).to_be_bytes().to_vec();
        bytes.extend_from_slice(kind);
        bytes.extend_from_slice(data);
        let mut crc_input = kind.to_vec();
        crc_input.extend_from_slice(data);
        bytes.extend_from_slice(&crc32(&crc_input).to_be_bytes());
        bytes
    };
    // After the signature (8) and IHDR (25).
    let mut png = plain[..33].to_vec();
    png.extend(chunk(b"tEXt", b"Comment\0taken at home"));
    png.extend(chunk(b"eXIf", &exif_with_gps()));
    png.extend_from_slice(&plain[33..]);
    png
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

use image::ImageEncoder as _;

/// A small, valid PDF.
pub fn pdf() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n\
      2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n\
      trailer << /Root 1 0 R >>\n%%EOF\n"
        .to_vec()
}

fn plain_box(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
    let mut bytes = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
    bytes.extend_from_slice(kind);
    bytes.extend_from_slice(payload);
    bytes
}

fn full_box(kind: &[u8; 4], version: u8, body: &[u8]) -> Vec<u8> {
    let mut payload = vec![version, 0, 0, 0];
    payload.extend_from_slice(body);
    plain_box(kind, &payload)
}

/// An HEIC container as an iPhone lays it out, reduced to its skeleton: `ftyp` (heic), `meta`
/// (`hdlr`, `iinf` with an `hvc1` image item and an `Exif` item, `iloc`), `mdat` holding the
/// (fake) coded image and the Exif item ([`exif_with_gps`] behind its 4-byte header offset
/// and `Exif\0\0`).
pub fn heic_with_gps() -> Vec<u8> {
    let image = b"\0\0\0\x04HEVC-coded pixels".to_vec();
    let mut exif = b"\0\0\0\x06Exif\0\0".to_vec();
    exif.extend(exif_with_gps());
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
    let mut meta_body = hdlr;
    meta_body.extend(iinf);
    meta_body.extend(full_box(b"iloc", 0, &iloc_body));
    let meta = full_box(b"meta", 0, &meta_body);
    let mut mdat = image;
    mdat.extend(exif);
    let mut file = ftyp;
    file.extend(meta);
    file.extend(plain_box(b"mdat", &mdat));
    file
}

/// Whether an Exif block (TIFF, or behind `Exif\0\0`) anywhere in `bytes` has GPS fields,
/// read by an Exif parser (kamadak-exif), not by searching bytes.
pub fn has_gps(bytes: &[u8]) -> bool {
    let reader = exif::Reader::new();
    let mut found = false;
    for start in 0..bytes.len().saturating_sub(4) {
        let tiff = &bytes[start..];
        if !(tiff.starts_with(b"MM\0\x2a") || tiff.starts_with(b"II\x2a\0")) {
            continue;
        }
        if let Ok(parsed) = reader.read_raw(tiff.to_vec()) {
            found |= parsed
                .fields()
                .any(|field| field.tag.context() == exif::Context::Gps);
        }
    }
    found
}

/// The Exif orientation an Exif parser reads in `jpeg`, if any.
pub fn orientation(jpeg: &[u8]) -> Option<u32> {
    let parsed = exif::Reader::new()
        .read_from_container(&mut std::io::Cursor::new(jpeg))
        .ok()?;
    parsed
        .get_field(exif::Tag::Orientation, exif::In::PRIMARY)?
        .value
        .get_uint(0)
}

impl TestApp {
    /// `POST /api/attachments?name=…` with `bytes` as the body.
    pub async fn upload(&self, session: &Session, name: &str, bytes: Vec<u8>) -> reqwest::Response {
        self.client
            .post(self.url("/api/attachments"))
            .query(&[("name", name)])
            .bearer_auth(&session.token)
            .header("content-type", "application/octet-stream")
            .body(bytes)
            .send()
            .await
            .expect("request sent")
    }

    /// An upload that must be stored.
    pub async fn upload_ok(&self, session: &Session, name: &str, bytes: Vec<u8>) -> AttachmentMeta {
        let response = self.upload(session, name, bytes).await;
        assert_eq!(response.status(), 201, "upload of {name}");
        response.json().await.unwrap()
    }

    /// Sends `body` with these attachments over REST.
    pub async fn send_with(
        &self,
        session: &Session,
        conversation: colloque_protocol::ConversationId,
        client_id: colloque_protocol::ClientMsgId,
        ids: &[AttachmentId],
    ) -> reqwest::Response {
        self.post(
            &format!("/api/conversations/{conversation}/messages"),
            &session.token,
            &serde_json::json!({"client_id": client_id, "body": "Voici le document.", "attachment_ids": ids}),
        )
        .await
    }

    /// (uploads, contents) stored.
    pub async fn attachment_rows(&self) -> (i64, i64) {
        on_db!(self.db().await, |pool| {
            let uploads: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM attachments")
                .fetch_one(&pool)
                .await
                .unwrap();
            let blobs: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM attachment_blobs")
                .fetch_one(&pool)
                .await
                .unwrap();
            (uploads, blobs)
        })
    }
}

/// The error code of a JSON error answer, and its message.
pub async fn refusal(response: reqwest::Response) -> (u16, String, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    (
        status,
        error_code(&body).to_owned(),
        body["message"].as_str().unwrap_or_default().to_owned(),
    )
}
