//! Demo data: two doctors, three patients, their care relationships, appointments and two
//! conversations. Other crates' end-to-end tests and the README rely on these exact accounts.
//!
//! Times are relative to "now" so that the appointments are always upcoming; "09:30" means
//! 09:30 UTC (the app shows local time).

use crate::auth::PasswordHasher;
use crate::care::Triage;
use crate::domain::{Email, MessageBody, Password};
use crate::store::NewAppointment;
use crate::store::NewUser;
use crate::store::{self, Store, Tx};
use crate::util::{DAY_MS, days_from_now_at, now_ms};
use anyhow::Context;
use colloque_protocol::{ClientMsgId, MessageKind, Role, Seq, Timestamp, Topic, UserId};
use secrecy::SecretString;

/// The password of every demo account.
pub const DEMO_PASSWORD: &str = "colloque-demo";

/// A demo account.
#[derive(Debug, Clone, Copy)]
pub struct DemoAccount {
    /// Login email.
    pub email: &'static str,
    /// Display name.
    pub display_name: &'static str,
    /// Patient or doctor.
    pub role: Role,
    /// Doctors' speciality.
    pub speciality: Option<&'static str>,
}

/// Dr Claire Martin, general practitioner: follows Lucas, Emma and Hugo.
pub const DR_MARTIN: DemoAccount = DemoAccount {
    email: "dr.martin@colloque.test",
    display_name: "Dr Claire Martin",
    role: Role::Doctor,
    speciality: Some("Médecin généraliste"),
};
/// Dr Paul Durand, cardiologist: follows Lucas and Emma.
pub const DR_DURAND: DemoAccount = DemoAccount {
    email: "dr.durand@colloque.test",
    display_name: "Dr Paul Durand",
    role: Role::Doctor,
    speciality: Some("Cardiologue"),
};
/// Lucas Bernard: no conversation with Dr Martin yet (end-to-end tests start one).
pub const LUCAS: DemoAccount = DemoAccount {
    email: "lucas.bernard@colloque.test",
    display_name: "Lucas Bernard",
    role: Role::Patient,
    speciality: None,
};
/// Emma Petit: a conversation with Dr Martin, one message unread by the doctor.
pub const EMMA: DemoAccount = DemoAccount {
    email: "emma.petit@colloque.test",
    display_name: "Emma Petit",
    role: Role::Patient,
    speciality: None,
};
/// Hugo Moreau: no conversation at all.
pub const HUGO: DemoAccount = DemoAccount {
    email: "hugo.moreau@colloque.test",
    display_name: "Hugo Moreau",
    role: Role::Patient,
    speciality: None,
};

/// Every demo account, doctors first.
pub const DEMO_ACCOUNTS: [DemoAccount; 5] = [DR_MARTIN, DR_DURAND, LUCAS, EMMA, HUGO];

/// Loads the demo data if the database has no users. Returns whether it did.
pub async fn load_demo_data_if_empty(
    pool: &Store,
    passwords: &PasswordHasher,
) -> anyhow::Result<bool> {
    if pool.count_users().await? > 0 {
        tracing::info!("the database already has users; demo data not loaded");
        return Ok(false);
    }
    load_demo_data(pool, passwords).await?;
    Ok(true)
}

