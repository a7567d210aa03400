//! Notifications outside the app (issue 13): e-mail and Web Push; every channel says only that a
//! message is waiting (docs/notifications.md).
//!
//! A background task makes a pass every [`NotifyConfig::every`]: it reads who has a message of
//! someone else unread (or, for a doctor, a patient waiting), decides with [`rules::decide`],
//! claims each e-mail in the database (a conditional update of its `email_notices` row, so that
//! on a cluster one instance sends it) and sends it. A failed send is counted and logged (never
//! the address), and its claim given back: the next pass tries again. The same pass then sends
//! the pushes due ([`rules::decide_push`], claimed in `push_notices`; `push_pass.rs`).

mod mailer;
pub mod push;
mod push_network;
mod push_pass;
pub mod rules;
pub mod settings;
pub mod subscriptions;
mod unsubscribe;
pub mod vapid;

pub use mailer::{Mailer, compose};
pub use push::{PushOutcome, Pusher};
pub use rules::{Notice, NoticeKind, Rules};
pub use unsubscribe::UnsubscribeKey;
pub use vapid::VapidKey;

use crate::care::hours::{hours_from_db, policy, practice_day};
use crate::care::{OfficeHours, reply_due};
use crate::metrics::{EmailLabels, Metrics};
use crate::store::Store;
use crate::store::model::NoticeCandidate;
use crate::util::{DAY_MS, now_ms};
use colloque_protocol::{Timestamp, UserId};
use lettre::message::Mailbox;
use secrecy::SecretString;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// How far back a pass looks for conversations with news: beyond, what was due was sent.
const LOOK_BACK_DAYS: i64 = 30;

/// The working days a doctor's patient waits before the doctor is reminded.
pub const DOCTOR_REMINDER_WORKING_DAYS: u32 = 2;

/// The notifier's settings.
#[derive(Debug, Clone)]
pub struct NotifyConfig {
    /// The SMTP server (`smtp://user:pass@host:587?tls=required`, `smtps://…`); `None`: `.eml`
    /// files in the data directory's `mail/`.
    pub smtp_url: Option<SecretString>,
    /// The sender, `Colloque <no-reply@example.org>`.
    pub from: String,
    /// The app's public address, for links (`https://colloque.example.org`); `None`: the first
    /// allowed origin, else the bound address.
    pub public_url: Option<String>,
    /// The rules' durations.
    pub rules: Rules,
    /// Time between two passes.
    pub every: Duration,
    /// The notifier's clock.
    pub clock: Clock,
    /// The VAPID private key (a base64url P-256 scalar; `COLLOQUE_VAPID_PRIVATE_KEY`); `None`:
    /// generated once into the data directory's `vapid_private_key`.
    pub vapid_private_key: Option<SecretString>,
    /// The VAPID contact (`mailto:…` or `https://…`); `None`: `mailto:` the sender's address.
    pub vapid_subject: Option<String>,
    /// Tests and development only: accept `http://127.0.0.1:…` push endpoints (a push
    /// service on loopback).
    pub push_allow_http_loopback: bool,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        Self {
            smtp_url: None,
            from: "Colloque <no-reply@colloque.invalid>".into(),
            public_url: None,
            rules: Rules::default(),
            every: Duration::from_secs(30),
            clock: Clock::default(),
            vapid_private_key: None,
            vapid_subject: None,
            push_allow_http_loopback: false,
        }
    }
}

/// The notifier's time: the system's, moved forward by an offset that only tests set (to
/// check the rules' hours and days without waiting for them). Cheap to clone; clones share the
/// offset.
#[derive(Debug, Clone, Default)]
pub struct Clock(Arc<AtomicI64>);

impl Clock {
    /// Now, by this clock.
    pub fn now(&self) -> Timestamp {
        Timestamp(now_ms().0 + self.0.load(Ordering::Relaxed))
    }

    /// Moves this clock (and its clones) forward.
    pub fn advance(&self, by: Duration) {
        let by = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.0.fetch_add(by, Ordering::Relaxed);
    }
}

/// What the notifier needs. Cheap to clone.
#[derive(Clone)]
pub struct Notifier {
    mailer: Mailer,
    from: Mailbox,
    public_url: Arc<str>,
    rules: Rules,
    every: Duration,
    clock: Clock,
    /// The unsubscribe tokens' key.
    pub unsubscribe: UnsubscribeKey,
    /// Web Push: subscriptions' checks and sending.
    pub push: Pusher,
    /// Where the VAPID key came from, for the start-up banner.
    vapid_source: Arc<str>,
}

impl Notifier {
    /// A notifier for `config`, whose `.eml` files (without SMTP) go under `data_dir/mail`.
    pub fn new(
        config: &NotifyConfig,
        public_url: String,
        data_dir: &std::path::Path,
        secret: &SecretString,
    ) -> anyhow::Result<Self> {
        use anyhow::Context;
        use secrecy::ExposeSecret;
        let mailer = match &config.smtp_url {
            Some(url) => Mailer::smtp(url.expose_secret())?,
            None => Mailer::files(&data_dir.join("mail"))?,
        };
        let from: Mailbox = config
            .from
            .parse()
            .context("--mail-from is not an address such as `Colloque <no-reply@example.org>`")?;
        let subject = config
            .vapid_subject
            .clone()
            .unwrap_or_else(|| format!("mailto:{}", from.email));
        let (vapid, vapid_source) = match &config.vapid_private_key {
            Some(key) => (
                VapidKey::from_scalar(key, &subject)
                    .context("COLLOQUE_VAPID_PRIVATE_KEY is not usable")?,
                "COLLOQUE_VAPID_PRIVATE_KEY".to_owned(),
            ),
            None => {
                let path = data_dir.join("vapid_private_key");
                (
                    VapidKey::load_or_create(&path, &subject)?,
                    path.display().to_string(),
                )
            }
        };
        let push = Pusher::new(vapid, config.push_allow_http_loopback)?;
        Ok(Self {
            mailer,
            from,
            public_url: public_url.trim_end_matches('/').into(),
            rules: config.rules,
            every: config.every,
            clock: config.clock.clone(),
            unsubscribe: UnsubscribeKey::derive(secret),
            push,
            vapid_source: vapid_source.into(),
        })
    }

