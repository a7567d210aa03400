//! The codes themselves: RFC 6238 TOTP (SHA-1, 6 digits, 30-second steps, one step either
//! side for clock drift) through `totp-rs`, the enrolment's otpauth URI and QR code, and the
//! recovery codes.

use colloque_protocol::QrCode;
use totp_rs::{Algorithm, TOTP};

/// Seconds per time step (RFC 6238's default, what every authenticator app assumes).
pub const STEP_SECS: u64 = 30;
/// Digits per code.
const DIGITS: usize = 6;
/// The issuer shown by authenticator apps.
const ISSUER: &str = "Colloque";
/// How many recovery codes an enrolment makes.
pub const RECOVERY_CODES: usize = 10;
/// Base32 characters per recovery code: 16 × 5 = 80 random bits.
const RECOVERY_CHARS: usize = 16;
/// RFC 4648 base32.
const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// A new TOTP secret: 160 random bits (RFC 4226's recommended length).
pub fn new_secret() -> [u8; 20] {
    rand::random()
}

fn totp(secret: &[u8]) -> TOTP {
    // Skew 0: the steps around now are tried one by one, so that the one that matched is
    // known (and remembered against replay).
    TOTP::new_unchecked(Algorithm::SHA1, DIGITS, 0, STEP_SECS, secret.to_vec())
}

/// The secret in base32 (RFC 4648, no padding), for typing into an app by hand.
pub fn base32(secret: &[u8]) -> String {
    totp(secret).get_secret_base32()
}

/// The code of time step `step` (tests and tools compute codes the way an app does).
pub fn code_at(secret: &[u8], step: u64) -> String {
    totp(secret).generate(step * STEP_SECS)
}

/// The time step, within one of now's either side, whose code `code` is; `None` if it is none
/// of them (or not 6 digits). Compared in constant time.
pub fn matching_step(secret: &[u8], code: &str, now_secs: u64) -> Option<i64> {
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let totp = totp(secret);
    let now = now_secs / STEP_SECS;
    [now.saturating_sub(1), now, now + 1]
        .into_iter()
        .find(|step| totp.check(code, step * STEP_SECS))
        .and_then(|step| i64::try_from(step).ok())
}

/// What the user typed, if it reads as an app's code: 6 digits once spaces are removed.
pub fn as_totp_code(typed: &str) -> Option<String> {
    let code: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    (code.len() == DIGITS && code.bytes().all(|b| b.is_ascii_digit())).then_some(code)
}