/// Loads the demo data, in one transaction: all of it or nothing. Fails if a demo email is
/// already taken.
pub async fn load_demo_data(pool: &Store, passwords: &PasswordHasher) -> anyhow::Result<()> {
    // Hash first (slow, on the blocking pool), then write everything in one short transaction.
    let mut hashes = Vec::with_capacity(DEMO_ACCOUNTS.len());
    for _ in DEMO_ACCOUNTS {
        let password = Password::parse(SecretString::from(DEMO_PASSWORD))?;
        hashes.push(passwords.hash(&password).await?);
    }
    let now = now_ms();
    let mut tx = pool.begin_write().await?;
    let mut ids = Vec::with_capacity(DEMO_ACCOUNTS.len());
    for (account, hash) in DEMO_ACCOUNTS.iter().zip(&hashes) {
        let email = Email::parse(account.email)?;
        let user = NewUser {
            role: account.role,
            display_name: account.display_name,
            email: &email,
            speciality: account.speciality,
            password_hash: hash,
        };
        let id = tx
            .insert_user(&user, now)
            .await
            .with_context(|| format!("failed to create the demo account {}", account.email))?;
        ids.push(id);
    }
    let [martin, durand, lucas, emma, hugo] = ids[..] else {
        unreachable!("five demo accounts");
    };

    for (doctor, patient) in [
        (martin, lucas),
        (martin, emma),
        (martin, hugo),
        (durand, lucas),
        (durand, emma),
    ] {
        tx.link(doctor, patient, now).await?;
    }

    let appointments = [
        (
            lucas,
            martin,
            days_from_now_at(now, 2, 9, 30),
            30,
            "Cabinet, 12 rue des Lilas, Lyon",
            "Renouvellement d'ordonnance",
        ),
        (
            lucas,
            durand,
            days_from_now_at(now, 9, 14, 0),
            45,
            "Centre de cardiologie, 3 place Bellecour, Lyon",
            "Suivi tension",
        ),
        (
            emma,
            martin,
            days_from_now_at(now, 3, 11, 0),
            30,
            "Téléconsultation",
            "Résultats de prise de sang",
        ),
        (
            hugo,
            martin,
            days_from_now_at(now, 5, 16, 15),
            20,
            "Cabinet, 12 rue des Lilas, Lyon",
            "Certificat de sport",
        ),
        (
            lucas,
            martin,
            days_from_now_at(now, -30, 10, 0),
            20,
            "Cabinet, 12 rue des Lilas, Lyon",
            "Consultation grippe",
        ),
    ];
    for (patient, doctor, starts_at, duration_minutes, location, reason) in appointments {
        let appointment = NewAppointment {
            patient,
            doctor,
            starts_at,
            duration_minutes,
            location,
            reason,
        };
        tx.insert_appointment(&appointment).await?;
    }

    let blood_test = tx
        .insert_conversation(
            emma,
            martin,
            "Résultats de prise de sang",
            Topic::TestResults,
            Triage::started(true, Timestamp(now.0 - 2 * DAY_MS)),
        )
        .await?;
    let thread = [
        (
            emma,
            -2 * DAY_MS,
            "Bonjour docteur, avez-vous reçu les résultats de ma prise de sang ?",
        ),
        (
            martin,
            -DAY_MS,
            "Bonjour Emma, oui. Tout est normal, sauf une légère carence en fer. Je vous propose un complément pendant trois mois.",
        ),
        (
            emma,
            -3 * 60 * 60 * 1000,
            "Merci ! Faut-il le prendre pendant les repas ?",
        ),
    ];
    append_all(
        &mut tx,
        blood_test,
        &thread,
        now,
        (emma, Triage::started(true, Timestamp(now.0 - 2 * DAY_MS))),
    )
    .await?;
    // Martin read up to his own reply (seq 2): Emma's last message stays unread for him.

    let blood_pressure = tx
        .insert_conversation(
            lucas,
            durand,
            "Suivi tension",
            Topic::MedicalQuestion,
            Triage::started(false, Timestamp(now.0 - 5 * DAY_MS)),
        )
        .await?;
    let thread = [
        (
            durand,
            -5 * DAY_MS,
            "Bonjour Lucas, pouvez-vous m'envoyer vos relevés de tension de la semaine ?",
        ),
        (
            lucas,
            -4 * DAY_MS,
            "Bonjour docteur, en moyenne 13/8 le matin et 12/7 le soir.",
        ),
    ];
    append_all(
        &mut tx,
        blood_pressure,
        &thread,
        now,
        (lucas, Triage::started(false, Timestamp(now.0 - 5 * DAY_MS))),
    )
    .await?;
    tx.advance_read_cursor(durand, blood_pressure, Seq(2), now)
        .await?;

    tx.commit().await?;
    tracing::info!("demo data loaded");
    Ok(())
}

/// Appends a thread to a new conversation through the same batch write as live sends
/// ([`Tx::append_batch`]): seqs from 1, the conversation's head on the last message, its
/// place in the doctor's queue moved by each message as a live send moves it (`patient`, and
/// where it started), and each sender's read cursor on their own last message.
async fn append_all(
    tx: &mut Tx,
    conversation: colloque_protocol::ConversationId,
    thread: &[(UserId, i64, &str)],
    now: Timestamp,
    (patient, started): (UserId, Triage),
) -> anyhow::Result<()> {
    let bodies = thread
        .iter()
        .map(|(_, _, text)| MessageBody::parse(text))
        .collect::<Result<Vec<_>, _>>()?;
    let mut messages = Vec::with_capacity(thread.len());
    let mut cursors: Vec<(UserId, colloque_protocol::ConversationId, Seq, Timestamp)> = Vec::new();
    let mut place = started;
    for (index, ((sender, offset, _), body)) in thread.iter().zip(&bodies).enumerate() {
        let seq = Seq(index as i64 + 1);
        let sent_at = Timestamp(now.0 + offset);
        place = place.after_message(*sender == patient, false, sent_at);
        messages.push(store::NewMessage {
            conversation_id: conversation,
            seq,
            sender_id: *sender,
            client_id: ClientMsgId(uuid::Uuid::new_v4()),
            body: body.as_str(),
            sent_at,
            kind: MessageKind::Text,
            template_id: None,
        });
        cursors.retain(|(user, _, _, _)| user != sender);
        cursors.push((*sender, conversation, seq, sent_at));
    }
    let Some(last) = messages.last() else {
        return Ok(());
    };
    let heads = [store::HeadUpdate {
        conversation,
        seq: last.seq,
        at: last.sent_at,
        triage: place,
    }];
    tx.append_batch(&messages, &heads, &cursors).await?;
    Ok(())
}
