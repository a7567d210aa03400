//! Each user's notification choices: read, replaced (audited), and e-mail turned off by the
//! one-click link of an e-mail.

use super::rules::default_settings;
use crate::audit::{Action, Entry, Source};
use crate::auth::AuthUser;
use crate::care::hours::{format_time, parse_time};
use crate::chat::detached;
use crate::error::AppError;
use crate::state::AppState;
use crate::store::model::StoredNotificationSettings;
use crate::util::now_ms;
use colloque_protocol::{NotificationSettings, QuietHours, UserId};

fn to_wire(stored: StoredNotificationSettings) -> NotificationSettings {
    NotificationSettings {
        email: stored.email,
        push: stored.push,
        quiet_hours: stored.quiet.map(|(from, to)| QuietHours {
            from: format_time(from),
            to: format_time(to),
        }),
    }
}

/// The choices of `request`, if valid: quiet hours as two `HH:MM` times (equal times are a
/// pause of no length: never quiet; the contract's schema cannot refuse them, so the server
/// gives them a meaning).
fn parse(request: &NotificationSettings) -> Result<StoredNotificationSettings, AppError> {
    let quiet = match &request.quiet_hours {
        None => None,
        Some(QuietHours { from, to }) => {
            let (Some(from), Some(to)) = (parse_time(from), parse_time(to)) else {
                return Err(AppError::InvalidInput(
                    "quiet_hours.from and quiet_hours.to must be HH:MM, 00:00 to 23:59".into(),
                ));
            };
            Some((from, to))
        }
    };
    Ok(StoredNotificationSettings {
        email: request.email,
        push: request.push,
        quiet,
    })
}

/// The caller's choices (the defaults if they made none).
pub async fn settings(state: &AppState, user: &AuthUser) -> Result<NotificationSettings, AppError> {
    let stored = state.store.notification_settings(user.id).await?;
    Ok(to_wire(stored.unwrap_or_else(default_settings)))
}

/// Replaces the caller's choices; audited in the same transaction.
pub async fn update(
    state: &AppState,
    source: &Source,
    user: &AuthUser,
    request: &NotificationSettings,
) -> Result<NotificationSettings, AppError> {
    let stored = parse(request)?;
    let (state, source, user) = (state.clone(), source.clone(), user.clone());
    detached(async move {
        let mut tx = state.store.begin_write().await?;
        tx.set_notification_settings(user.id, &stored, now_ms())
            .await?;
        let detail = format!(
            "email {}, push {}",
            if stored.email { "on" } else { "off" },
            if stored.push { "on" } else { "off" }
        );
        let entry = Entry::new(Action::NotificationSettingsChanged, Some(user.id)).detail(detail);
        tx.audit(&source, &entry).await?;
        tx.commit().await?;
        Ok(to_wire(stored))
    })
    .await
}

/// Turns e-mail off for the user a valid unsubscribe token names (404 for any other token);
/// audited. Idempotent.
pub async fn unsubscribe(state: &AppState, source: &Source, token: &str) -> Result<(), AppError> {
    let user: UserId = state
        .notifier
        .unsubscribe
        .verify(token)
        .ok_or(AppError::NotFound)?;
    let quiet = default_settings().quiet.unwrap_or_default();
    let source = source.clone();
    let state = state.clone();
    detached(async move {
        let mut tx = state.store.begin_write().await?;
        if !tx.email_off(user, quiet, now_ms()).await? {
            return Err(AppError::NotFound);
        }
        tx.audit(&source, &Entry::new(Action::EmailUnsubscribed, Some(user)))
            .await?;
        tx.commit().await?;
        Ok(())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(quiet: Option<(&str, &str)>) -> NotificationSettings {
        NotificationSettings {
            email: true,
            push: false,
            quiet_hours: quiet.map(|(from, to)| QuietHours {
                from: from.into(),
                to: to.into(),
            }),
        }
    }

    #[test]
    fn quiet_hours_are_two_times_or_none() {
        assert_eq!(
            parse(&request(Some(("21:00", "08:00")))).unwrap().quiet,
            Some((21 * 60, 8 * 60))
        );
        assert_eq!(parse(&request(None)).unwrap().quiet, None);
        assert_eq!(
            parse(&request(Some(("21:00", "21:00")))).unwrap().quiet,
            Some((21 * 60, 21 * 60)),
            "a pause of no length"
        );
        for (from, to) in [("24:00", "08:00"), ("9:00", "17:00"), ("", "")] {
            assert!(parse(&request(Some((from, to)))).is_err(), "{from}–{to}");
        }
    }

    #[test]
    fn the_choices_read_back_as_they_were_written() {
        let wire = request(Some(("22:30", "07:15")));
        assert_eq!(to_wire(parse(&wire).unwrap()), wire);
    }
}
