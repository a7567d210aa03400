//! The checker, in the style of Jepsen's total-queue: it compares what each client wrote and
//! sent, what the server acknowledged, what is stored after a final SIGKILL and restart, and
//! what each client delivered to its UI.
//!
//! - lost: a message sent (or acknowledged) but not stored; a stored message that a side did
//!   not deliver; a message given up (permanent refusal) or still in an outbox at the end;
//! - duplicated: a (sender, client id) or a message text stored twice; a seq or client id
//!   delivered twice to one UI;
//! - out of order: stored seqs that are not exactly 1..=n; a UI whose deliveries are not
//!   1, 2, 3, ... (a jump is a gap, a step back a reordering);
//! - anomalies (also fatal): an ack that differs from what is stored, two different messages
//!   for one seq, a stored or delivered message nobody wrote;
//! - recovered: messages that were in flight when their socket died (server killed or socket
//!   cut) and were confirmed later, after a retry.

use crate::client::{Client, SendRecord};
use colloque_protocol::{ClientMsgId, Message, Seq, UserId};
use std::collections::{HashMap, HashSet};
use std::fmt::Write;

/// The figures of one run.
#[derive(Debug, Default)]
pub struct Report {
    /// Messages written by the clients.
    pub written: u64,
    /// Written messages sent at least once.
    pub sent: u64,
    /// Confirmed by an `ack` frame.
    pub acked: u64,
    /// Confirmed by a history page before any ack (the ack was lost with its socket).
    pub confirmed_by_history: u64,
    /// Messages stored on the server.
    pub stored: u64,
    /// Delivered to each side's UI: (side, count).
    pub delivered: Vec<(&'static str, u64)>,
    /// See the module documentation.
    pub lost: u64,
    /// Of the lost, messages never confirmed nor refused: still waiting in an outbox when the
    /// run ended (the server stopped storing, or the run hit its deadline).
    pub pending_at_end: u64,
    /// See the module documentation.
    pub duplicated: u64,
    /// See the module documentation.
    pub out_of_order: u64,
    /// See the module documentation.
    pub anomalies: u64,
    /// Confirmed after a retry, having been in flight when a socket died.
    pub recovered: u64,
    /// Of the recovered, those already stored before their socket died (only the ack was
    /// lost: the retry was answered with the original message).
    pub recovered_replayed: u64,
    /// `send` frames beyond the first of each message.
    pub resends: u64,
    /// Pairs of one sender's messages stored in the opposite order to their writing (allowed:
    /// no head-of-line blocking; informational).
    pub sender_reorderings: u64,
    /// Every problem found, in words (empty when the run is correct).
    pub problems: Vec<String>,
}

impl Report {
    /// True when nothing was lost, duplicated, reordered or inconsistent.
    pub fn ok(&self) -> bool {
        self.lost == 0 && self.duplicated == 0 && self.out_of_order == 0 && self.anomalies == 0
    }

    fn problem(&mut self, text: String) {
        if self.problems.len() < 50 {
            self.problems.push(text);
        } else if self.problems.len() == 50 {
            self.problems.push("… (more problems not shown)".into());
        }
    }
}

/// What one client did, as the checker sees it.
pub struct Side<'a> {
    /// "patient" or "doctor".
    pub name: &'static str,
    /// The user.
    pub user_id: UserId,
    /// Every message it wrote.
    pub records: &'a [SendRecord],
    /// What its UI showed, in order.
    pub delivered: &'a [Message],
    /// Inconsistencies the client noticed on the wire (two messages for one seq, acks for
    /// unknown client ids, messages of another conversation).
    pub wire_anomalies: u64,
}