    /// Where e-mails go, for the start-up banner.
    pub fn describe(&self) -> String {
        self.mailer.describe()
    }

    /// Where Web Push's VAPID key comes from (the environment or its file), for the start-up
    /// banner; never the key.
    pub fn describe_push(&self) -> String {
        format!("the VAPID key of {}", self.vapid_source)
    }

    /// The app's public address.
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// The one-click unsubscribe URL of `user`.
    pub fn unsubscribe_url(&self, user: UserId) -> String {
        format!(
            "{}/api/unsubscribe/{}",
            self.public_url,
            self.unsubscribe.token(user)
        )
    }

    /// Makes a pass every [`NotifyConfig::every`], for as long as the server runs.
    pub async fn run(self, store: Store, metrics: Metrics) {
        let mut every = tokio::time::interval(self.every);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            if let Err(error) = self.pass(&store, &metrics).await {
                tracing::error!(%error, "the e-mail notifier's pass failed");
            }
            metrics.notify_passes.inc();
        }
    }

    /// One pass: every e-mail and every push due now is claimed and sent.
    pub async fn pass(&self, store: &Store, metrics: &Metrics) -> anyhow::Result<()> {
        let now = self.clock.now();
        let since = Timestamp(now.0 - LOOK_BACK_DAYS * DAY_MS);
        let mut dues: HashMap<UserId, Option<crate::care::ReplyPolicy>> = HashMap::new();
        for patients in [true, false] {
            for candidate in store.notice_candidates(since, patients).await? {
                let policy = match (candidate.patient, dues.get(&candidate.doctor)) {
                    (true, _) => None,
                    (false, Some(policy)) => policy.clone(),
                    (false, None) => {
                        let policy = reminder_policy(store, candidate.doctor, now).await?;
                        dues.insert(candidate.doctor, policy.clone());
                        policy
                    }
                };
                let decided = rules::decide(&candidate, now, &self.rules, |since| {
                    reply_due(policy.as_ref()?, since)
                });
                if let Some(notice) = decided {
                    self.send(store, metrics, &candidate, notice, now).await?;
                }
            }
        }
        self.push_pass(store, metrics, now).await
    }

    async fn send(
        &self,
        store: &Store,
        metrics: &Metrics,
        candidate: &NoticeCandidate,
        notice: Notice,
        now: Timestamp,
    ) -> anyhow::Result<()> {
        let claimed = store
            .claim_email_notice(
                candidate.user,
                candidate.conversation,
                candidate.last_sent_at,
                notice.notified_seq,
                notice.reminded_key,
                now,
            )
            .await?;
        if !claimed {
            return Ok(());
        }
        let unsubscribe = self.unsubscribe_url(candidate.user);
        let links = mailer::Links {
            app: &self.public_url,
            unsubscribe: &unsubscribe,
        };
        let outcome = match compose(&self.from, &candidate.email, notice.kind, &links) {
            Ok(message) => self.mailer.send(message).await,
            Err(error) => Err(error),
        };
        let outcome = match outcome {
            Ok(()) => "sent",
            Err(error) => {
                // Give the claim back, so that the next pass tries again (unless a newer
                // claim took the row meanwhile).
                store
                    .claim_email_notice(
                        candidate.user,
                        candidate.conversation,
                        now,
                        candidate.notified_seq,
                        candidate.reminded_key,
                        candidate.last_sent_at,
                    )
                    .await?;
                // The error, never the address: it names a patient.
                tracing::warn!(
                    %error,
                    user = %candidate.user,
                    kind = notice.kind.as_str(),
                    "a notification e-mail failed"
                );
                "failed"
            }
        };
        metrics
            .emails
            .get_or_create(&EmailLabels {
                kind: notice.kind.as_str(),
                outcome,
            })
            .inc();
        Ok(())
    }
}

/// When a doctor is reminded of a patient's wait: [`DOCTOR_REMINDER_WORKING_DAYS`] working
/// days of their office hours (9:00–18:00 on weekdays if they set none), their absences and
/// French public holidays.
async fn reminder_policy(
    store: &Store,
    doctor: UserId,
    now: Timestamp,
) -> anyhow::Result<Option<crate::care::ReplyPolicy>> {
    let Some(today) = practice_day(now) else {
        return Ok(None);
    };
    let since = today
        .checked_sub(jiff::Span::new().days(LOOK_BACK_DAYS))
        .unwrap_or(today);
    let absences = store.absences_until(doctor, &since.to_string()).await?;
    let hours = store
        .reply_settings(doctor)
        .await?
        .and_then(|stored| hours_from_db(&stored.hours))
        .unwrap_or_else(OfficeHours::weekdays_nine_to_six);
    let days: Vec<(&str, &str)> = absences
        .iter()
        .map(|a| (a.from.as_str(), a.to.as_str()))
        .collect();
    Ok(Some(policy(DOCTOR_REMINDER_WORKING_DAYS, hours, &days)))
}
