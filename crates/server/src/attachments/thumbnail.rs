//! Thumbnails of JPEG and PNG photos for the thread: at most 320 px on their longer side,
//! the right way up (the Exif orientation applied), as JPEG.
//!
//! Decoding is bounded: images over 100 megapixels or needing more than 256 MiB to decode are
//! not thumbnailed (they are still stored, with `has_thumbnail: false`), so a small compressed
//! file cannot make the server allocate gigabytes. HEIC is not decoded here (no HEVC decoder
//! in pure Rust; see docs/attachments.md): it has no thumbnail.

use colloque_protocol::AttachmentType;
use image::{ImageDecoder, ImageReader, Limits};
use std::io::Cursor;

/// The longer side of a thumbnail, in pixels.
pub const SIZE: u32 = 320;

/// A JPEG thumbnail of a JPEG or PNG image, or `None` (another type, or an image that cannot
/// be decoded within the limits).
pub fn thumbnail(kind: AttachmentType, bytes: &[u8]) -> Option<Vec<u8>> {
    let format = match kind {
        AttachmentType::Jpeg => image::ImageFormat::Jpeg,
        AttachmentType::Png => image::ImageFormat::Png,
        _ => return None,
    };
    let mut limits = Limits::default();
    limits.max_image_width = Some(20_000);
    limits.max_image_height = Some(20_000);
    limits.max_alloc = Some(256 * 1024 * 1024);
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().ok()?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > 100_000_000 {
        return None;
    }
    let orientation = decoder.orientation().ok();
    let mut image = image::DynamicImage::from_decoder(decoder).ok()?;
    if let Some(orientation) = orientation {
        image.apply_orientation(orientation);
    }
    let small = image.thumbnail(SIZE, SIZE).into_rgb8();
    let mut out = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80);
    small.write_with_encoder(encoder).ok()?;
    Some(out)
}