/// `otpauth://totp/Colloque:<account>?secret=…&issuer=Colloque&algorithm=SHA1&digits=6&period=30`
/// (the Key Uri Format that authenticator apps read).
pub fn otpauth_uri(account: &str, secret: &[u8]) -> String {
    format!(
        "otpauth://totp/{ISSUER}:{}?secret={}&issuer={ISSUER}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        percent_encode(account),
        base32(secret)
    )
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `data` as a QR code (error correction M), as one SVG path of its dark modules with a quiet
/// zone of 4 modules around them.
pub fn qr(data: &str) -> anyhow::Result<QrCode> {
    const QUIET: usize = 4;
    let code = qrcode::QrCode::with_error_correction_level(data.as_bytes(), qrcode::EcLevel::M)
        .map_err(|error| anyhow::anyhow!("failed to make a QR code: {error:?}"))?;
    let width = code.width();
    let colors = code.to_colors();
    let mut path = String::new();
    for (y, row) in colors.chunks(width).enumerate() {
        let mut x = 0;
        while x < width {
            if row[x] == qrcode::Color::Dark {
                let start = x;
                while x < width && row[x] == qrcode::Color::Dark {
                    x += 1;
                }
                let run = x - start;
                path.push_str(&format!("M{} {}h{run}v1h-{run}z", start + QUIET, y + QUIET));
            } else {
                x += 1;
            }
        }
    }
    Ok(QrCode {
        size: u32::try_from(width + 2 * QUIET)?,
        path,
    })
}

/// Ten new recovery codes, `XXXX-XXXX-XXXX-XXXX`: 80 random bits each.
pub fn new_recovery_codes() -> Vec<String> {
    (0..RECOVERY_CODES)
        .map(|_| {
            let chars: Vec<char> = (0..RECOVERY_CHARS)
                .map(|_| char::from(BASE32[usize::from(rand::random::<u8>() & 31)]))
                .collect();
            chars
                .chunks(4)
                .map(|group| group.iter().collect::<String>())
                .collect::<Vec<_>>()
                .join("-")
        })
        .collect()
}

/// A typed recovery code as it is hashed: dashes and spaces removed, upper-cased; `None` if it
/// cannot be one (wrong length or characters).
pub fn normalise_recovery_code(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (code.len() == RECOVERY_CHARS && code.bytes().all(|b| BASE32.contains(&b))).then_some(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B's SHA-1 key ("12345678901234567890") and its 8-digit vectors, whose
    /// last 6 digits are the 6-digit codes.
    #[test]
    fn codes_follow_rfc_6238s_test_vectors() {
        let secret = b"12345678901234567890";
        for (time, eight_digits) in [
            (59u64, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
        ] {
            assert_eq!(
                code_at(secret, time / STEP_SECS),
                &eight_digits[2..],
                "{time}"
            );
        }
    }

    #[test]
    fn a_code_matches_its_step_and_the_steps_either_side_only() {
        let secret = new_secret();
        let now = 1_800_000_000u64;
        let step = now / STEP_SECS;
        let current = code_at(&secret, step);
        assert_eq!(matching_step(&secret, &current, now), Some(step as i64));
        let before = code_at(&secret, step - 1);
        assert_eq!(matching_step(&secret, &before, now), Some(step as i64 - 1));
        let after = code_at(&secret, step + 1);
        assert_eq!(matching_step(&secret, &after, now), Some(step as i64 + 1));
        let far = code_at(&secret, step - 3);
        if ![&current, &before, &after].contains(&&far) {
            assert_eq!(matching_step(&secret, &far, now), None);
        }
        assert_eq!(matching_step(&secret, "12345", now), None);
        assert_eq!(matching_step(&secret, "abcdef", now), None);
    }

    #[test]
    fn the_uri_names_the_issuer_the_account_and_the_parameters() {
        let secret = [0u8; 20];
        let uri = otpauth_uri("dr.martin@colloque.test", &secret);
        assert_eq!(
            uri,
            "otpauth://totp/Colloque:dr.martin%40colloque.test?secret=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\
             &issuer=Colloque&algorithm=SHA1&digits=6&period=30"
        );
    }

    #[test]
    fn the_qr_code_is_a_square_of_dark_runs_inside_its_quiet_zone() {
        let code = qr("otpauth://totp/Colloque:a%40b.c?secret=AAAA").unwrap();
        assert!(code.size >= 21 + 8);
        assert!(
            code.path.starts_with("M4 4h7v1h-7z"),
            "the finder pattern's top row"
        );
        assert!(!code.path.is_empty());
    }

    #[test]
    fn recovery_codes_are_ten_distinct_80_bit_codes_that_read_back() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), RECOVERY_CODES);
        for code in &codes {
            assert_eq!(code.len(), 19, "{code}");
            let normalised = normalise_recovery_code(code).unwrap();
            assert_eq!(normalised, code.replace('-', ""));
            assert_eq!(
                normalise_recovery_code(&format!(" {} ", code.to_lowercase())),
                Some(normalised)
            );
        }
        assert_eq!(normalise_recovery_code("123456"), None);
        assert_eq!(
            normalise_recovery_code("ABCD-EFGH-IJKL-MNO1"),
            None,
            "1 is not base32"
        );
        assert_eq!(as_totp_code(" 123 456 "), Some("123456".to_owned()));
        assert_eq!(as_totp_code("ABCD-EFGH"), None);
    }
}
