//! The loaded part of one conversation: its confirmed messages, ordered by sequence number,
//! each at most once, and where its pages stand.

use super::LoadState;
use colloque_protocol::{Message, Seq};

/// The loaded part of one conversation.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Thread {
    /// Confirmed messages by sequence number: ordered, and a message can be there only once.
    /// Those after a gap are kept but not shown until the gap is filled.
    pub messages: Messages,
    /// The latest page.
    pub latest: LoadState,
    /// Older history exists before the first loaded message.
    pub has_more: bool,
    /// Older history is on its way (or failed).
    pub older: LoadState,
}

/// Messages ordered by sequence number, each at most once. A sorted `Vec` rather than a
/// `BTreeMap`: the B-tree's code cost the wasm bundle kilobytes for a list this short.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Messages(Vec<Message>);

impl Messages {
    /// The sequence numbers, in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &Seq> {
        self.0.iter().map(|m| &m.seq)
    }

    /// The messages, in order.
    pub fn values(&self) -> std::slice::Iter<'_, Message> {
        self.0.iter()
    }

    fn position(&self, seq: Seq) -> Result<usize, usize> {
        self.0.binary_search_by(|m| m.seq.cmp(&seq))
    }

    /// Whether the message numbered `seq` is there.
    pub fn contains_key(&self, seq: &Seq) -> bool {
        self.position(*seq).is_ok()
    }

    /// Adds a message unless one with its sequence number is there already.
    pub fn insert_if_absent(&mut self, message: Message) {
        if let Err(at) = self.position(message.seq) {
            self.0.insert(at, message);
        }
    }

    /// Adds a page of messages, skipping those already there. One pass over both lists, so
    /// that paging back through a long conversation stays linear (inserting a page one
    /// message at a time at the front moves the whole list once per message).
    pub fn merge(&mut self, mut page: Vec<Message>) {
        // Pages arrive in order: the sort only checks it.
        crate::small_sort::sort_by_key(&mut page, |m| m.seq);
        page.dedup_by_key(|m| m.seq);
        if page.len() <= 1 {
            page.into_iter().for_each(|m| self.insert_if_absent(m));
            return;
        }
        let old = std::mem::take(&mut self.0);
        let mut merged = Vec::with_capacity(old.len() + page.len());
        let mut old = old.into_iter().peekable();
        for message in page {
            while let Some(kept) = old.next_if(|kept| kept.seq < message.seq) {
                merged.push(kept);
            }
            // The copy already held wins: it is what is on screen.
            if old.peek().is_none_or(|kept| kept.seq != message.seq) {
                merged.push(message);
            }
        }
        merged.extend(old);
        self.0 = merged;
    }

    /// The number of messages.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The messages numbered after `seq`, in order.
    pub fn after(&self, seq: Seq) -> &[Message] {
        &self.0[self.0.partition_point(|m| m.seq <= seq)..]
    }
}

impl Thread {
    /// The end of the gapless run that starts at the first loaded message: what is shown, and
    /// where a catch-up starts.
    pub fn last_seq(&self) -> Option<Seq> {
        let mut seqs = self.messages.keys();
        let mut last = *seqs.next()?;
        for &seq in seqs {
            if seq.0 != last.0 + 1 {
                break;
            }
            last = seq;
        }
        Some(last)
    }

    /// Messages are known beyond a gap: the gap must be fetched.
    pub fn has_gap(&self) -> bool {
        self.messages.keys().next_back().copied() > self.last_seq()
    }

    /// The messages to show: in order, up to the first gap.
    pub fn shown(&self) -> impl Iterator<Item = &Message> {
        let end = self.last_seq().unwrap_or_default();
        self.messages.values().take_while(move |m| m.seq <= end)
    }

    /// The lowest loaded sequence number.
    pub fn first_seq(&self) -> Option<Seq> {
        self.messages.keys().next().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use colloque_protocol::{ClientMsgId, ConversationId, MessageId, Timestamp, UserId};

    fn message(seq: i64, body: &str) -> Message {
        Message {
            id: MessageId(seq),
            conversation_id: ConversationId(1),
            client_id: ClientMsgId(uuid::Uuid::from_u128(seq as u128)),
            seq: Seq(seq),
            sender_id: UserId(1),
            body: body.into(),
            sent_at: Timestamp(seq),
            kind: Default::default(),
            attachments: Vec::new(),
        }
    }

    fn seqs(messages: &Messages) -> Vec<i64> {
        messages.keys().map(|s| s.0).collect()
    }

    #[test]
    fn a_merged_page_keeps_order_and_each_message_once() {
        let mut messages = Messages::default();
        messages.merge((50..=60).map(|s| message(s, "new")).collect());
        // An older page, a page overlapping both ends, a page out of order, a duplicate.
        messages.merge((40..50).map(|s| message(s, "older")).collect());
        messages.merge((58..=65).rev().map(|s| message(s, "overlap")).collect());
        messages.merge(vec![
            message(30, "a"),
            message(30, "b"),
            message(45, "again"),
        ]);
        let mut expected = vec![30];
        expected.extend(40..=65);
        assert_eq!(seqs(&messages), expected);
        let body = |seq| {
            messages
                .values()
                .find(|m| m.seq == Seq(seq))
                .unwrap()
                .body
                .clone()
        };
        assert_eq!(
            body(45),
            "older",
            "a message already held is kept as it was"
        );
        assert_eq!(body(60), "new");
        assert_eq!(body(61), "overlap");
        assert_eq!(messages.len(), expected.len());
    }
}
