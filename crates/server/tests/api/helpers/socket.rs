//! The test WebSocket client: frames in and out, with a timeout on every wait.

use super::FRAME_TIMEOUT;
use colloque_protocol::{ClientFrame, ClientMsgId, ServerFrame};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub struct Socket {
    pub stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// What the server did next on a socket.
#[derive(Debug)]
pub enum Event {
    Frame(Box<ServerFrame>),
    Closed(Option<u16>),
}

impl Socket {
    pub async fn send(&mut self, frame: &ClientFrame) {
        self.send_text(&serde_json::to_string(frame).unwrap()).await;
    }

    pub async fn send_text(&mut self, text: &str) {
        self.stream
            .send(WsMessage::Text(text.into()))
            .await
            .expect("frame sent");
    }

    /// The next frame or close, failing the test after [`FRAME_TIMEOUT`].
    pub async fn next_event(&mut self) -> Event {
        loop {
            let received = tokio::time::timeout(FRAME_TIMEOUT, self.stream.next())
                .await
                .expect("the server answered in time");
            match received {
                Some(Ok(WsMessage::Text(text))) => {
                    return Event::Frame(Box::new(
                        serde_json::from_str(text.as_str()).expect("valid frame"),
                    ));
                }
                Some(Ok(WsMessage::Close(frame))) => {
                    return Event::Closed(frame.map(|frame| u16::from(frame.code)));
                }
                Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_))) => continue,
                Some(Ok(other)) => panic!("unexpected websocket message {other:?}"),
                Some(Err(_)) | None => return Event::Closed(None),
            }
        }
    }

    /// The next error frame's code and client id (panics on anything else).
    pub async fn next_error(&mut self) -> (colloque_protocol::ErrorCode, Option<ClientMsgId>) {
        match self.next_frame().await {
            ServerFrame::Error { error, client_id } => (error.code, client_id),
            other => panic!("expected an error frame, got {other:?}"),
        }
    }

    pub async fn next_frame(&mut self) -> ServerFrame {
        match self.next_event().await {
            Event::Frame(frame) => *frame,
            Event::Closed(code) => panic!("socket closed ({code:?}) while a frame was expected"),
        }
    }

    /// Waits for the close, returning its code (frames before it are skipped).
    pub async fn closed_with(&mut self) -> Option<u16> {
        loop {
            if let Event::Closed(code) = self.next_event().await {
                return code;
            }
        }
    }

    /// Asserts that nothing else was queued for this socket: a ping's pong is the very next
    /// frame (the server answers frames of one socket in order, after every push queued before).
    pub async fn assert_nothing_pending(&mut self) {
        let nonce = rand_nonce();
        self.send(&ClientFrame::Ping { nonce }).await;
        match self.next_frame().await {
            ServerFrame::Pong { nonce: got } => assert_eq!(got, nonce),
            other => panic!("expected only a pong, got {other:?}"),
        }
    }
}

fn rand_nonce() -> u64 {
    uuid::Uuid::new_v4().as_u64_pair().0
}
