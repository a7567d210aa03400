//! Group commit: one writer task stores every message send.
//!
//! Senders (sockets and the REST route) queue their request and wait for its answer. The
//! writer takes whatever is queued (up to [`MAX_BATCH`]), runs every send of the batch in one
//! `BEGIN IMMEDIATE` transaction, commits once (one fsync for the whole batch), and only then
//! pushes the new messages and answers each sender. Each message keeps its own rules, in the
//! same order as a lone send: participant check, idempotency on (sender, client id), open
//! conversation, gap-free `last_seq + 1`, the sender's read cursor. Per message that is one
//! lookup and one insert; the conversations' heads and the senders' cursors are moved once per
//! batch. A refusal (404, 409, a
//! `client_id` reused in another conversation) writes nothing and does not affect the others.
//!
//! A database error aborts the batch: it is rolled back and each of its sends is retried alone,
//! so a send that cannot be stored fails by itself and nothing is half-stored. A sender is
//! answered (acked) only after the commit that holds its message.
//!
//! The writer is a spawned task: a sender that goes away (socket cut, HTTP client gone) never
//! cancels a transaction in the middle.

use super::Sent;
use crate::db;
use crate::db::messages::SendContext;
use crate::domain::MessageBody;
use crate::error::AppError;
use crate::util::now_ms;
use crate::ws::{ConnId, Hub};
use colloque_protocol::{
    ClientMsgId, ConversationId, ConversationStatus, Seq, ServerFrame, Timestamp, UserId,
};
use sqlx::{SqliteConnection, SqlitePool};
use std::collections::HashMap;
use tokio::sync::{mpsc, oneshot};

/// The most sends one transaction holds. Measured with `cargo xtask bench`: batches rarely
/// pass a few dozen on two cores; the cap bounds how long one transaction holds the write lock.
const MAX_BATCH: usize = 128;

/// Sends waiting for the writer; past this, senders wait for room (back-pressure).
const QUEUE: usize = 4096;

/// The handle senders use. Cheap to clone.
#[derive(Clone)]
pub struct SendQueue {
    tx: mpsc::Sender<Request>,
}

struct Request {
    sender: UserId,
    conversation_id: ConversationId,
    client_id: ClientMsgId,
    body: MessageBody,
    origin: Option<ConnId>,
    reply: oneshot::Sender<Result<Sent, AppError>>,
}

/// What one send of a batch did, before the commit.
enum Outcome {
    /// Stored in this transaction; pushed to `participants` after the commit.
    Created(Sent, [UserId; 2]),
    /// Nothing written: a replay (its original message) or a refusal.
    Answered(Result<Sent, AppError>),
}

impl SendQueue {
    /// Spawns the writer task on the current runtime. It ends when every handle is dropped.
    pub fn start(db: SqlitePool, hub: Hub) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(run(db, hub, rx));
        Self { tx }
    }

    /// Queues a send and waits until it is committed (or refused).
    pub async fn send(
        &self,
        sender: UserId,
        conversation_id: ConversationId,
        client_id: ClientMsgId,
        body: MessageBody,
        origin: Option<ConnId>,
    ) -> Result<Sent, AppError> {
        let (reply, answer) = oneshot::channel();
        let request = Request {
            sender,
            conversation_id,
            client_id,
            body,
            origin,
            reply,
        };
        self.tx
            .send(request)
            .await
            .map_err(|_| stopped("the message writer has stopped"))?;
        answer
            .await
            .map_err(|_| stopped("the message writer dropped a send"))?
    }
}

fn stopped(what: &'static str) -> AppError {
    AppError::Internal(anyhow::anyhow!(what))
}

async fn run(db: SqlitePool, hub: Hub, mut rx: mpsc::Receiver<Request>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let requests = std::mem::take(&mut batch);
        let Err((requests, error)) = commit(&db, &hub, requests).await else {
            continue;
        };
        if requests.len() == 1 {
            fail(requests, &error);
            continue;
        }
        tracing::warn!(%error, sends = requests.len(), "a batch of sends failed; retrying each alone");
        for request in requests {
            if let Err((request, error)) = commit(&db, &hub, vec![request]).await {
                fail(request, &error);
            }
        }
    }
}

/// Answers each request with the database error (a retryable 500: nothing was stored).
fn fail(requests: Vec<Request>, error: &sqlx::Error) {
    tracing::error!(%error, "a send could not be stored");
    for request in requests {
        let error = anyhow::anyhow!("database error: {error}");
        let _ = request.reply.send(Err(AppError::Internal(error)));
    }
}

