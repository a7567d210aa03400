//! Frames: decoding what a client sends ([`decode`], [`Refused`]) and the error and close frames
//! the server answers with.

use crate::error::AppError;
use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket};
use colloque_protocol::{ApiError, ClientFrame, ClientMsgId, ErrorCode, ServerFrame};

pub(super) const CLOSE_POLICY: u16 = 1008;
pub(super) const CLOSE_TOO_BIG: u16 = 1009;
pub(super) const CLOSE_NORMAL: u16 = 1000;
pub(super) const CLOSE_GOING_AWAY: u16 = 1001;

/// The frame types this server understands, to tell an unknown `type` from a malformed frame.
const KNOWN_TYPES: [&str; 6] = ["auth", "send", "mark_read", "received", "typing", "ping"];

/// A frame that could not be decoded.
#[derive(Debug)]
pub struct Refused {
    /// `invalid_json` or `unknown_frame`.
    pub code: ErrorCode,
    /// A fixed hint (never quotes the frame).
    pub message: &'static str,
    /// The `client_id` of a malformed `send`, when readable.
    pub client_id: Option<ClientMsgId>,
}

impl Refused {
    /// The error frame answering it.
    pub fn into_frame(self) -> ServerFrame {
        ServerFrame::Error {
            error: ApiError::new(self.code, self.message),
            client_id: self.client_id,
        }
    }
}

/// Parses a client frame. The JSON is read as a value first, so that a frame with an unknown
/// `type` (`unknown_frame`: maybe a newer client) is told apart from one that is malformed
/// (`invalid_json`). A malformed `send` still reports its `client_id` when it has a readable
/// one, so the client can mark that message as failed.
pub fn decode(text: &str) -> Result<ClientFrame, Refused> {
    let refuse = |code, message, client_id| Refused {
        code,
        message,
        client_id,
    };
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|_| refuse(ErrorCode::InvalidJson, "the frame is not valid JSON", None))?;
    let Some(kind) = value.get("type").and_then(serde_json::Value::as_str) else {
        return Err(refuse(
            ErrorCode::InvalidJson,
            "the frame has no string \"type\" field",
            None,
        ));
    };
    if !KNOWN_TYPES.contains(&kind) {
        return Err(refuse(ErrorCode::UnknownFrame, "unknown frame type", None));
    }
    let is_send = kind == "send";
    let client_id = value
        .get("client_id")
        .cloned()
        .and_then(|id| serde_json::from_value::<ClientMsgId>(id).ok());
    serde_json::from_value(value).map_err(|_| {
        refuse(
            ErrorCode::InvalidJson,
            "the frame lacks a field or has a field of the wrong type",
            if is_send { client_id } else { None },
        )
    })
}

pub(super) fn send_client_id(frame: &ClientFrame) -> Option<ClientMsgId> {
    match frame {
        ClientFrame::Send { client_id, .. } => Some(*client_id),
        _ => None,
    }
}

pub(super) fn error_frame(error: &AppError, client_id: Option<ClientMsgId>) -> ServerFrame {
    ServerFrame::Error {
        error: error.to_api_error(),
        client_id,
    }
}

pub(super) fn binary_refused() -> ServerFrame {
    ServerFrame::Error {
        error: ApiError::new(
            ErrorCode::InvalidInput,
            "binary frames are not supported; send JSON text",
        ),
        client_id: None,
    }
}

pub(super) fn close(code: u16, reason: &'static str) -> WsMessage {
    WsMessage::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

pub(super) async fn send_frame(
    socket: &mut WebSocket,
    frame: &ServerFrame,
) -> Result<(), axum::Error> {
    let text = serde_json::to_string(frame).map_err(axum::Error::new)?;
    socket.send(WsMessage::Text(text.into())).await
}

/// axum wraps tungstenite's errors without exposing their type; a message or frame over the
/// configured size is reported as tungstenite's `Error::Capacity`, whose text starts with
/// "Space limit exceeded". (Covered by the `an_oversized_frame_closes_the_socket_with_1009`
/// integration test, which fails if that text ever changes.)
pub(super) fn is_too_big(error: &axum::Error) -> bool {
    error.to_string().contains("Space limit exceeded")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code_of(refused: Refused) -> ErrorCode {
        refused.code
    }

    #[test]
    fn a_frame_that_is_not_json_is_invalid_json() {
        assert_eq!(
            code_of(decode("{not json").unwrap_err()),
            ErrorCode::InvalidJson
        );
    }

    #[test]
    fn a_frame_of_unknown_type_is_unknown_frame() {
        assert_eq!(
            code_of(decode(r#"{"type":"launch_missiles"}"#).unwrap_err()),
            ErrorCode::UnknownFrame
        );
    }

    #[test]
    fn a_known_frame_missing_a_field_is_invalid_json_and_keeps_its_client_id() {
        let frame = decode(
            r#"{"type":"send","client_id":"12345678-9abc-def0-1234-56789abcdef0","conversation_id":"x"}"#,
        )
        .unwrap_err();
        assert_eq!(frame.code, ErrorCode::InvalidJson);
        assert!(frame.client_id.is_some());
    }

    #[test]
    fn a_ping_decodes() {
        assert_eq!(
            decode(r#"{"type":"ping","nonce":4}"#).unwrap(),
            ClientFrame::Ping { nonce: 4 }
        );
    }

    /// Every frame of the protocol is known: one added there and not here would be refused
    /// as `unknown_frame`.
    #[test]
    fn every_client_frame_of_the_protocol_decodes() {
        use colloque_protocol::{ConversationId, Seq};
        let conversation_id = ConversationId(1);
        let frames = [
            ClientFrame::Auth { token: "t".into() },
            ClientFrame::Send {
                conversation_id,
                client_id: ClientMsgId(uuid::Uuid::nil()),
                body: "b".into(),
                urgent: false,
                attachment_ids: Vec::new(),
                template_id: None,
            },
            ClientFrame::MarkRead {
                conversation_id,
                seq: Seq(1),
            },
            ClientFrame::Received {
                conversation_id,
                seq: Seq(1),
            },
            ClientFrame::Typing { conversation_id },
            ClientFrame::Ping { nonce: 1 },
        ];
        for frame in frames {
            // A new variant fails to compile here until it is listed above.
            match &frame {
                ClientFrame::Auth { .. }
                | ClientFrame::Send { .. }
                | ClientFrame::MarkRead { .. }
                | ClientFrame::Received { .. }
                | ClientFrame::Typing { .. }
                | ClientFrame::Ping { .. } => {}
            }
            let text = serde_json::to_string(&frame).unwrap();
            assert_eq!(decode(&text).unwrap(), frame, "{text}");
        }
    }
}
