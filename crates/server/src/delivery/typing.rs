//! The typing indicator: told to the other participant's sockets, here at once and on the
//! other instances through the bus (ids only). Never stored: a socket that misses one shows
//! no "écrit…" for a few seconds, nothing more.

use super::Delivery;
use crate::bus::Event;
use colloque_protocol::{ConversationId, ServerFrame, UserId};

impl Delivery {
    /// `writer` is writing in `conversation`: tell `reader`'s sockets, on every instance.
    pub fn typing(&self, conversation: ConversationId, writer: UserId, reader: UserId) {
        self.typing_woken(reader, conversation, writer);
        self.bus.publish(
            reader,
            Event::Typing {
                conversation,
                writer,
            },
        );
    }

    /// Tells `reader`'s sockets here.
    pub(super) fn typing_woken(
        &self,
        reader: UserId,
        conversation: ConversationId,
        writer: UserId,
    ) {
        let frame = ServerFrame::Typing {
            conversation_id: conversation,
            user_id: writer,
        };
        self.registry.send_to_user(reader, &frame);
    }
}