/// Stores `requests` in one transaction, then pushes and answers. On a database error nothing
/// is stored and nobody is answered: the requests come back with the error.
#[tracing::instrument(level = "debug", name = "send_batch", skip_all, fields(sends = requests.len()))]
async fn commit(
    db: &SqlitePool,
    hub: &Hub,
    requests: Vec<Request>,
) -> Result<(), (Vec<Request>, sqlx::Error)> {
    let mut tx = match db.begin_with("BEGIN IMMEDIATE").await {
        Ok(tx) => tx,
        Err(error) => return Err((requests, error)),
    };
    let mut outcomes = Vec::with_capacity(requests.len());
    let mut heads = Heads::default();
    for request in &requests {
        match store(&mut tx, request, &mut heads).await {
            Ok(outcome) => outcomes.push(outcome),
            // Dropping `tx` rolls the whole batch back.
            Err(error) => return Err((requests, error)),
        }
    }
    if let Err(error) = heads.write(&mut tx).await {
        return Err((requests, error));
    }
    let publishing = hub.publish_lock().await;
    if let Err(error) = tx.commit().await {
        return Err((requests, error));
    }
    for (request, outcome) in requests.into_iter().zip(outcomes) {
        let answer = match outcome {
            Outcome::Created(sent, participants) => {
                hub.send_to_users(
                    &participants,
                    &ServerFrame::Message {
                        message: sent.message.clone(),
                    },
                    request.origin,
                );
                Ok(sent)
            }
            Outcome::Answered(answer) => answer,
        };
        let _ = request.reply.send(answer);
    }
    drop(publishing);
    Ok(())
}

/// The batch's moves of conversation heads and of its senders' read cursors, written once at
/// the end of the batch (one statement each) instead of once per message.
#[derive(Default)]
struct Heads {
    /// Per conversation: the last seq reserved in this batch, and when.
    conversations: HashMap<ConversationId, (Seq, Timestamp)>,
    /// Per (sender, conversation): the sender's last message in this batch.
    cursors: HashMap<(UserId, ConversationId), Seq>,
}

impl Heads {
    async fn write(self, tx: &mut SqliteConnection) -> Result<(), sqlx::Error> {
        let conversations: Vec<_> = self
            .conversations
            .into_iter()
            .map(|(id, (seq, at))| (id, seq, at))
            .collect();
        db::conversations::set_heads(tx, &conversations).await?;
        let cursors: Vec<_> = self
            .cursors
            .into_iter()
            .map(|((user, conversation), seq)| (user, conversation, seq))
            .collect();
        db::read_cursors::advance_many(tx, &cursors).await
    }
}

/// One send inside the batch's transaction (see [`super::send_message`] for the rules): one
/// query for the conversation and a possible replay, one insert. `Err` is a database error,
/// which aborts the batch; refusals are answers.
async fn store(
    tx: &mut SqliteConnection,
    request: &Request,
    heads: &mut Heads,
) -> Result<Outcome, sqlx::Error> {
    let (sender, id) = (request.sender, request.conversation_id);
    let Some(SendContext {
        conversation,
        replay,
    }) = db::messages::send_context(&mut *tx, id, sender, request.client_id).await?
    else {
        return Ok(Outcome::Answered(Err(AppError::NotFound)));
    };
    if let Some(message) = replay {
        let answer = if message.conversation_id == id {
            Ok(Sent {
                message,
                created: false,
            })
        } else {
            Err(AppError::InvalidInput(
                "this client_id was already used for a message in another conversation".into(),
            ))
        };
        return Ok(Outcome::Answered(answer));
    }
    if conversation.status == ConversationStatus::Closed {
        return Ok(Outcome::Answered(Err(AppError::ConversationClosed)));
    }
    // The write lock is held since BEGIN IMMEDIATE, so the row's last_seq plus what this batch
    // reserved is the conversation's real head: seqs stay gap-free.
    let last = heads
        .conversations
        .get(&id)
        .map_or(conversation.last_seq, |(seq, _)| *seq);
    let (seq, now) = (Seq(last.0 + 1), now_ms());
    let new = db::messages::NewMessage {
        conversation_id: id,
        seq,
        sender_id: sender,
        client_id: request.client_id,
        body: request.body.as_str(),
        sent_at: now,
    };
    // A unique violation on (sender, client id) cannot happen: the batch is the only writer of
    // messages and looked the client id up above, inside the same transaction. If it did, the
    // database error aborts the batch like any other, so a duplicate is never stored.
    let message = db::messages::insert(&mut *tx, &new).await?;
    heads.conversations.insert(id, (seq, now));
    heads.cursors.insert((sender, id), seq);
    Ok(Outcome::Created(
        Sent {
            message,
            created: true,
        },
        conversation.participants(),
    ))
}
