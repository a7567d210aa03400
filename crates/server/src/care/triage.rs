//! Where a conversation stands in its doctor's queue, and how messages move it on their own.
//!
//! States: `new` → `in_progress` → `waiting_patient` → `done` (docs/protocol.md, "Care
//! workflow"). The doctor moves an open conversation between the first three by hand, and to
//! `done` only by closing it with a reason. Messages move it too:
//! - a message of the doctor on a `new` conversation makes it `in_progress` (they took it);
//! - a message of the patient on a `waiting_patient` conversation makes it `in_progress` (the
//!   awaited answer came; the doctor has it back);
//! - any other message leaves the state as it is.
//!
//! Alongside, `waiting_since` says since when the patient waits for the doctor: set by the
//! patient's first message after the doctor's latest one, cleared by a doctor's message.
//! `urgent_since` works the same way for the patient's messages sent past the red-flag screen
//! (docs/care.md, "Red flags"): set by the first one since the doctor's latest message, cleared
//! by the doctor's next message; closing and reopening clear both.

use colloque_protocol::{Timestamp, TriageState};

/// A conversation's place in the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Triage {
    /// Its state.
    pub state: TriageState,
    /// When it entered it.
    pub since: Timestamp,
    /// Since when the patient waits for the doctor.
    pub waiting_since: Option<Timestamp>,
    /// Since when a message the patient sent past the red-flag screen waits for the doctor.
    pub urgent_since: Option<Timestamp>,
}

impl Triage {
    /// The state of a conversation just started by `by_patient` (or by its doctor): a patient's
    /// request is new; a conversation the doctor starts is already theirs.
    pub fn started(by_patient: bool, at: Timestamp) -> Triage {
        Triage {
            state: if by_patient {
                TriageState::New
            } else {
                TriageState::InProgress
            },
            since: at,
            waiting_since: None,
            urgent_since: None,
        }
    }

    /// The place after a message of the patient (`from_patient`; `urgent` when sent past the
    /// red-flag screen) or of the doctor, stored at `at`. Only open conversations take
    /// messages, so `done` never comes in or out here.
    pub fn after_message(self, from_patient: bool, urgent: bool, at: Timestamp) -> Triage {
        let state = match (self.state, from_patient) {
            (TriageState::WaitingPatient, true) | (TriageState::New, false) => {
                TriageState::InProgress
            }
            (state, _) => state,
        };
        Triage {
            since: if state == self.state { self.since } else { at },
            state,
            waiting_since: if from_patient {
                self.waiting_since.or(Some(at))
            } else {
                None
            },
            urgent_since: match (from_patient, urgent) {
                (true, true) => self.urgent_since.or(Some(at)),
                (true, false) => self.urgent_since,
                (false, _) => None,
            },
        }
    }

    /// Closed: done, and nobody waits any more.
    pub fn closed(at: Timestamp) -> Triage {
        Triage {
            state: TriageState::Done,
            since: at,
            waiting_since: None,
            urgent_since: None,
        }
    }

    /// Reopened by its doctor: back in their hands.
    pub fn reopened(at: Timestamp) -> Triage {
        Triage {
            state: TriageState::InProgress,
            since: at,
            waiting_since: None,
            urgent_since: None,
        }
    }

    /// Moved by hand to `state` (never `done`: the caller refuses it) at `at`; the same place
    /// when it already is there.
    pub fn moved_to(self, state: TriageState, at: Timestamp) -> Triage {
        if state == self.state {
            return self;
        }
        Triage {
            state,
            since: at,
            ..self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TriageState::*;

    fn at(n: i64) -> Timestamp {
        Timestamp(n)
    }

    fn place(state: TriageState, since: i64, waiting: Option<i64>) -> Triage {
        Triage {
            state,
            since: at(since),
            waiting_since: waiting.map(at),
            urgent_since: None,
        }
    }

    #[test]
    fn a_patients_request_starts_new_and_a_doctors_conversation_in_progress() {
        assert_eq!(Triage::started(true, at(5)), place(New, 5, None));
        assert_eq!(Triage::started(false, at(5)), place(InProgress, 5, None));
    }

    #[test]
    fn the_patient_waits_from_their_first_unanswered_message_until_the_doctor_writes() {
        let first = Triage::started(true, at(1)).after_message(true, false, at(10));
        assert_eq!(first, place(New, 1, Some(10)));
        let second = first.after_message(true, false, at(20));
        assert_eq!(
            second,
            place(New, 1, Some(10)),
            "still waiting since the first"
        );
        let answered = second.after_message(false, false, at(30));
        assert_eq!(answered, place(InProgress, 30, None), "taken in hand");
        let again = answered.after_message(true, false, at(40));
        assert_eq!(again, place(InProgress, 30, Some(40)));
    }

    #[test]
    fn the_awaited_answer_brings_the_conversation_back_to_the_doctor() {
        let waiting = place(WaitingPatient, 5, None);
        assert_eq!(
            waiting.after_message(true, false, at(9)),
            place(InProgress, 9, Some(9))
        );
        // The doctor adding a word while waiting does not change the state.
        assert_eq!(
            waiting.after_message(false, false, at(9)),
            place(WaitingPatient, 5, None)
        );
    }

    #[test]
    fn moving_by_hand_keeps_the_wait_and_moving_to_the_same_state_changes_nothing() {
        let current = place(New, 1, Some(3));
        assert_eq!(
            current.moved_to(WaitingPatient, at(7)),
            place(WaitingPatient, 7, Some(3))
        );
        assert_eq!(current.moved_to(New, at(7)), current);
    }

    #[test]
    fn an_urgent_message_stays_urgent_from_the_first_one_until_the_doctor_writes() {
        let start = Triage::started(true, at(1));
        let plain = start.after_message(true, false, at(2));
        assert_eq!(plain.urgent_since, None);
        let urgent = plain.after_message(true, true, at(3));
        assert_eq!(urgent.urgent_since, Some(at(3)));
        let more = urgent
            .after_message(true, false, at(4))
            .after_message(true, true, at(5));
        assert_eq!(more.urgent_since, Some(at(3)), "urgent since the first one");
        assert_eq!(
            more.moved_to(WaitingPatient, at(6)).urgent_since,
            Some(at(3)),
            "a move by hand is not an answer"
        );
        let answered = more.after_message(false, false, at(7));
        assert_eq!(answered.urgent_since, None, "the doctor answered");
        let mut urgent_again = answered.after_message(true, true, at(8));
        assert_eq!(urgent_again.urgent_since, Some(at(8)));
        urgent_again = Triage::closed(at(9));
        assert_eq!(urgent_again.urgent_since, None);
    }

    #[test]
    fn closing_and_reopening_clear_the_wait() {
        assert_eq!(Triage::closed(at(4)), place(Done, 4, None));
        assert_eq!(Triage::reopened(at(6)), place(InProgress, 6, None));
    }
}
