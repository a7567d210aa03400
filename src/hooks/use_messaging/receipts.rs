//! How far one of the viewer's stored messages has gone (issue 12: "an honest status for every
//! patient message"), read from the other participant's cursors and the conversation's triage
//! state, each moved by a real event on the server (docs/protocol.md, "Receipts").

use colloque_protocol::{ConversationSummary, Seq, Timestamp, TriageState, UserId};

/// A step of a stored message, the highest one reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Stored by the server (Envoyé).
    Sent,
    /// One of the other participant's devices holds it (Reçu).
    Received,
    /// The other participant's read cursor passed it (Lu), at this time when the move that
    /// passed it is the last one (an earlier move's time is not kept).
    Read(Option<Timestamp>),
    /// A patient's message in a conversation the doctor dealt with (Traité).
    Done,
}

impl Step {
    /// The value of the message's `data-step` attribute.
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Sent => "sent",
            Step::Received => "received",
            Step::Read(_) => "read",
            Step::Done => "done",
        }
    }
}

/// The step of the message `seq` that `me` wrote in `c`.
pub fn step(c: &ConversationSummary, me: UserId, seq: Seq) -> Step {
    if c.patient.id == me && c.triage == TriageState::Done {
        Step::Done
    } else if seq <= c.other_read_seq {
        Step::Read(c.other_read_at.filter(|_| seq > c.other_read_from))
    } else if seq <= c.other_delivered_seq {
        // Read implies received: the delivery cursor says more only when it is ahead.
        Step::Received
    } else {
        Step::Sent
    }
}