impl<'a> Side<'a> {
    /// A client's history.
    pub fn of(client: &'a Client) -> Side<'a> {
        let stats = &client.stats;
        Side {
            name: client.config.name,
            user_id: client.user_id,
            records: &client.records,
            delivered: &client.delivered,
            wire_anomalies: stats.seq_conflicts + stats.unknown_acks + stats.foreign,
        }
    }
}

/// Checks the clients' histories against what the server stored (every message of the
/// conversation, as read from the history API after the last restart).
pub fn check(clients: &[Side<'_>], stored: &[Message]) -> Report {
    let mut report = Report {
        stored: stored.len() as u64,
        ..Report::default()
    };

    // The stored history itself: seqs exactly 1..=n, in order.
    for (index, message) in stored.iter().enumerate() {
        let expected = Seq(index as i64 + 1);
        if message.seq != expected {
            report.out_of_order += 1;
            report.problem(format!(
                "stored: position {} has seq {} (expected {expected})",
                index + 1,
                message.seq
            ));
        }
    }
    let mut by_key: HashMap<(UserId, ClientMsgId), Vec<&Message>> = HashMap::new();
    let mut by_body: HashMap<&str, u32> = HashMap::new();
    for message in stored {
        by_key
            .entry((message.sender_id, message.client_id))
            .or_default()
            .push(message);
        *by_body.entry(message.body.as_str()).or_default() += 1;
    }
    for ((sender, client_id), copies) in &by_key {
        if copies.len() > 1 {
            report.duplicated += copies.len() as u64 - 1;
            let seqs: Vec<i64> = copies.iter().map(|m| m.seq.0).collect();
            report.problem(format!(
                "stored: sender {sender} client id {client_id} stored {} times (seqs {seqs:?})",
                copies.len()
            ));
        }
    }
    for (body, count) in &by_body {
        if *count > 1 {
            report.duplicated += u64::from(*count) - 1;
            report.problem(format!("stored: the text {body:?} is stored {count} times"));
        }
    }

    // Each sender's history against the store.
    let mut written_keys: HashSet<(UserId, ClientMsgId)> = HashSet::new();
    for client in clients {
        let name = client.name;
        let mut stored_seqs_in_writing_order = Vec::new();
        for record in client.records {
            written_keys.insert((client.user_id, record.client_id));
            report.written += 1;
            if record.attempts > 0 {
                report.sent += 1;
                report.resends += u64::from(record.attempts - 1);
            }
            if let Some(message) = &record.confirmed {
                if record.confirmed_by_ack {
                    report.acked += 1;
                } else {
                    report.confirmed_by_history += 1;
                }
                if record.interrupted > 0 {
                    report.recovered += 1;
                    if record
                        .last_interrupted_ms
                        .is_some_and(|at| message.sent_at.0 <= at)
                    {
                        report.recovered_replayed += 1;
                    }
                }
            }
            if record.conflicting_confirmations > 0 {
                report.anomalies += 1;
                report.problem(format!(
                    "{name}: {} got {} confirmations that disagree with the first",
                    record.client_id, record.conflicting_confirmations
                ));
            }
            if let Some(code) = record.failed {
                report.problem(format!(
                    "{name}: {} was refused permanently ({code:?})",
                    record.client_id
                ));
            }
            match by_key.get(&(client.user_id, record.client_id)) {
                None => {
                    report.lost += 1;
                    if record.confirmed.is_none() && record.failed.is_none() {
                        report.pending_at_end += 1;
                    }
                    let state = match (&record.confirmed, record.attempts) {
                        (Some(_), _) => "ACKNOWLEDGED",
                        (None, 0) => "never sent (still in the outbox)",
                        (None, _) => "sent, never acknowledged",
                    };
                    report.problem(format!(
                        "{name}: {} {:?} is not stored; it was {state} ({} attempts, {} \
                         interruptions)",
                        record.client_id, record.body, record.attempts, record.interrupted
                    ));
                }
                Some(copies) => {
                    let first = copies[0];
                    stored_seqs_in_writing_order.push(first.seq);
                    if first.body != record.body {
                        report.anomalies += 1;
                        report.problem(format!(
                            "{name}: {} is stored with another text",
                            record.client_id
                        ));
                    }
                    if let Some(confirmed) = &record.confirmed
                        && confirmed != first
                    {
                        report.anomalies += 1;
                        report.problem(format!(
                            "{name}: {} was confirmed as seq {} but is stored as seq {}",
                            record.client_id, confirmed.seq, first.seq
                        ));
                    }
                    if record.confirmed.is_none() {
                        // Stored, but the client never learnt it: still in its outbox.
                        report.lost += 1;
                        report.problem(format!(
                            "{name}: {} is stored (seq {}) but was never confirmed to its \
                             sender",
                            record.client_id, first.seq
                        ));
                    }
                }
            }
        }
        report.sender_reorderings += stored_seqs_in_writing_order
            .windows(2)
            .filter(|pair| pair[1] < pair[0])
            .count() as u64;
    }
    for message in stored {
        if !written_keys.contains(&(message.sender_id, message.client_id)) {
            report.anomalies += 1;
            report.problem(format!(
                "stored: seq {} (sender {}, client id {}) was written by nobody",
                message.seq, message.sender_id, message.client_id
            ));
        }
    }

    // Each UI against the store.
    let by_seq: HashMap<Seq, &Message> = stored.iter().map(|m| (m.seq, m)).collect();
    for client in clients {
        let name = client.name;
        report.delivered.push((name, client.delivered.len() as u64));
        let mut seen_seqs = HashSet::new();
        let mut seen_ids = HashSet::new();
        let mut previous = Seq(0);
        for message in client.delivered {
            if !seen_seqs.insert(message.seq)
                || !seen_ids.insert((message.sender_id, message.client_id))
            {
                report.duplicated += 1;
                report.problem(format!(
                    "{name}: seq {} ({}) delivered twice",
                    message.seq, message.client_id
                ));
            }
            if message.seq.0 != previous.0 + 1 {
                report.out_of_order += 1;
                report.problem(format!(
                    "{name}: seq {} delivered right after seq {previous}",
                    message.seq
                ));
            }
            previous = message.seq;
            match by_seq.get(&message.seq) {
                Some(stored) if *stored == message => {}
                Some(_) => {
                    report.anomalies += 1;
                    report.problem(format!(
                        "{name}: seq {} delivered differs from the stored one",
                        message.seq
                    ));
                }
                None => {
                    report.anomalies += 1;
                    report.problem(format!(
                        "{name}: seq {} delivered but not stored",
                        message.seq
                    ));
                }
            }
        }
        for message in stored {
            if !seen_seqs.contains(&message.seq) {
                report.lost += 1;
                report.problem(format!(
                    "{name}: stored seq {} ({}) was never delivered to its UI",
                    message.seq, message.client_id
                ));
            }
        }
        if client.wire_anomalies > 0 {
            report.anomalies += client.wire_anomalies;
            report.problem(format!(
                "{name}: {} inconsistencies on the wire (two messages for one seq, acks for \
                 unknown client ids, messages of another conversation)",
                client.wire_anomalies
            ));
        }
    }
    report
}

/// The report as printed at the end of a run.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let delivered: Vec<String> = report
        .delivered
        .iter()
        .map(|(side, count)| format!("{side} {count}"))
        .collect();
    let _ = writeln!(
        out,
        "  written {}  sent {}  acked {} (+{} confirmed by history)  stored {}  delivered: {}",
        report.written,
        report.sent,
        report.acked,
        report.confirmed_by_history,
        report.stored,
        delivered.join(", ")
    );
    let _ = writeln!(
        out,
        "  lost {} ({} of them still pending in an outbox)  duplicated {}  out-of-order {}  \
         anomalies {}",
        report.lost,
        report.pending_at_end,
        report.duplicated,
        report.out_of_order,
        report.anomalies
    );
    let _ = writeln!(
        out,
        "  recovered {} (in flight when their socket died, confirmed after a retry; {} of them \
         had been stored before the cut and only the ack was lost)",
        report.recovered, report.recovered_replayed
    );
    let _ = writeln!(
        out,
        "  resends {}  sender reorderings {} (allowed: a retried message may land after a later one)",
        report.resends, report.sender_reorderings
    );
    for problem in &report.problems {
        let _ = writeln!(out, "  PROBLEM: {problem}");
    }
    out
}

#[cfg(test)]
mod tests {
    //! A checker that cannot fail proves nothing: feed it broken histories.

