//! Group commit: one writer task stores every message send.
//!
//! Senders (sockets and the REST route) queue their request and wait for its answer. The
//! writer takes whatever is queued (up to [`MAX_BATCH`]), runs every send of the batch in one
//! transaction, commits once (one fsync for the whole batch), and only then hands the new
//! messages to delivery and answers each sender. Each message keeps its own rules, in the
//! same order as a lone send: participant check, idempotency on (sender, client id), both
//! participants enabled and still linked, open conversation, gap-free `last_seq + 1`, the
//! sender's read cursor, decided in queue order as if the sends were stored one by one. The whole batch costs four round trips to the
//! database, whatever its size. A refusal (404, 403 `no_care_relationship`, 409, a `client_id`
//! reused in another conversation) writes nothing and does not affect the others.
//!
//! Each instance of a cluster has its own writer. Their batches are ordered by the database:
//! SQLite's one write lock, or on PostgreSQL the rows of the batch's conversations, locked (in
//! id order) before their `last_seq` is read, so that seqs stay gap-free and commit in order
//! whichever instance writes.
//!
//! A database error aborts the batch: it is rolled back and each of its sends is retried alone,
//! so a send that cannot be stored fails by itself and nothing is half-stored. A sender is
//! answered (acked) only after the commit that holds its message.
//!
//! The writer is a spawned task: a sender that goes away (socket cut, HTTP client gone) never
//! cancels a transaction in the middle.

use super::{Outgoing, Sent};
use crate::audit::{Action, Entry, Source};
use crate::care::Triage;
use crate::care::hours::practice_day;
use crate::delivery::{ConnId, Delivery};
use crate::domain::MessageBody;
use crate::error::AppError;
use crate::metrics::Metrics;
use crate::store::{self, Store};
use crate::store::{HeadUpdate, SendContext, SendKey};
use crate::util::now_ms;
use colloque_protocol::{
    AttachmentId, AttachmentMeta, ClientMsgId, ConversationId, ConversationStatus, Message,
    MessageId, MessageKind, Seq, TemplateId, Timestamp, UserId,
};
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// The most sends one transaction holds: it bounds how long a batch holds the write lock (a few
/// milliseconds of SQLite work) and its bound parameters (13 per send, far under SQLite's
/// 32,766). Measured with `cargo xtask bench`, 500 senders in a closed loop: 7,339 acked msg/s
/// with a cap of 128, 8,650 with 512.
const MAX_BATCH: usize = 512;

/// A batch slower than this is logged with where the time went (lock, write, commit).
const SLOW_BATCH: Duration = Duration::from_millis(500);

/// Sends waiting for the writer; past this, senders wait for room (back-pressure).
const QUEUE: usize = 4096;

/// The handle senders use. Cheap to clone.
#[derive(Clone)]
pub struct SendQueue {
    tx: mpsc::Sender<Request>,
    metrics: Metrics,
}

struct Request {
    sender: UserId,
    conversation_id: ConversationId,
    client_id: ClientMsgId,
    body: MessageBody,
    /// Sent past the red-flag screen (only a patient may), and where from: the mark is
    /// audited in the batch's transaction.
    urgent: Option<Source>,
    /// Uploads to send with it (checked against their rows in the batch's transaction).
    attachments: Vec<AttachmentId>,
    /// The reply template it came from, and where from: checked against the template's row
    /// and audited in the batch's transaction.
    template: Option<(TemplateId, Source)>,
    origin: Option<ConnId>,
    reply: oneshot::Sender<Result<Sent, AppError>>,
}

impl SendQueue {
    /// Spawns the writer task on the current runtime. It ends when every handle is dropped.
    pub fn start(db: Store, delivery: Delivery) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        let metrics = delivery.metrics().clone();
        tokio::spawn(run(db, delivery, rx));
        Self { tx, metrics }
    }

    /// Queues a send and waits until it is committed (or refused).
    pub async fn send(
        &self,
        sender: UserId,
        outgoing: Outgoing,
        origin: Option<ConnId>,
    ) -> Result<Sent, AppError> {
        let started = std::time::Instant::now();
        let (reply, answer) = oneshot::channel();
        let Outgoing {
            conversation_id,
            client_id,
            body,
            urgent,
            attachments,
            template,
        } = outgoing;
        let request = Request {
            sender,
            conversation_id,
            client_id,
            body,
            urgent,
            attachments,
            template,
            origin,
            reply,
        };
        self.tx
            .send(request)
            .await
            .map_err(|_| stopped("the message writer has stopped"))?;
        let answer = answer
            .await
            .map_err(|_| stopped("the message writer dropped a send"))?;
        if answer.is_ok() {
            self.metrics
                .send_to_ack
                .observe(started.elapsed().as_secs_f64());
        }
        answer
    }
}

