//! The group-commit writer's own tests: whole batches against a real SQLite store with the demo
//! data, so that a wrong plan cannot hide behind the one-by-one fallback.

use super::*;
use crate::auth::PasswordHasher;
use crate::config::Argon2Cost;
use crate::demo;
use crate::domain::Email;

async fn user(db: &Store, email: &str) -> UserId {
    let email = Email::parse(email).unwrap();
    db.id_and_role_by_email(&email).await.unwrap().unwrap().0
}

fn request(
    sender: UserId,
    conversation_id: ConversationId,
    client_id: ClientMsgId,
) -> (Request, oneshot::Receiver<Result<Sent, AppError>>) {
    let (reply, answer) = oneshot::channel();
    let request = Request {
        sender,
        conversation_id,
        client_id,
        body: MessageBody::parse("Bonjour, une question sur mon ordonnance.").unwrap(),
        attachments: Vec::new(),
        origin: None,
        reply,
        urgent: None,
        template: None,
    };
    (request, answer)
}

fn new_id() -> ClientMsgId {
    ClientMsgId(uuid::Uuid::new_v4())
}

/// A SQLite store with the demo data (in `dir`), and delivery over it.
async fn demo_store(dir: &tempfile::TempDir) -> (Store, Delivery) {
    let db = Store::connect(&crate::store::DatabaseUrl::in_data_dir(dir.path()))
        .await
        .unwrap();
    let hasher = PasswordHasher::new(Argon2Cost::TESTS).unwrap();
    demo::load_demo_data(&db, &hasher).await.unwrap();
    let delivery = Delivery::new(
        db.clone(),
        crate::bus::Bus::Local,
        (16, 10),
        crate::Limits::default().session_rules(),
        Metrics::default(),
    );
    (db, delivery)
}

/// One batch holding every case at once must commit as one transaction (no fallback to
/// one-by-one, which would hide a wrong plan) and answer each send as if it were alone.
#[tokio::test]
async fn one_batch_answers_each_send_as_if_it_were_stored_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (db, delivery) = demo_store(&dir).await;
    let (emma, martin, hugo) = (
        user(&db, demo::EMMA.email).await,
        user(&db, demo::DR_MARTIN.email).await,
        user(&db, demo::HUGO.email).await,
    );
    let (lucas, durand) = (
        user(&db, demo::LUCAS.email).await,
        user(&db, demo::DR_DURAND.email).await,
    );
    let open = db.find_open_between(emma, martin).await.unwrap().unwrap();
    let closed = db.find_open_between(lucas, durand).await.unwrap().unwrap();
    db.set_conversation_place(closed, crate::care::Triage::closed(now_ms()))
        .await
        .unwrap();
    let start = db
        .conversation_for(open, emma)
        .await
        .unwrap()
        .unwrap()
        .last_seq;
    let earlier = new_id();
    let (first, answer) = request(emma, open, earlier);
    commit(&db, &delivery, vec![first])
        .await
        .map_err(|(_, e)| e)
        .unwrap();
    let earlier_message = answer.await.unwrap().unwrap().message;

    let repeated = new_id();
    let cases = vec![
        request(emma, open, repeated),    // new
        request(martin, open, new_id()),  // new, same conversation
        request(emma, open, repeated),    // replay within the batch
        request(hugo, open, new_id()),    // not a participant
        request(lucas, closed, new_id()), // closed conversation
        request(emma, open, earlier),     // replay of an earlier batch
        request(emma, open, new_id()),    // new again
    ];
    let (requests, answers): (Vec<_>, Vec<_>) = cases.into_iter().unzip();
    commit(&db, &delivery, requests)
        .await
        .map_err(|(_, e)| e)
        .expect("the batch commits as one transaction");
    let mut results = Vec::new();
    for answer in answers {
        results.push(answer.await.unwrap());
    }

    let sent = |i: usize| results[i].as_ref().unwrap();
    assert!(sent(0).created && sent(1).created && sent(6).created);
    assert_eq!(
        [sent(0), sent(1), sent(6)].map(|s| s.message.seq.0),
        [start.0 + 2, start.0 + 3, start.0 + 4],
        "gap-free, in queue order, after the earlier batch"
    );
    assert!(!sent(2).created);
    assert_eq!(sent(2).message.id, sent(0).message.id);
    assert!(matches!(results[3], Err(AppError::NotFound)));
    assert!(matches!(results[4], Err(AppError::ConversationClosed)));
    assert!(!sent(5).created);
    assert_eq!(sent(5).message.id, earlier_message.id);

    let conversation = db.conversation_for(open, emma).await.unwrap().unwrap();
    assert_eq!(conversation.last_seq.0, start.0 + 4);
    let cursor = |user| db.read_cursor(user, open);
    assert_eq!(cursor(emma).await.unwrap().read.0, start.0 + 4);
    assert_eq!(cursor(martin).await.unwrap().read.0, start.0 + 3);
    let (page, _) = db
        .messages_page(open, store::Page::Latest, 100)
        .await
        .unwrap();
    assert_eq!(page.len() as i64, start.0 + 4, "nothing stored twice");
    assert_eq!(page.last().unwrap().id, sent(6).message.id);
}