    use super::*;
    use colloque_protocol::{ConversationId, MessageId, Timestamp};

    const ME: UserId = UserId(7);

    fn message(seq: i64, id: u128) -> Message {
        Message {
            id: MessageId(seq),
            conversation_id: ConversationId(1),
            seq: Seq(seq),
            sender_id: ME,
            client_id: ClientMsgId(uuid::Uuid::from_u128(id)),
            body: format!("m{id}"),
            sent_at: Timestamp(seq),
            kind: Default::default(),
            attachments: Vec::new(),
        }
    }

    fn record(id: u128, confirmed: Option<Message>) -> SendRecord {
        SendRecord {
            client_id: ClientMsgId(uuid::Uuid::from_u128(id)),
            body: format!("m{id}"),
            attempts: 1,
            acks: u32::from(confirmed.is_some()),
            confirmed_by_ack: confirmed.is_some(),
            confirmed,
            interrupted: 0,
            last_interrupted_ms: None,
            transient_errors: 0,
            failed: None,
            conflicting_confirmations: 0,
        }
    }

    fn side<'a>(records: &'a [SendRecord], delivered: &'a [Message]) -> Side<'a> {
        Side {
            name: "patient",
            user_id: ME,
            records,
            delivered,
            wire_anomalies: 0,
        }
    }

