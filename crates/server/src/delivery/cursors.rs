//! Cursor moves: a participant's read or delivery cursor moved (docs/protocol.md,
//! "Receipts"); both participants' sockets are told, here at once and on the other instances
//! through the bus (ids, positions and a time only).

use super::{ConnId, Delivery};
use crate::bus::Event;
use crate::store::Cursors;
use colloque_protocol::{ConversationId, ReadCursor, Seq, ServerFrame, UserId};

/// Which of a participant's cursors a call moves ([`crate::chat::move_cursor`]) and which
/// frame tells its move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CursorKind {
    /// How far they have read (`mark_read`, `POST …/read`): carries the time it moved.
    Read,
    /// How far their devices have received (`received`, `POST …/received`).
    Delivered,
}

impl CursorKind {
    /// Where this cursor stands among a participant's cursors.
    pub(crate) fn position(self, cursors: &Cursors) -> Seq {
        match self {
            CursorKind::Read => cursors.read,
            CursorKind::Delivered => cursors.delivered,
        }
    }

    /// This cursor of `user` in `conversation`, as the protocol carries it.
    pub(crate) fn of(
        self,
        cursors: &Cursors,
        user: UserId,
        conversation: ConversationId,
    ) -> ReadCursor {
        match self {
            CursorKind::Read => cursors.read_cursor(user, conversation),
            CursorKind::Delivered => cursors.delivery_cursor(user, conversation),
        }
    }
}

/// The frame that tells a cursor's move.
fn cursor_frame(kind: CursorKind, cursor: ReadCursor) -> ServerFrame {
    match kind {
        CursorKind::Read => ServerFrame::Read { cursor },
        CursorKind::Delivered => ServerFrame::Delivered { cursor },
    }
}

impl Delivery {
    /// A read or delivery cursor moved: tell both participants' sockets (but `origin`, which
    /// asked), here and on the other instances.
    pub fn cursor_moved(
        &self,
        kind: CursorKind,
        cursor: ReadCursor,
        participants: [UserId; 2],
        origin: Option<ConnId>,
    ) {
        self.registry
            .send_to_users(&participants, &cursor_frame(kind, cursor), origin);
        let (conversation, reader, seq) = (cursor.conversation_id, cursor.user_id, cursor.seq);
        let event = match kind {
            CursorKind::Read => Event::Read {
                conversation,
                reader,
                seq,
                at: cursor.at,
                from: cursor.from,
            },
            CursorKind::Delivered => Event::Delivered {
                conversation,
                reader,
                seq,
            },
        };
        for user in participants {
            self.bus.publish(user, event);
        }
    }

    /// Another instance says a cursor moved: tell `user`'s sockets here.
    pub(super) fn cursor_woken(&self, user: UserId, event: Event) {
        let (kind, cursor) = match event {
            Event::Read {
                conversation,
                reader,
                seq,
                at,
                from,
            } => {
                let cursor = ReadCursor {
                    conversation_id: conversation,
                    user_id: reader,
                    seq,
                    at,
                    from,
                };
                (CursorKind::Read, cursor)
            }
            Event::Delivered {
                conversation,
                reader,
                seq,
            } => {
                let cursor = ReadCursor {
                    conversation_id: conversation,
                    user_id: reader,
                    seq,
                    at: None,
                    from: Seq(0),
                };
                (CursorKind::Delivered, cursor)
            }
            _ => return,
        };
        self.registry
            .send_to_user(user, &cursor_frame(kind, cursor));
    }
}