/// Authorization is read inside the batch: the sends of a pair whose care relationship
/// ended, or whose doctor was disabled, are refused with `no_care_relationship` and store
/// nothing; the rest of the batch is stored, and a retry of a message stored before the
/// relationship ended still gets that message.
#[tokio::test]
async fn a_batch_refuses_the_sends_of_ended_relationships_and_stores_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let (db, delivery) = demo_store(&dir).await;
    let (emma, martin) = (
        user(&db, demo::EMMA.email).await,
        user(&db, demo::DR_MARTIN.email).await,
    );
    let (lucas, durand) = (
        user(&db, demo::LUCAS.email).await,
        user(&db, demo::DR_DURAND.email).await,
    );
    let emma_martin = db.find_open_between(emma, martin).await.unwrap().unwrap();
    let lucas_durand = db.find_open_between(lucas, durand).await.unwrap().unwrap();
    let emma_durand = db
        .insert_conversation(
            emma,
            durand,
            "Tension",
            colloque_protocol::Topic::MedicalQuestion,
            crate::care::Triage::started(true, now_ms()),
        )
        .await
        .unwrap();
    let earlier = new_id();
    let (first, answer) = request(lucas, lucas_durand, earlier);
    commit(&db, &delivery, vec![first])
        .await
        .map_err(|(_, e)| e)
        .unwrap();
    let earlier_message = answer.await.unwrap().unwrap().message;
    let store = &db;
    let head = |id| async move {
        store
            .conversation_for(id, durand)
            .await
            .unwrap()
            .unwrap()
            .last_seq
    };
    let (before_unlinked, before_kept) = (head(lucas_durand).await, head(emma_durand).await);

    assert!(db.unlink(durand, lucas).await.unwrap());
    assert!(db.set_disabled(martin, true).await.unwrap());
    let cases = vec![
        request(lucas, lucas_durand, new_id()), // the relationship ended
        request(durand, lucas_durand, new_id()), // either side
        request(emma, emma_martin, new_id()),   // the doctor is disabled
        request(emma, emma_durand, new_id()),   // still linked: stored
        request(lucas, lucas_durand, earlier),  // a retry of what was stored before
    ];
    let (requests, answers): (Vec<_>, Vec<_>) = cases.into_iter().unzip();
    commit(&db, &delivery, requests)
        .await
        .map_err(|(_, e)| e)
        .unwrap();
    let mut results = Vec::new();
    for answer in answers {
        results.push(answer.await.unwrap());
    }

    for refused in &results[..3] {
        assert!(
            matches!(refused, Err(AppError::NoCareRelationship)),
            "{refused:?}"
        );
    }
    let stored = results[3].as_ref().unwrap();
    assert!(stored.created);
    assert_eq!(stored.message.seq.0, before_kept.0 + 1);
    let replay = results[4].as_ref().unwrap();
    assert!(!replay.created);
    assert_eq!(replay.message.id, earlier_message.id);
    assert_eq!(
        head(lucas_durand).await,
        before_unlinked,
        "nothing half-stored"
    );
    assert_eq!(head(emma_durand).await.0, before_kept.0 + 1);
}

/// The care workflow's follow-up of a send (the due date pushed, an automatic reply) is asked
/// for only by a patient's message that starts a wait or reaches a doctor away today: read in
/// the batch's one lookup, so that the other messages (most of them) cost no further query.
#[tokio::test]
async fn only_a_patients_message_starting_a_wait_or_reaching_an_absent_doctor_is_followed_up() {
    let dir = tempfile::tempdir().unwrap();
    let (db, delivery) = demo_store(&dir).await;
    let (emma, martin) = (
        user(&db, demo::EMMA.email).await,
        user(&db, demo::DR_MARTIN.email).await,
    );
    let open = db.find_open_between(emma, martin).await.unwrap().unwrap();
    let batch = |cases: Vec<(UserId, ClientMsgId)>| {
        let (db, delivery) = (&db, &delivery);
        async move {
            let (requests, answers): (Vec<_>, Vec<_>) = cases
                .into_iter()
                .map(|(sender, id)| request(sender, open, id))
                .unzip();
            commit(db, delivery, requests)
                .await
                .map_err(|(_, e)| e)
                .unwrap();
            let mut follow_ups = Vec::new();
            for answer in answers {
                follow_ups.push(answer.await.unwrap().unwrap().follow_up);
            }
            follow_ups
        }
    };

    // The doctor answers (the patient waits no more), then she writes twice and he once.
    let repeated = new_id();
    assert_eq!(
        batch(vec![(martin, new_id())]).await,
        [false],
        "a doctor's message"
    );
    assert_eq!(
        batch(vec![
            (emma, repeated),
            (emma, new_id()),
            (emma, repeated),
            (martin, new_id())
        ])
        .await,
        [true, false, false, false],
        "the message that starts her wait; not the next one, nor its replay, nor his"
    );
    // An absence from tomorrow changes nothing today; one covering today does.
    let today = practice_day(now_ms()).unwrap();
    let day = |days: i64| {
        today
            .checked_add(jiff::Span::new().days(days))
            .unwrap()
            .to_string()
    };
    db.insert_absence(martin, &day(1), &day(3), None, now_ms())
        .await
        .unwrap();
    assert_eq!(
        batch(vec![(emma, new_id()), (emma, new_id())]).await,
        [true, false],
        "his last message ended her wait: her first starts another"
    );
    db.insert_absence(martin, &day(-2), &day(0), None, now_ms())
        .await
        .unwrap();
    assert_eq!(
        batch(vec![(emma, new_id()), (emma, new_id()), (martin, new_id())]).await,
        [true, true, false],
        "every message of hers while he is away (the reply itself is once a day)"
    );
}