    #[test]
    fn a_clean_history_passes() {
        let stored = vec![message(1, 1), message(2, 2)];
        let records = vec![
            record(1, Some(stored[0].clone())),
            record(2, Some(stored[1].clone())),
        ];
        let report = check(&[side(&records, &stored)], &stored);
        assert!(report.ok(), "{}", render(&report));
        assert_eq!((report.sent, report.acked, report.stored), (2, 2, 2));
    }

    #[test]
    fn an_acknowledged_message_missing_from_the_store_is_lost() {
        let stored = vec![message(1, 1)];
        let records = vec![
            record(1, Some(stored[0].clone())),
            record(2, Some(message(2, 2))),
        ];
        let report = check(&[side(&records, &stored)], &stored);
        assert_eq!(report.lost, 1);
        assert!(report.problems[0].contains("ACKNOWLEDGED"));
    }

    #[test]
    fn a_message_stored_twice_is_a_duplicate() {
        let mut again = message(2, 1);
        again.id = MessageId(99);
        let stored = vec![message(1, 1), again];
        let records = vec![record(1, Some(stored[0].clone()))];
        let report = check(&[side(&records, &stored)], &stored);
        assert!(report.duplicated >= 1);
    }

    #[test]
    fn a_delivery_gap_or_repeat_is_caught() {
        let stored = vec![message(1, 1), message(2, 2), message(3, 3)];
        let records: Vec<SendRecord> = stored
            .iter()
            .map(|m| record(m.seq.0 as u128, Some(m.clone())))
            .collect();
        let skipped = vec![stored[0].clone(), stored[2].clone()];
        let report = check(&[side(&records, &skipped)], &stored);
        assert_eq!((report.out_of_order, report.lost), (1, 1));
        let repeated = vec![
            stored[0].clone(),
            stored[1].clone(),
            stored[1].clone(),
            stored[2].clone(),
        ];
        let report = check(&[side(&records, &repeated)], &stored);
        assert!(report.duplicated >= 1 && report.out_of_order >= 1);
    }

    #[test]
    fn a_seq_gap_in_the_store_is_out_of_order() {
        let stored = vec![message(1, 1), message(3, 3)];
        let records = vec![
            record(1, Some(stored[0].clone())),
            record(3, Some(stored[1].clone())),
        ];
        let report = check(&[side(&records, &stored)], &stored);
        assert!(report.out_of_order >= 1);
    }
}
