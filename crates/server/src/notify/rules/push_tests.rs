//! [`decide_push`]'s table.

use super::*;
use colloque_protocol::{ConversationId, UserId};

const MIN: i64 = 60 * 1000;
const HOUR: i64 = 60 * MIN;

/// Wednesday 2027-03-10 12:00 in Paris (11:00 UTC): outside the default quiet hours.
const NOON: i64 = 1_804_676_400_000;
/// The same day at 23:00 in Paris: inside them.
const NIGHT: i64 = NOON + 11 * HOUR;

/// Someone with a subscribed browser and a message of the other participant, seq 3, that came
/// at `at`, never announced by push.
fn unread_since(at: i64) -> PushCandidate {
    PushCandidate {
        conversation: ConversationId(1),
        user: UserId(10),
        last_seq: Seq(3),
        notified_seq: Seq(0),
        last_sent_at: Timestamp(0),
        first_new_at: Some(Timestamp(at)),
        settings: None,
    }
}

fn settings(push: bool, quiet: Option<(u16, u16)>) -> Option<StoredNotificationSettings> {
    Some(StoredNotificationSettings {
        email: true,
        push,
        quiet,
    })
}

#[test]
fn the_push_rules() {
    let rules = Rules::default();
    let cases: [(&str, PushCandidate, i64, Option<i64>); 9] = [
        ("at once", unread_since(NOON), NOON, None),
        ("before the delay", unread_since(NOON), NOON + 4 * MIN, None),
        (
            "after the delay",
            unread_since(NOON),
            NOON + 5 * MIN,
            Some(3),
        ),
        (
            "push off",
            PushCandidate {
                settings: settings(false, None),
                ..unread_since(NOON)
            },
            NOON + HOUR,
            None,
        ),
        (
            "the default quiet hours",
            unread_since(NIGHT),
            NIGHT + 10 * MIN,
            None,
        ),
        (
            "no quiet hours chosen",
            PushCandidate {
                settings: settings(true, None),
                ..unread_since(NIGHT)
            },
            NIGHT + 10 * MIN,
            Some(3),
        ),
        (
            "less than an hour after the last push",
            PushCandidate {
                last_sent_at: Timestamp(NOON - 30 * MIN),
                notified_seq: Seq(2),
                ..unread_since(NOON)
            },
            NOON + 10 * MIN,
            None,
        ),
        (
            "an hour after the last push",
            PushCandidate {
                last_sent_at: Timestamp(NOON - 50 * MIN),
                notified_seq: Seq(2),
                ..unread_since(NOON)
            },
            NOON + 10 * MIN,
            Some(3),
        ),
        (
            "nothing new (read or announced)",
            PushCandidate {
                first_new_at: None,
                ..unread_since(NOON)
            },
            NOON + HOUR,
            None,
        ),
    ];
    for (name, candidate, now, expected) in cases {
        assert_eq!(
            decide_push(&candidate, Timestamp(now), &rules).map(|seq| seq.0),
            expected,
            "{name}"
        );
    }
}
