use super::*;
use colloque_protocol::{ConversationId, UserId};

const MIN: i64 = 60 * 1000;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;

/// Wednesday 2027-03-10 12:00 in Paris (11:00 UTC): outside the default quiet hours.
const NOON: i64 = 1_804_676_400_000;

fn paris(text: &str) -> Timestamp {
    let at: jiff::civil::DateTime = text.parse().unwrap();
    Timestamp(
        at.to_zoned_datetime(practice_tz())
            .unwrap()
            .timestamp()
            .as_millisecond(),
    )
}

/// A patient with one unread message from the doctor, seq 3, that came at `at`.
fn patient_with_unread(at: i64) -> NoticeCandidate {
    NoticeCandidate {
        conversation: ConversationId(1),
        user: UserId(10),
        email: "p@example.test".into(),
        patient: true,
        doctor: UserId(1),
        open: true,
        last_seq: Seq(3),
        read_seq: Seq(2),
        notified_seq: Seq(0),
        reminded_key: 0,
        last_sent_at: Timestamp(0),
        first_new_at: Some(Timestamp(at)),
        first_unread: Some((Seq(3), Timestamp(at))),
        waiting_since: None,
        settings: None,
    }
}

/// A doctor who read the patient's message (seq 2, at `at`) but has not answered.
fn doctor_awaited_since(at: i64) -> NoticeCandidate {
    NoticeCandidate {
        user: UserId(1),
        email: "d@example.test".into(),
        patient: false,
        last_seq: Seq(2),
        read_seq: Seq(2),
        notified_seq: Seq(2),
        first_new_at: None,
        first_unread: None,
        waiting_since: Some(Timestamp(at)),
        last_sent_at: Timestamp(at + 5 * MIN),
        ..patient_with_unread(at)
    }
}

fn run(candidate: &NoticeCandidate, now: i64) -> Option<(NoticeKind, i64, i64)> {
    // The doctor's reminder is due two days after the wait started (the office hours' part is
    // `care::reply_due`'s, tested there).
    decide(candidate, Timestamp(now), &Rules::default(), |since| {
        Some(Timestamp(since.0 + 2 * DAY))
    })
    .map(|notice| (notice.kind, notice.notified_seq.0, notice.reminded_key))
}

#[test]
fn a_new_message_is_announced_once_it_stayed_unread_for_the_delay() {
    let fresh = patient_with_unread(NOON);
    assert_eq!(run(&fresh, NOON), None, "at once");
    assert_eq!(run(&fresh, NOON + 4 * MIN), None, "after 4 minutes");
    assert_eq!(
        run(&fresh, NOON + 5 * MIN),
        Some((NoticeKind::NewMessage, 3, 0)),
        "after 5 minutes"
    );
}

#[test]
fn at_most_one_e_mail_per_conversation_and_hour() {
    let announced_at = NOON + 5 * MIN;
    let next = NoticeCandidate {
        last_seq: Seq(4),
        notified_seq: Seq(3),
        last_sent_at: Timestamp(announced_at),
        first_new_at: Some(Timestamp(NOON + 10 * MIN)),
        ..patient_with_unread(NOON)
    };
    assert_eq!(
        run(&next, NOON + 30 * MIN),
        None,
        "25 minutes after the last"
    );
    assert_eq!(
        run(&next, announced_at + HOUR - 1),
        None,
        "a millisecond short"
    );
    assert_eq!(
        run(&next, announced_at + HOUR),
        Some((NoticeKind::NewMessage, 4, 0)),
        "an hour after the last"
    );
}

#[test]
fn what_was_announced_or_read_is_not_announced_again() {
    let told = NoticeCandidate {
        notified_seq: Seq(3),
        last_sent_at: Timestamp(NOON + 5 * MIN),
        first_new_at: None,
        ..patient_with_unread(NOON)
    };
    assert_eq!(run(&told, NOON + 2 * HOUR), None);
}

#[test]
fn a_patient_is_reminded_once_of_an_answer_unread_for_three_days() {
    let told = NoticeCandidate {
        notified_seq: Seq(3),
        last_sent_at: Timestamp(NOON + 5 * MIN),
        first_new_at: None,
        ..patient_with_unread(NOON)
    };
    assert_eq!(run(&told, NOON + 3 * DAY - 1), None, "a millisecond short");
    assert_eq!(
        run(&told, NOON + 3 * DAY),
        Some((NoticeKind::UnreadAnswer, 3, 3)),
        "three days on"
    );
    let reminded = NoticeCandidate {
        reminded_key: 3,
        last_sent_at: Timestamp(NOON + 3 * DAY),
        ..told
    };
    assert_eq!(run(&reminded, NOON + 10 * DAY), None, "once");
}

#[test]
fn a_doctor_is_reminded_once_of_a_wait_past_the_working_days() {
    let awaited = doctor_awaited_since(NOON);
    assert_eq!(
        run(&awaited, NOON + 2 * DAY - 1),
        None,
        "before the due time"
    );
    assert_eq!(
        run(&awaited, NOON + 2 * DAY),
        Some((NoticeKind::AwaitingReply, 2, NOON)),
        "at the due time"
    );
    let reminded = NoticeCandidate {
        reminded_key: NOON,
        last_sent_at: Timestamp(NOON + 2 * DAY),
        ..awaited.clone()
    };
    assert_eq!(run(&reminded, NOON + 9 * DAY), None, "once per wait");
    let closed = NoticeCandidate {
        open: false,
        ..awaited.clone()
    };
    assert_eq!(run(&closed, NOON + 9 * DAY), None, "a closed conversation");
    let answered = NoticeCandidate {
        waiting_since: None,
        ..awaited
    };
    assert_eq!(run(&answered, NOON + 9 * DAY), None, "answered");
}

#[test]
fn nothing_goes_out_during_quiet_hours_nor_to_whom_turned_e_mail_off() {
    let evening = paris("2027-03-10T21:30").0;
    let night_message = patient_with_unread(evening - 10 * MIN);
    assert_eq!(run(&night_message, evening), None, "21:30 by default");
    assert_eq!(
        run(&night_message, paris("2027-03-11T07:59").0),
        None,
        "07:59"
    );
    assert_eq!(
        run(&night_message, paris("2027-03-11T08:00").0),
        Some((NoticeKind::NewMessage, 3, 0)),
        "08:00"
    );
    let night_owl = NoticeCandidate {
        settings: Some(StoredNotificationSettings {
            email: true,
            push: true,
            quiet: None,
        }),
        ..night_message.clone()
    };
    assert!(run(&night_owl, evening).is_some(), "no quiet hours");
    let daytime_quiet = NoticeCandidate {
        settings: Some(StoredNotificationSettings {
            email: true,
            push: true,
            quiet: Some((9 * 60, 17 * 60)),
        }),
        ..patient_with_unread(NOON)
    };
    assert_eq!(run(&daytime_quiet, NOON + HOUR), None, "quiet 09:00–17:00");
    assert!(run(&daytime_quiet, paris("2027-03-10T17:00").0).is_some());
    let off = NoticeCandidate {
        settings: Some(StoredNotificationSettings {
            email: false,
            push: true,
            quiet: None,
        }),
        ..patient_with_unread(NOON)
    };
    assert_eq!(run(&off, NOON + DAY), None, "e-mail off");
}

#[test]
fn the_test_clock_starts_at_noon_in_paris() {
    assert_eq!(paris("2027-03-10T12:00"), Timestamp(NOON));
}
