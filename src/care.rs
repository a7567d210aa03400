//! The care workflow's pure logic in the app (issue 12): the words for topics, triage states
//! and intake decisions, the doctor's queue (filters, counts, order), the patient's waiting
//! time, and how a message moves a conversation in the queue — the server's rule
//! (`crates/server/src/care/triage.rs`), applied to the summary a tab holds so that the inbox
//! stays right between the server's own `conversation` frames.

use crate::i18n::{Key, Lang, fill};
use colloque_protocol::{
    Appointment, ConversationStatus, ConversationSummary, IntakeDecision, Message, MessageKind,
    Timestamp, Topic, TriageState, UserId,
};

/// The label of a topic.
pub fn topic_key(topic: Topic) -> Key {
    match topic {
        Topic::PrescriptionRenewal => Key::TopicPrescriptionRenewal,
        Topic::TestResults => Key::TopicTestResults,
        Topic::Administrative => Key::TopicAdministrative,
        Topic::Certificate => Key::TopicCertificate,
        Topic::MedicalQuestion => Key::TopicMedicalQuestion,
    }
}

/// The label of a triage state; the patient reads "waiting for the patient" as "waiting for
/// your reply".
pub fn triage_key(state: TriageState, for_patient: bool) -> Key {
    match state {
        TriageState::New => Key::TriageNew,
        TriageState::InProgress => Key::TriageInProgress,
        TriageState::WaitingPatient if for_patient => Key::TriageWaitingYou,
        TriageState::WaitingPatient => Key::TriageWaitingPatient,
        TriageState::Done => Key::TriageDone,
    }
}

/// What a patient who may not start a request with `doctor` reads, with what to do instead;
/// `None` when they may.
pub fn intake_notice(
    decision: IntakeDecision,
    months: Option<u32>,
    doctor: &str,
    lang: Lang,
) -> Option<String> {
    let months = months.unwrap_or_default().to_string();
    match decision {
        IntakeDecision::Open => None,
        IntakeDecision::IntakeClosed => Some(fill(Key::IntakeClosedNotice.text(lang), &[doctor])),
        IntakeDecision::NotRecentPatient => {
            Some(fill(Key::IntakeRecentNotice.text(lang), &[doctor, &months]))
        }
        IntakeDecision::PatientBlocked => {
            Some(fill(Key::IntakeBlockedNotice.text(lang), &[doctor]))
        }
    }
}

/// "attend depuis 2 j": how long the patient has waited, at `now`, in the largest whole unit
/// (minutes under an hour, hours under a day, then days).
pub fn waiting_text(since: Timestamp, now: Timestamp, lang: Lang) -> String {
    let minutes = ((now.0 - since.0).max(0)) / 60_000;
    let (key, n) = if minutes < 60 {
        (Key::WaitingMinutes, minutes.max(1))
    } else if minutes < 24 * 60 {
        (Key::WaitingHours, minutes / 60)
    } else {
        (Key::WaitingDays, minutes / (24 * 60))
    };
    fill(key.text(lang), &[&n.to_string()])
}

/// How many conversations are in each state, in [`TriageState::ALL`] order.
pub fn counts(list: &[&ConversationSummary]) -> [usize; 4] {
    let mut counts = [0; 4];
    for c in list {
        if let Some(i) = TriageState::ALL.iter().position(|s| *s == c.triage) {
            counts[i] += 1;
        }
    }
    counts
}

/// The doctor's queue for one state: the urgent conversations first, whatever their open
/// state (a patient sent a message past the red-flag screen; oldest first), then the patient who
/// has waited longest (those waiting for the doctor before those who are not), then the longest
/// in that state; closed conversations latest first.
pub fn queue<'a>(
    list: &[&'a ConversationSummary],
    state: TriageState,
    topic: Option<Topic>,
) -> Vec<&'a ConversationSummary> {
    let open = state != TriageState::Done;
    let mut shown: Vec<&ConversationSummary> = list
        .iter()
        .copied()
        .filter(|c| {
            let urgent = open && c.urgent_since.is_some() && c.triage != TriageState::Done;
            (c.triage == state || urgent) && topic.is_none_or(|t| c.topic == t)
        })
        .collect();
    if state == TriageState::Done {
        crate::small_sort::sort_by_key(&mut shown, |c| {
            (
                std::cmp::Reverse(c.last_activity_at),
                std::cmp::Reverse(c.id),
            )
        });
    } else {
        crate::small_sort::sort_by_key(&mut shown, |c| {
            (
                c.urgent_since.is_none(),
                c.urgent_since,
                c.waiting_since.is_none(),
                c.waiting_since.unwrap_or(c.triage_at),
                c.triage_at,
                c.id,
            )
        });
    }
    shown
}

