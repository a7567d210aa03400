//! The `reply_templates` table: doctors' reply templates, personal or shared (the rules are in
//! `chat::templates`), and the template a message cites (`messages.template_id`, written by the
//! batched send).

use super::Db;
use super::users::ProfileRow;
use crate::store::model::*;
use colloque_protocol::{ReplyTemplate, TemplateId, Timestamp, UserId};
use sqlx::Executor;

#[derive(sqlx::FromRow)]
struct TemplateSql {
    id: i64,
    title: String,
    body: String,
    shared: bool,
    owner_id: i64,
    owner_role: String,
    owner_name: String,
    owner_speciality: Option<String>,
}

impl TemplateSql {
    fn into_template(self) -> Result<ReplyTemplate, sqlx::Error> {
        Ok(ReplyTemplate {
            id: TemplateId(self.id),
            owner: ProfileRow {
                id: self.owner_id,
                role: self.owner_role,
                display_name: self.owner_name,
                speciality: self.owner_speciality,
            }
            .into_profile()?,
            title: self.title,
            body: self.body,
            shared: self.shared,
        })
    }
}

const SELECT: &str = "SELECT t.id, t.title, t.body, t.shared, u.id AS owner_id,
        u.role AS owner_role, u.display_name AS owner_name, u.speciality AS owner_speciality
    FROM reply_templates t JOIN users u ON u.id = t.owner_id";

/// The templates `doctor` may use: their own, and the others' shared ones (of enabled
/// doctors), by title.
#[tracing::instrument(skip(db))]
pub async fn visible_to(
    db: impl Executor<'_, Database = Db>,
    doctor: UserId,
) -> Result<Vec<ReplyTemplate>, sqlx::Error> {
    sqlx::query_as::<_, TemplateSql>(&format!(
        "{SELECT} WHERE t.owner_id = $1 OR (t.shared AND NOT u.disabled)
         ORDER BY t.title, t.id"
    ))
    .bind(doctor.0)
    .fetch_all(db)
    .await?
    .into_iter()
    .map(TemplateSql::into_template)
    .collect()
}

/// One template, whoever owns it.
#[tracing::instrument(skip(db))]
pub async fn by_id(
    db: impl Executor<'_, Database = Db>,
    id: TemplateId,
) -> Result<Option<ReplyTemplate>, sqlx::Error> {
    sqlx::query_as::<_, TemplateSql>(&format!("{SELECT} WHERE t.id = $1"))
        .bind(id.0)
        .fetch_optional(db)
        .await?
        .map(TemplateSql::into_template)
        .transpose()
}

/// Who owns each of these templates and whether it is shared (ids that name none are left
/// out), for a batch of sends' checks.
#[tracing::instrument(level = "debug", skip_all, fields(ids = ids.len()))]
pub async fn owners(
    conn: &mut <Db as sqlx::Database>::Connection,
    ids: &[TemplateId],
) -> Result<Vec<TemplateOwner>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut query = sqlx::QueryBuilder::<Db>::new(
        "SELECT id, owner_id, shared FROM reply_templates WHERE id IN (",
    );
    let mut list = query.separated(", ");
    for id in ids {
        list.push_bind(id.0);
    }
    query.push(")");
    let rows: Vec<(i64, i64, bool)> = query.build_query_as().fetch_all(&mut *conn).await?;
    Ok(rows
        .into_iter()
        .map(|(id, owner, shared)| TemplateOwner {
            id: TemplateId(id),
            owner: UserId(owner),
            shared,
        })
        .collect())
}

/// How many templates a doctor owns.
#[tracing::instrument(skip(db))]
pub async fn count_owned(
    db: impl Executor<'_, Database = Db>,
    doctor: UserId,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM reply_templates WHERE owner_id = $1")
        .bind(doctor.0)
        .fetch_one(db)
        .await
}

/// Stores a new template of `doctor`'s.
#[tracing::instrument(skip(db, template), fields(shared = template.shared))]
pub async fn insert(
    db: impl Executor<'_, Database = Db>,
    doctor: UserId,
    template: &NewTemplate<'_>,
    now: Timestamp,
) -> Result<TemplateId, sqlx::Error> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO reply_templates (owner_id, title, body, shared, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
    )
    .bind(doctor.0)
    .bind(template.title)
    .bind(template.body)
    .bind(template.shared)
    .bind(now.0)
    .fetch_one(db)
    .await?;
    Ok(TemplateId(id))
}

/// Replaces a template of `doctor`'s; false if they own none with this id.
#[tracing::instrument(skip(db, template), fields(shared = template.shared))]
pub async fn update(
    db: impl Executor<'_, Database = Db>,
    doctor: UserId,
    id: TemplateId,
    template: &NewTemplate<'_>,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE reply_templates SET title = $1, body = $2, shared = $3, updated_at = $4
         WHERE id = $5 AND owner_id = $6",
    )
    .bind(template.title)
    .bind(template.body)
    .bind(template.shared)
    .bind(now.0)
    .bind(id.0)
    .bind(doctor.0)
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Deletes a template of `doctor`'s; false if they own none with this id. Messages sent from it
/// keep its id.
#[tracing::instrument(skip(db))]
pub async fn delete(
    db: impl Executor<'_, Database = Db>,
    doctor: UserId,
    id: TemplateId,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query("DELETE FROM reply_templates WHERE id = $1 AND owner_id = $2")
        .bind(id.0)
        .bind(doctor.0)
        .execute(db)
        .await?;
    Ok(result.rows_affected() == 1)
}

/// The template message `id` was sent from, if any (for tests and the audit's readers).
#[tracing::instrument(skip(db))]
pub async fn of_message(
    db: impl Executor<'_, Database = Db>,
    id: colloque_protocol::MessageId,
) -> Result<Option<TemplateId>, sqlx::Error> {
    let row: Option<Option<i64>> =
        sqlx::query_scalar("SELECT template_id FROM messages WHERE id = $1")
            .bind(id.0)
            .fetch_optional(db)
            .await?;
    Ok(row.flatten().map(TemplateId))
}
