//! When to renew the access token: two thirds of its lifetime, and only for a user who did
//! something since it was issued. Pure, so the host tests run it.

use colloque_protocol::Timestamp;

/// Lifetime assumed for a token whose `expires_at` cannot be trusted (the device's clock is
/// far off): the server's access-token lifetime.
const DEFAULT_LIFETIME_MS: i64 = 15 * 60 * 1000;
/// Longer than this and the device clock is off: fall back to the default.
const MAX_LIFETIME_MS: i64 = 24 * 60 * 60 * 1000;
/// Never renew more often than this, whatever the clock says.
const MIN_RENEWAL_DELAY_MS: i64 = 500;

/// How long after receiving a token to renew it: two thirds of its lifetime. A lifetime the
/// device clock makes absurd (already past, or over a day) counts as the usual 15 minutes.
pub fn renewal_delay_ms(expires_at: Timestamp, now: Timestamp) -> u32 {
    let lifetime = expires_at.0 - now.0;
    let lifetime = if lifetime <= 0 || lifetime > MAX_LIFETIME_MS {
        DEFAULT_LIFETIME_MS
    } else {
        lifetime
    };
    (lifetime * 2 / 3).max(MIN_RENEWAL_DELAY_MS) as u32
}

/// When to renew the token: a pure state machine fed by one timer (two thirds of the token's
/// lifetime) and by the user's activity. The token is renewed only if the user did something
/// since it was issued, so an idle session is left to run out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RenewalClock {
    active: bool,
    due: bool,
}

impl RenewalClock {
    /// A token was just received; `active` when the user is there (a login, a page load).
    pub fn issued(active: bool) -> Self {
        Self { active, due: false }
    }

    /// The user did something. True: renew now (the two-thirds mark already passed).
    pub fn activity(&mut self) -> bool {
        self.active = true;
        self.due
    }

    /// Two thirds of the lifetime passed. True: renew now (there was activity).
    pub fn two_thirds(&mut self) -> bool {
        self.due = true;
        self.active
    }

    /// A renewal started.
    pub fn renewing(&mut self) {
        *self = Self::default();
    }

    /// A renewal could not reach the server: try again at the next activity.
    pub fn failed(&mut self) {
        self.due = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_renewed_at_two_thirds_of_its_lifetime() {
        assert_eq!(
            renewal_delay_ms(Timestamp(900_000 + 5), Timestamp(5)),
            600_000
        );
    }

    #[test]
    fn an_absurd_lifetime_counts_as_fifteen_minutes() {
        assert_eq!(renewal_delay_ms(Timestamp(0), Timestamp(10)), 600_000);
        assert_eq!(
            renewal_delay_ms(Timestamp(3 * MAX_LIFETIME_MS), Timestamp(0)),
            600_000
        );
    }

    #[test]
    fn an_active_user_is_renewed_at_the_two_thirds_mark() {
        let mut clock = RenewalClock::issued(false);
        assert!(!clock.activity(), "too early to renew");
        assert!(clock.two_thirds(), "active since the token was issued");
    }

    #[test]
    fn an_idle_user_is_renewed_only_when_they_come_back() {
        let mut clock = RenewalClock::issued(false);
        assert!(!clock.two_thirds(), "nobody there: let it be");
        assert!(clock.activity(), "back before it ran out: renew at once");
        clock.renewing();
        assert!(!clock.activity(), "one renewal at a time");
    }

    #[test]
    fn an_unreachable_server_is_asked_again_at_the_next_activity() {
        let mut clock = RenewalClock::issued(true);
        assert!(clock.two_thirds());
        clock.renewing();
        clock.failed();
        assert!(clock.activity());
    }
}