fn stopped(what: &'static str) -> AppError {
    AppError::Internal(anyhow::anyhow!(what))
}

async fn run(db: Store, delivery: Delivery, mut rx: mpsc::Receiver<Request>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let requests = std::mem::take(&mut batch);
        let Err((requests, error)) = commit(&db, &delivery, requests).await else {
            continue;
        };
        if requests.len() == 1 || !could_be_one_send(&error) {
            fail(requests, &error);
            continue;
        }
        tracing::warn!(%error, sends = requests.len(), "a batch of sends failed; retrying each alone");
        for request in requests {
            if let Err((request, error)) = commit(&db, &delivery, vec![request]).await {
                fail(request, &error);
            }
        }
    }
}

/// Whether one send of the batch could have caused `error` (a constraint, a value that does
/// not decode), so that retrying each send alone isolates it. A busy or locked database, a pool
/// timeout or an I/O error would fail every retry the same way, one timeout after another:
/// the whole batch fails at once instead, and the clients' outboxes retry.
fn could_be_one_send(error: &sqlx::Error) -> bool {
    use sqlx::error::ErrorKind;
    match error {
        sqlx::Error::Database(error) => matches!(
            error.kind(),
            ErrorKind::UniqueViolation
                | ErrorKind::ForeignKeyViolation
                | ErrorKind::NotNullViolation
                | ErrorKind::CheckViolation
        ),
        sqlx::Error::Decode(_) | sqlx::Error::ColumnDecode { .. } | sqlx::Error::Protocol(_) => {
            true
        }
        _ => false,
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
///
/// Four round trips to SQLite's connection thread for the whole batch, whatever its size:
/// `BEGIN IMMEDIATE`, one lookup of every send's conversation and possible replay, one
/// multi-statement write (messages, heads, cursors), `COMMIT`.
#[tracing::instrument(level = "debug", name = "send_batch", skip_all, fields(sends = requests.len()))]
async fn commit(
    db: &Store,
    delivery: &Delivery,
    requests: Vec<Request>,
) -> Result<(), (Vec<Request>, sqlx::Error)> {
    let started = std::time::Instant::now();
    let mut tx = match db.begin_write().await {
        Ok(tx) => tx,
        Err(error) => return Err((requests, error)),
    };
    let locked = started.elapsed();
    let keys: Vec<SendKey> = requests
        .iter()
        .map(|request| SendKey {
            conversation: request.conversation_id,
            sender: request.sender,
            client_id: request.client_id,
        })
        .collect();
    // The practice's day, for "is the doctor away" (an automatic reply may follow).
    let today = practice_day(now_ms()).map_or_else(String::new, |day| day.to_string());
    let contexts = match tx.send_contexts(&keys, &today).await {
        Ok(contexts) => contexts,
        Err(error) => return Err((requests, error)),
    };
    let wanted: Vec<AttachmentId> = requests
        .iter()
        .flat_map(|request| request.attachments.iter().copied())
        .collect();
    let uploads = match tx.attachments_by_ids(&wanted).await {
        Ok(rows) => rows,
        Err(error) => return Err((requests, error)),
    };
    let cited: Vec<TemplateId> = requests
        .iter()
        .filter_map(|request| request.template.as_ref().map(|(id, _)| *id))
        .collect();
    let templates = match tx.template_owners(&cited).await {
        Ok(rows) => rows,
        Err(error) => return Err((requests, error)),
    };
    let mut plan = Plan::new(&requests, contexts, &uploads, &templates);
    let ids = match tx
        .append_batch(
            &plan.new_messages(&requests),
            &plan.heads(),
            &plan.cursors(),
        )
        .await
    {
        Ok(ids) => ids,
        Err(error) => return Err((requests, error)),
    };
    // A message sent past the red-flag screen is recorded with the message, in its transaction.
    for insert in &plan.inserts {
        let request = &requests[insert.request];
        if let Some(source) = &request.urgent {
            let entry = Entry::new(Action::UrgentSent, Some(request.sender))
                .conversation(request.conversation_id);
            if let Err(error) = tx.audit(source, &entry).await {
                return Err((requests, error));
            }
        }
        // So is the template it came from (its id; never the text).
        if let Some((template, source)) = &request.template {
            let entry = Entry::new(Action::TemplateUsed, Some(request.sender))
                .conversation(request.conversation_id)
                .detail(format!("template {template}"));
            if let Err(error) = tx.audit(source, &entry).await {
                return Err((requests, error));
            }
        }
    }
    for (insert, id) in plan.inserts.iter().zip(&ids) {
        let request = &requests[insert.request];
        if request.attachments.is_empty() {
            continue;
        }
        if let Err(error) = tx
            .link_attachments(&request.attachments, *id, request.conversation_id)
            .await
        {
            return Err((requests, error));
        }
    }
    if let Err(error) = plan.fill_replays(&mut tx).await {
        return Err((requests, error));
    }
    let written = started.elapsed();
    if let Err(error) = tx.commit().await {
        return Err((requests, error));
    }
    let took = started.elapsed();
    if took >= SLOW_BATCH {
        tracing::warn!(
            sends = requests.len(),
            lock_ms = locked.as_millis(),
            write_ms = (written - locked).as_millis(),
            commit_ms = (took - written).as_millis(),
            "a batch of sends was slow to store"
        );
    }
    let stored: Vec<(Message, [UserId; 2], Option<ConnId>)> = plan
        .inserts
        .iter()
        .zip(ids)
        .map(|(insert, id)| {
            let request = &requests[insert.request];
            (
                insert.message(request, id),
                insert.participants,
                request.origin,
            )
        })
        .collect();
    // Pushed before anyone is answered: a sender's other tabs see the message no later than
    // its ack.
    delivery.messages_stored(&stored);
    // A message that moved its conversation in the doctor's queue (a patient's answer to
    // "waiting for the patient", a doctor's first reply): both sides' tabs get its new summary,
    // after the message. Off the writer's path: it reads each summary from the database.
    for (conversation, participants) in plan.moved() {
        let delivery = delivery.clone();
        tokio::spawn(async move {
            if let Err(error) = delivery
                .conversation_changed(conversation, participants)
                .await
            {
                tracing::warn!(%error, "a triage change could not be pushed");
            }
        });
    }
    for (request, decision) in requests.into_iter().zip(plan.decisions) {
        let answer = match decision {
            Decision::Insert(n) => Ok(Sent {
                message: stored[n].0.clone(),
                created: true,
                follow_up: plan.inserts[n].follow_up,
            }),
            Decision::SameAs(n) => Ok(Sent {
                message: stored[n].0.clone(),
                created: false,
                follow_up: false,
            }),
            Decision::Answer(answer) => answer,
        };
        let _ = request.reply.send(answer);
    }
    Ok(())
}

/// What each send of a batch does, decided in the order the sends were queued, exactly as if
/// they had been stored one by one (see [`super::send_message`] for the rules).
struct Plan {
    decisions: Vec<Decision>,
    inserts: Vec<Insert>,
    /// Each conversation's place in the queue before the batch.
    before: HashMap<ConversationId, Triage>,
}

enum Decision {
    /// Stored as `inserts[n]`, pushed after the commit.
    Insert(usize),
    /// A replay of `inserts[n]` queued in the same batch: answered with it, nothing stored.
    SameAs(usize),
    /// Nothing written: a replay of an earlier batch (its original message) or a refusal.
    Answer(Result<Sent, AppError>),
}

struct Insert {
    /// The index of the request.
    request: usize,
    conversation_id: ConversationId,
    sender: UserId,
    seq: Seq,
    sent_at: Timestamp,
    participants: [UserId; 2],
    /// The conversation's place in the queue after this message.
    triage: Triage,
    attachments: Vec<AttachmentMeta>,
    /// A patient's message that started a wait or reached a doctor away today: the care
    /// workflow follows it up ([`super::after_patient_message`]).
    follow_up: bool,
}

impl Insert {
    fn message(&self, request: &Request, id: MessageId) -> Message {
        Message {
            id,
            conversation_id: request.conversation_id,
            seq: self.seq,
            sender_id: request.sender,
            client_id: request.client_id,
            body: request.body.as_str().to_owned(),
            sent_at: self.sent_at,
            kind: MessageKind::Text,
            attachments: self.attachments.clone(),
        }
    }
}

impl Plan {
    fn new(
        requests: &[Request],
        contexts: Vec<Option<SendContext>>,
        uploads: &[store::AttachmentRow],
        templates: &[store::TemplateOwner],
    ) -> Self {
        let uploads: HashMap<AttachmentId, &store::AttachmentRow> =
            uploads.iter().map(|row| (row.meta.id, row)).collect();
        // Uploads claimed by an earlier send of this batch.
        let mut claimed: HashSet<AttachmentId> = HashSet::new();
        let mut decisions = Vec::with_capacity(requests.len());
        let mut inserts: Vec<Insert> = Vec::new();
        // Seqs reserved in this batch: the write lock is held since BEGIN IMMEDIATE, so the
        // row's last_seq plus what the batch reserved is the conversation's real head, and seqs
        // stay gap-free.
        let mut heads: HashMap<ConversationId, Seq> = HashMap::new();
        let mut before: HashMap<ConversationId, Triage> = HashMap::new();
        let mut places: HashMap<ConversationId, Triage> = HashMap::new();
        let mut planned: HashMap<(UserId, ClientMsgId), usize> = HashMap::new();
        for (index, (request, context)) in requests.iter().zip(contexts).enumerate() {
            let decision = match context {
                None => Decision::Answer(Err(AppError::NotFound)),
                Some(SendContext {
                    replay: Some(message),
                    ..
                }) => Decision::Answer(replay(request, message.conversation_id, || message)),
                Some(SendContext {
                    conversation,
                    linked,
                    blocked,
                    doctor_away,
                    ..
                }) => {
                    let from_patient = request.sender == conversation.patient_id;
                    let key = (request.sender, request.client_id);
                    if let Some(&n) = planned.get(&key) {
                        if inserts[n].conversation_id == request.conversation_id {
                            Decision::SameAs(n)
                        } else {
                            Decision::Answer(Err(reused_client_id()))
                        }
                    } else if request.urgent.is_some() && !from_patient {
                        Decision::Answer(Err(AppError::Forbidden(
                            "only a patient can mark a message urgent",
                        )))
                    } else if let Err(error) = check_template(request, from_patient, templates) {
                        Decision::Answer(Err(error))
                    } else if !linked {
                        Decision::Answer(Err(AppError::NoCareRelationship))
                    } else if blocked && from_patient {
                        Decision::Answer(Err(AppError::PatientBlocked))
                    } else if conversation.status == ConversationStatus::Closed {
                        Decision::Answer(Err(AppError::ConversationClosed))
                    } else if let Err(error) = check_uploads(request, &uploads, &claimed) {
                        Decision::Answer(Err(error))
                    } else {
                        claimed.extend(request.attachments.iter().copied());
                        let attachments = request
                            .attachments
                            .iter()
                            .filter_map(|id| uploads.get(id).map(|row| row.meta.clone()))
                            .collect();
                        let head = heads
                            .entry(request.conversation_id)
                            .or_insert(conversation.last_seq);
                        *head = Seq(head.0 + 1);
                        let sent_at = now_ms();
                        before
                            .entry(request.conversation_id)
                            .or_insert(conversation.triage);
                        let place = places
                            .entry(request.conversation_id)
                            .or_insert(conversation.triage);
                        let waited = place.waiting_since.is_some();
                        *place =
                            place.after_message(from_patient, request.urgent.is_some(), sent_at);
                        let starts_wait = !waited && place.waiting_since.is_some();
                        planned.insert(key, inserts.len());
                        inserts.push(Insert {
                            request: index,
                            conversation_id: request.conversation_id,
                            sender: request.sender,
                            seq: *head,
                            sent_at,
                            participants: conversation.participants(),
                            triage: *place,
                            attachments,
                            follow_up: from_patient && (doctor_away || starts_wait),
                        });
                        Decision::Insert(inserts.len() - 1)
                    }
                }
            };
            decisions.push(decision);
        }
        Self {
            decisions,
            inserts,
            before,
        }
    }

    /// The conversations whose triage state or urgency the batch changed, with their
    /// participants. (A change of the patient's waiting time alone is not pushed: clients
    /// follow it from the messages, with the same rule, `care::triage`. Urgency is not in the
    /// messages, so its changes are pushed.)
    fn moved(&self) -> Vec<(ConversationId, [UserId; 2])> {
        self.heads()
            .into_iter()
            .filter(|head| {
                self.before.get(&head.conversation).is_some_and(|before| {
                    before.state != head.triage.state
                        || before.urgent_since != head.triage.urgent_since
                })
            })
            .filter_map(|head| {
                self.inserts
                    .iter()
                    .find(|insert| insert.conversation_id == head.conversation)
                    .map(|insert| (head.conversation, insert.participants))
            })
            .collect()
    }

    fn new_messages<'a>(&self, requests: &'a [Request]) -> Vec<store::NewMessage<'a>> {
        self.inserts
            .iter()
            .map(|insert| {
                let request = &requests[insert.request];
                store::NewMessage {
                    conversation_id: request.conversation_id,
                    seq: insert.seq,
                    sender_id: request.sender,
                    client_id: request.client_id,
                    body: request.body.as_str(),
                    sent_at: insert.sent_at,
                    kind: MessageKind::Text,
                    template_id: request.template.as_ref().map(|(id, _)| *id),
                }
            })
            .collect()
    }

    /// The attachments of the messages that replays answer with, read in the batch's
    /// transaction.
    async fn fill_replays(&mut self, tx: &mut store::Tx) -> Result<(), sqlx::Error> {
        let mut replayed: Vec<&mut Message> = self
            .decisions
            .iter_mut()
            .filter_map(|decision| match decision {
                Decision::Answer(Ok(sent)) => Some(&mut sent.message),
                _ => None,
            })
            .collect();
        if replayed.is_empty() {
            return Ok(());
        }
        let mut messages: Vec<Message> = replayed.iter().map(|m| (**m).clone()).collect();
        tx.fill_attachments(&mut messages).await?;
        for (slot, filled) in replayed.iter_mut().zip(messages) {
            **slot = filled;
        }
        Ok(())
    }

    /// Each conversation's last new message: its new head, and its place in the queue after
    /// the batch.
    fn heads(&self) -> Vec<HeadUpdate> {
        let mut heads: HashMap<ConversationId, HeadUpdate> = HashMap::new();
        for insert in &self.inserts {
            // Seqs grow in insert order within a conversation, so the last one wins.
            heads.insert(
                insert.conversation_id,
                HeadUpdate {
                    conversation: insert.conversation_id,
                    seq: insert.seq,
                    at: insert.sent_at,
                    triage: insert.triage,
                },
            );
        }
        heads.into_values().collect()
    }

    /// Each sender's last new message per conversation, and its time: one has read what one
    /// wrote, when one wrote it.
    fn cursors(&self) -> Vec<(UserId, ConversationId, Seq, Timestamp)> {
        let mut cursors: HashMap<(UserId, ConversationId), (Seq, Timestamp)> = HashMap::new();
        for insert in &self.inserts {
            cursors.insert(
                (insert.sender, insert.conversation_id),
                (insert.seq, insert.sent_at),
            );
        }
        cursors
            .into_iter()
            .map(|((user, conversation), (seq, at))| (user, conversation, seq, at))
            .collect()
    }
}

// What each send's uploads and template must be (a child module: it reads `Request`).
#[path = "send_checks.rs"]
mod checks;
use checks::{check_template, check_uploads, replay, reused_client_id};

#[cfg(test)]
#[path = "send_queue_tests.rs"]
mod tests;