/// A patient's appointments with this doctor around `now`, for the panel beside the thread:
/// the next one (the earliest not yet started) and the last one (the latest already started).
pub fn next_and_last(
    appointments: &[Appointment],
    patient: UserId,
    now: Timestamp,
) -> (Option<&Appointment>, Option<&Appointment>) {
    let theirs = || appointments.iter().filter(|a| a.patient.id == patient);
    let next = theirs()
        .filter(|a| a.starts_at >= now)
        .min_by_key(|a| a.starts_at);
    let last = theirs()
        .filter(|a| a.starts_at < now)
        .max_by_key(|a| a.starts_at);
    (next, last)
}

/// Moves a conversation a tab holds as the server moves it for `message` (already counted as
/// its latest): the patient's wait starts with their first message after the doctor's latest
/// one and ends with the doctor's; the doctor's first reply takes a new request, the patient's
/// answer brings a waiting one back; a closing line closes it, a reopening line reopens it; the
/// doctor's answer (or a closing) ends the promised reply time; an automatic reply moves nothing.
pub fn follow_message(c: &mut ConversationSummary, message: &Message) {
    let at = message.sent_at;
    let moved = |c: &mut ConversationSummary, state: TriageState| {
        if c.triage != state {
            c.triage = state;
            c.triage_at = at;
        }
    };
    match message.kind {
        MessageKind::Closed => {
            c.status = ConversationStatus::Closed;
            c.waiting_since = None;
            c.urgent_since = None;
            c.reply_due = None;
            moved(c, TriageState::Done);
        }
        MessageKind::Reopened => {
            c.status = ConversationStatus::Open;
            c.waiting_since = None;
            moved(c, TriageState::InProgress);
        }
        MessageKind::Text if message.sender_id == c.patient.id => {
            c.waiting_since = c.waiting_since.or(Some(at));
            if c.triage == TriageState::WaitingPatient {
                moved(c, TriageState::InProgress);
            }
        }
        // The automatic reply during an absence is not the doctor answering: nothing moves.
        MessageKind::AutoReply => {}
        MessageKind::Text => {
            c.waiting_since = None;
            c.urgent_since = None;
            // Answered: no promise any more (the server's next view says the same).
            c.reply_due = None;
            if c.triage == TriageState::New {
                moved(c, TriageState::InProgress);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use colloque_protocol::{
        ClientMsgId, ConversationId, MessageId, Role, Seq, UserId, UserProfile,
    };

    const PATIENT: UserId = UserId(4);
    const DOCTOR: UserId = UserId(1);

    fn person(id: UserId, role: Role) -> UserProfile {
        UserProfile {
            id,
            role,
            display_name: format!("{id}"),
            speciality: None,
        }
    }

    fn summary(
        id: i64,
        triage: TriageState,
        triage_at: i64,
        waiting: Option<i64>,
    ) -> ConversationSummary {
        ConversationSummary {
            id: ConversationId(id),
            subject: "Demande".into(),
            status: if triage == TriageState::Done {
                ConversationStatus::Closed
            } else {
                ConversationStatus::Open
            },
            patient: person(PATIENT, Role::Patient),
            doctor: person(DOCTOR, Role::Doctor),
            created_at: Timestamp(0),
            last_activity_at: Timestamp(triage_at),
            last_message: None,
            last_seq: Seq(0),
            my_read_seq: Seq(0),
            other_read_seq: Seq(0),
            other_read_at: None,
            other_read_from: Seq(0),
            other_delivered_seq: Seq(0),
            unread_count: 0,
            topic: Topic::MedicalQuestion,
            triage,
            triage_at: Timestamp(triage_at),
            waiting_since: waiting.map(Timestamp),
            blocked: false,
            urgent_since: None,
            reply_due: None,
            absence: None,
        }
    }

    fn message(sender: UserId, at: i64, kind: MessageKind) -> Message {
        Message {
            id: MessageId(1),
            conversation_id: ConversationId(1),
            seq: Seq(1),
            sender_id: sender,
            client_id: ClientMsgId(uuid::Uuid::nil()),
            body: "x".into(),
            sent_at: Timestamp(at),
            kind,
            attachments: Vec::new(),
        }
    }

    fn ids(list: &[&ConversationSummary]) -> Vec<i64> {
        list.iter().map(|c| c.id.0).collect()
    }

    #[test]
    fn the_queue_puts_the_longest_waiting_patient_first_within_a_state() {
        let all = [
            summary(1, TriageState::New, 50, Some(60)),
            summary(2, TriageState::New, 10, None),
            summary(3, TriageState::New, 70, Some(20)),
            summary(4, TriageState::InProgress, 5, Some(1)),
            summary(5, TriageState::Done, 90, None),
            summary(6, TriageState::Done, 95, None),
        ];
        let list: Vec<&ConversationSummary> = all.iter().collect();
        assert_eq!(ids(&queue(&list, TriageState::New, None)), [3, 1, 2]);
        assert_eq!(ids(&queue(&list, TriageState::InProgress, None)), [4]);
        assert_eq!(
            ids(&queue(&list, TriageState::Done, None)),
            [6, 5],
            "latest closed first"
        );
        assert_eq!(counts(&list), [3, 1, 0, 2]);
    }

    #[test]
    fn urgent_conversations_come_first_in_every_open_stage_oldest_first() {
        let mut late = summary(1, TriageState::InProgress, 5, Some(1));
        late.urgent_since = Some(Timestamp(80));
        let mut early = summary(2, TriageState::New, 50, Some(60));
        early.urgent_since = Some(Timestamp(70));
        let mut closed = summary(5, TriageState::Done, 90, None);
        closed.urgent_since = Some(Timestamp(10));
        let all = [
            late,
            early,
            summary(3, TriageState::New, 70, Some(20)),
            summary(4, TriageState::WaitingPatient, 5, None),
            closed,
        ];
        let list: Vec<&ConversationSummary> = all.iter().collect();
        assert_eq!(ids(&queue(&list, TriageState::New, None)), [2, 1, 3]);
        assert_eq!(
            ids(&queue(&list, TriageState::WaitingPatient, None)),
            [2, 1, 4]
        );
        assert_eq!(ids(&queue(&list, TriageState::Done, None)), [5]);
        assert_eq!(counts(&list), [2, 1, 1, 1], "counted in their own stage");
    }

    #[test]
    fn the_doctors_message_or_a_closing_ends_the_urgency_in_a_tab() {
        let mut c = summary(1, TriageState::InProgress, 5, Some(1));
        c.urgent_since = Some(Timestamp(3));
        follow_message(&mut c, &message(PATIENT, 9, MessageKind::Text));
        assert_eq!(
            c.urgent_since,
            Some(Timestamp(3)),
            "the patient writing again"
        );
        follow_message(&mut c, &message(DOCTOR, 10, MessageKind::Text));
        assert_eq!(c.urgent_since, None);
        c.urgent_since = Some(Timestamp(11));
        follow_message(&mut c, &message(DOCTOR, 12, MessageKind::Closed));
        assert_eq!(c.urgent_since, None);
    }

    #[test]
    fn beside_the_thread_the_next_appointment_is_the_earliest_to_come_and_the_last_the_latest_past()
    {
        let at = |patient: UserId, starts: i64| Appointment {
            id: colloque_protocol::AppointmentId(starts),
            patient: person(patient, Role::Patient),
            doctor: person(DOCTOR, Role::Doctor),
            starts_at: Timestamp(starts),
            duration_minutes: 20,
            location: String::new(),
            reason: String::new(),
        };
        let other = UserId(99);
        let list = [
            at(PATIENT, 50),
            at(PATIENT, 300),
            at(other, 150),
            at(PATIENT, 200),
            at(PATIENT, 10),
            at(other, 90),
        ];
        let (next, last) = next_and_last(&list, PATIENT, Timestamp(100));
        assert_eq!(next.map(|a| a.starts_at.0), Some(200));
        assert_eq!(last.map(|a| a.starts_at.0), Some(50));
        let (next, last) = next_and_last(&list, PATIENT, Timestamp(1_000));
        assert_eq!(
            (next.map(|a| a.starts_at.0), last.map(|a| a.starts_at.0)),
            (None, Some(300))
        );
        assert_eq!(
            next_and_last(&list, UserId(7), Timestamp(100)),
            (None, None)
        );
    }

    #[test]
    fn the_queue_filters_by_topic() {
        let mut renewal = summary(1, TriageState::New, 1, Some(1));
        renewal.topic = Topic::PrescriptionRenewal;
        let other = summary(2, TriageState::New, 1, Some(2));
        let list = [&renewal, &other];
        assert_eq!(
            ids(&queue(
                &list,
                TriageState::New,
                Some(Topic::PrescriptionRenewal)
            )),
            [1]
        );
        assert_eq!(ids(&queue(&list, TriageState::New, None)), [1, 2]);
    }

    #[test]
    fn the_waiting_time_reads_in_minutes_hours_then_days() {
        let t = |minutes: i64| Timestamp(minutes * 60_000);
        assert_eq!(waiting_text(t(0), t(0), Lang::Fr), "attend depuis 1 min");
        assert_eq!(waiting_text(t(0), t(59), Lang::Fr), "attend depuis 59 min");
        assert_eq!(
            waiting_text(t(0), t(60 * 5 + 3), Lang::Fr),
            "attend depuis 5 h"
        );
        assert_eq!(
            waiting_text(t(0), t(60 * 24 * 2 + 7), Lang::Fr),
            "attend depuis 2 j"
        );
        assert_eq!(
            waiting_text(t(0), t(60 * 24 * 2), Lang::En),
            "waiting for 2 d"
        );
    }

    #[test]
    fn every_topic_and_state_has_words_in_both_languages() {
        for topic in Topic::ALL {
            for lang in [Lang::Fr, Lang::En] {
                assert!(!topic_key(topic).text(lang).is_empty());
            }
        }
        assert_eq!(
            topic_key(Topic::PrescriptionRenewal).text(Lang::Fr),
            "Renouvellement d’ordonnance"
        );
        assert_eq!(
            triage_key(TriageState::WaitingPatient, false).text(Lang::Fr),
            "En attente du patient"
        );
        assert_eq!(
            triage_key(TriageState::WaitingPatient, true).text(Lang::Fr),
            "En attente de votre réponse"
        );
    }

    #[test]
    fn a_patient_who_may_not_write_is_told_why_and_what_to_do() {
        assert_eq!(
            intake_notice(IntakeDecision::Open, None, "Dr Martin", Lang::Fr),
            None
        );
        let recent = intake_notice(
            IntakeDecision::NotRecentPatient,
            Some(6),
            "Dr Claire Martin",
            Lang::Fr,
        )
        .unwrap();
        assert!(recent.starts_with("Dr Claire Martin réserve la messagerie"));
        assert!(recent.contains("6 derniers mois") && recent.contains("rendez-vous"));
        let closed = intake_notice(
            IntakeDecision::IntakeClosed,
            None,
            "Dr Paul Durand",
            Lang::En,
        )
        .unwrap();
        assert!(closed.contains("call the practice"));
    }

    #[test]
    fn messages_move_the_summary_as_the_server_moves_the_conversation() {
        let mut c = summary(1, TriageState::New, 0, None);
        follow_message(&mut c, &message(PATIENT, 10, MessageKind::Text));
        follow_message(&mut c, &message(PATIENT, 20, MessageKind::Text));
        assert_eq!(
            (c.triage, c.waiting_since),
            (TriageState::New, Some(Timestamp(10)))
        );
        follow_message(&mut c, &message(DOCTOR, 30, MessageKind::Text));
        assert_eq!((c.triage, c.waiting_since), (TriageState::InProgress, None));
        assert_eq!(c.triage_at, Timestamp(30));
        c.triage = TriageState::WaitingPatient;
        follow_message(&mut c, &message(PATIENT, 40, MessageKind::Text));
        assert_eq!(
            (c.triage, c.waiting_since),
            (TriageState::InProgress, Some(Timestamp(40)))
        );
        follow_message(&mut c, &message(DOCTOR, 50, MessageKind::Closed));
        assert_eq!(
            (c.status, c.triage, c.waiting_since),
            (ConversationStatus::Closed, TriageState::Done, None)
        );
        follow_message(&mut c, &message(DOCTOR, 60, MessageKind::Reopened));
        assert_eq!(
            (c.status, c.triage),
            (ConversationStatus::Open, TriageState::InProgress)
        );
    }
}
