//! Where notification e-mails go: an SMTP server (lettre; `smtp://`, `smtp://…?tls=required`
//! for STARTTLS, `smtps://`), or, without one, `.eml` files in the data directory (as under
//! `cargo xtask run`: nothing leaves the machine).
//!
//! Every e-mail says only that something waits, with a link to the app and a one-click
//! unsubscribe link (RFC 8058): no name, specialty, subject, topic or body, by construction —
//! [`compose`] takes no field of a message or a person but the address it goes to.

use super::rules::NoticeKind;
use anyhow::Context;
use colloque_protocol::{NOTICE_EN, NOTICE_FR};
use lettre::message::Mailbox;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::path::{Path, PathBuf};

/// Sends e-mails. Cheap to clone.
#[derive(Clone)]
pub enum Mailer {
    /// Through an SMTP server.
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// Into `.eml` files in this directory.
    Files(PathBuf, AsyncFileTransport<Tokio1Executor>),
}

impl Mailer {
    /// An SMTP mailer for `url` (which may hold credentials: never logged).
    pub fn smtp(url: &str) -> anyhow::Result<Self> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .context("--smtp-url is not an smtp:// or smtps:// URL lettre accepts")?
            .build();
        Ok(Self::Smtp(transport))
    }

    /// A mailer that writes `.eml` files into `dir` (created if missing).
    pub fn files(dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("failed to create {}", dir.display()))?;
        Ok(Self::Files(dir.to_path_buf(), AsyncFileTransport::new(dir)))
    }

    /// Where e-mails go, for the start-up banner (an SMTP URL is not shown: it may hold a
    /// password).
    pub fn describe(&self) -> String {
        match self {
            Self::Smtp(_) => "the SMTP server of --smtp-url".into(),
            Self::Files(dir, _) => format!(".eml files in {}", dir.display()),
        }
    }

    /// Sends one e-mail.
    pub async fn send(&self, message: Message) -> anyhow::Result<()> {
        match self {
            Self::Smtp(transport) => {
                transport.send(message).await?;
            }
            Self::Files(_, transport) => {
                transport.send(message).await?;
            }
        }
        Ok(())
    }
}

/// The links an e-mail carries.
pub struct Links<'a> {
    /// The app.
    pub app: &'a str,
    /// The one-click unsubscribe URL.
    pub unsubscribe: &'a str,
}

/// The subject of each kind of e-mail (French, then English).
fn subject(kind: NoticeKind) -> &'static str {
    match kind {
        NoticeKind::NewMessage => "Nouveau message sur Colloque / New message on Colloque",
        NoticeKind::UnreadAnswer => {
            "Un message vous attend sur Colloque / A message is waiting on Colloque"
        }
        NoticeKind::AwaitingReply => {
            "Un message attend votre réponse sur Colloque / A message awaits your reply"
        }
    }
}

/// The e-mail of `kind` to `to`: only that something waits, with the links.
pub fn compose(
    from: &Mailbox,
    to: &str,
    kind: NoticeKind,
    links: &Links<'_>,
) -> anyhow::Result<Message> {
    let to: Mailbox = to
        .parse()
        .context("an address the mailer cannot write to")?;
    let body = format!(
        "Bonjour,\r\n\r\n{NOTICE_FR}.\r\nPour le lire, connectez-vous : {app}\r\n\r\n\
         {NOTICE_EN}.\r\nTo read it, log in: {app}\r\n\r\n-- \r\n\
         Ne plus recevoir ces e-mails / Unsubscribe: {unsubscribe}\r\n",
        app = links.app,
        unsubscribe = links.unsubscribe,
    );
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(subject(kind))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("List-Unsubscribe"),
            format!("<{}>", links.unsubscribe),
        ))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
            "List-Unsubscribe=One-Click".into(),
        ))
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .context("failed to build a notification e-mail")
}
