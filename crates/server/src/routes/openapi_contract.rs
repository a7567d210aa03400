//! What the handlers' `#[utoipa::path]` attributes cannot say by themselves, added to the
//! generated document so that it promises exactly what the server does (checked by
//! schemathesis in `cargo xtask test`):
//!
//! - the answers every route shares ([`shared_answers`]): 400 for an unreadable path, query or
//!   body, 413 and 415 for a body, 401 and 429 for an authenticated route, 404 for a path whose
//!   parameter is not one the router recognizes, 500 and 503 for any route;
//! - the values the server accepts ([`constraints`]): sequence numbers are not negative, a
//!   message body is 1 to 10,000 characters once trimmed (and no NUL), a subject at most 200
//!   without control characters, a closing reason 1 to 500 (line breaks and tabs allowed), an
//!   intake look-back 1 to 24 months, a conversation moves by hand to an open state only, and
//!   office hours and absences are times and days of the right form ([`hours`]);
//! - unique operation ids, and links from a conversation to the routes that take its id, for
//!   the stateful tests ([`links`]).
//!
//! It edits the JSON tree: utoipa's path attributes cannot set a parameter's bounds nor a
//! response's links. Every number comes from the protocol crate's constants.

use colloque_protocol::{
    MAX_ATTACHMENTS_PER_MESSAGE, MAX_CLOSE_REASON_CHARS, MAX_INTAKE_MONTHS, MAX_MESSAGE_CHARS,
    MAX_SUBJECT_CHARS, MAX_WORKING_DAYS, TriageState,
};
use serde_json::{Map, Value, json};

/// The characters Rust's `str::trim` removes (Unicode `White_Space`), as a regular expression
/// class's contents, for the patterns below.
const WHITE_SPACE: &str =
    r"\t\n\u000B\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";

/// Control characters (`char::is_control`, Unicode `Cc`).
pub(super) const CONTROL: &str = r"\u0000-\u001F\u007F-\u009F";

/// The characters of a message body: anything but NUL.
pub(super) const BODY_CHARACTERS: &str = r"^\u0000";

/// The characters of a closing reason: no control character but the line feed and the tab.
const REASON_CHARACTERS: &str = r"^\u0000-\u0008\u000B-\u001F\u007F-\u009F";

/// The characters of an attachment's name: no control character, no path separator.
fn name_characters() -> String {
    format!(r"^{CONTROL}/\\")
}

/// The longest attachment name, in characters once trimmed.
pub const MAX_ATTACHMENT_NAME_CHARS: usize = 255;

/// Completes the generated document.
pub fn complete(mut document: Value) -> Value {
    shared_answers(&mut document);
    constraints(&mut document);
    links(&mut document);
    document
}

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// Every operation, with its path and method.
fn operations(document: &mut Value) -> Vec<(String, String, &mut Map<String, Value>)> {
    let mut found = Vec::new();
    let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) else {
        return found;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, operation) in item.iter_mut() {
            if let (true, Some(operation)) = (
                METHODS.contains(&method.as_str()),
                operation.as_object_mut(),
            ) {
                found.push((path.clone(), method.clone(), operation));
            }
        }
    }
    found
}

fn error_answer(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}
    })
}

/// Adds the answers every route of its kind can give, unless the route's own attribute
/// describes them already (its description is then the more precise one).
fn shared_answers(document: &mut Value) {
    for (path, _, operation) in operations(document) {
        let secured = operation
            .get("security")
            .and_then(Value::as_array)
            .is_some_and(|requirements| !requirements.is_empty());
        let has_body = operation.contains_key("requestBody");
        let parameters: Vec<String> = operation
            .get("parameters")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(|p| p.get("in").and_then(Value::as_str).map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let mut answers: Vec<(&str, &str)> = Vec::new();
        if has_body {
            answers.push((
                "400",
                "The body is not JSON of the expected shape (`invalid_json`), or a value in it \
                 is refused",
            ));
            answers.push(("413", "The body is over 128 KiB (`payload_too_large`)"));
            answers.push((
                "415",
                "The body was sent without `Content-Type: application/json` (`invalid_json`)",
            ));
        }
        if !parameters.is_empty() {
            answers.push((
                "400",
                "A path or query parameter that is not of its type (`invalid_input`)",
            ));
        }
        if parameters.iter().any(|place| place == "path") {
            answers.push((
                "404",
                "A path the router does not recognize (an empty or malformed parameter), or a \
                 resource the caller may not know about (`not_found`)",
            ));
        }
        if secured {
            answers.push((
                "401",
                "No valid session: missing, malformed, expired or revoked token (`unauthorized`)",
            ));
            answers.push((
                "429",
                "Over the user's budget of requests and frames, or of messages \
                 (`rate_limited`, with `Retry-After`)",
            ));
        }
        if path != "/api/health" {
            answers.push((
                "503",
                "The server could not take or finish the request in time (`server_busy`, with \
                 `Retry-After` when it knows how long); nothing was done",
            ));
        }
        answers.push((
            "500",
            "The server failed (`internal`); nothing was stored, safe to retry",
        ));
        let responses = operation
            .entry("responses")
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .expect("responses is an object");
        for (status, description) in answers {
            responses
                .entry(status)
                .or_insert_with(|| error_answer(description));
        }
    }
}

/// `^…$` for a text of `min..=max` characters once the white space around it is trimmed,
/// made of `inner` characters (the first and last ones not white space), with any white space
/// around.
pub(super) fn trimmed_pattern(min: usize, max: usize, inner: &str) -> String {
    let edge = format!("[^{WHITE_SPACE}{}]", inner_exclusions(inner));
    let middle = format!("[{inner}]");
    let core = match max {
        0 => String::new(),
        1 => edge.clone(),
        _ => format!("{edge}(?:{middle}{{0,{}}}{edge})?", max - 2),
    };
    let core = if min == 0 {
        format!("(?:{core})?")
    } else {
        core
    };
    format!("^[{WHITE_SPACE}]*{core}[{WHITE_SPACE}]*$")
}

/// The characters an `inner` class leaves out, to leave them out of the edges too.
fn inner_exclusions(inner: &str) -> &str {
    inner.strip_prefix('^').unwrap_or("")
}

pub(super) fn schema_mut<'a>(
    document: &'a mut Value,
    name: &str,
) -> Option<&'a mut Map<String, Value>> {
    document
        .pointer_mut(&format!("/components/schemas/{name}"))
        .and_then(Value::as_object_mut)
}

pub(super) fn property_mut<'a>(
    document: &'a mut Value,
    schema: &str,
    property: &str,
) -> Option<&'a mut Map<String, Value>> {
    schema_mut(document, schema)?
        .get_mut("properties")?
        .get_mut(property)?
        .as_object_mut()
}

/// The values the server accepts, so that a value the document allows is accepted and one it
/// does not is refused.
fn constraints(document: &mut Value) {
    if let Some(seq) = schema_mut(document, "Seq") {
        seq.insert("minimum".into(), json!(0));
        seq.insert("maximum".into(), json!(i64::MAX));
    }
    // What an `i64` holds (JSON Schema integers have no size of their own).
    for name in [
        "UserId",
        "ConversationId",
        "MessageId",
        "AppointmentId",
        "AbsenceId",
        "TemplateId",
        "Timestamp",
    ] {
        if let Some(id) = schema_mut(document, name) {
            id.entry("minimum").or_insert(json!(i64::MIN));
            id.entry("maximum").or_insert(json!(i64::MAX));
        }
    }
    if let Some(body) = property_mut(document, "SendMessageRequest", "body") {
        // Any character but NUL; 1 to MAX_MESSAGE_CHARS of them once trimmed.
        body.insert(
            "pattern".into(),
            json!(trimmed_pattern(1, MAX_MESSAGE_CHARS, BODY_CHARACTERS)),
        );
    }
    if let Some(subject) = property_mut(document, "StartConversationRequest", "subject") {
        // No control character; at most MAX_SUBJECT_CHARS once trimmed (blank: the default).
        subject.insert(
            "pattern".into(),
            json!(trimmed_pattern(
                0,
                MAX_SUBJECT_CHARS,
                &format!("^{CONTROL}")
            )),
        );
    }
    care(document);
    hours(document);
    super::templates::contract(document);
    super::push::contract(document);
    history_page(document);
    attachments(document);
    notifications(document);
}

/// Quiet hours: two `HH:MM` times.
fn notifications(document: &mut Value) {
    for field in ["from", "to"] {
        if let Some(time) = property_mut(document, "QuietHours", field) {
            time.insert("pattern".into(), json!(TIME_PATTERN));
        }
    }
}

/// The attachment routes: at most [`MAX_ATTACHMENTS_PER_MESSAGE`] distinct ids per send, the
/// upload's name as `crate::attachments::parse_name` reads it, and the Documents pages' query
/// fields (`before` any position, `limit` a `u32` that the server clamps).
fn attachments(document: &mut Value) {
    for schema in ["SendMessageRequest"] {
        if let Some(ids) = property_mut(document, schema, "attachment_ids") {
            ids.insert("maxItems".into(), json!(MAX_ATTACHMENTS_PER_MESSAGE));
            ids.insert("uniqueItems".into(), json!(true));
        }
    }
    let name = trimmed_pattern(1, MAX_ATTACHMENT_NAME_CHARS, &name_characters());
    for pointer in [
        "/paths/~1api~1attachments/post/parameters",
        "/paths/~1api~1me~1attachments/get/parameters",
        "/paths/~1api~1conversations~1{id}~1attachments/get/parameters",
    ] {
        let Some(parameters) = document.pointer_mut(pointer).and_then(Value::as_array_mut) else {
            continue;
        };
        for parameter in parameters.iter_mut().filter_map(Value::as_object_mut) {
            let schema = match parameter.get("name").and_then(Value::as_str) {
                Some("name") => json!({"type": "string", "pattern": name}),
                Some("before") => {
                    json!({"type": "integer", "minimum": i64::MIN, "maximum": i64::MAX})
                }
                Some("limit") => json!({"type": "integer", "minimum": 0, "maximum": u32::MAX}),
                _ => continue,
            };
            parameter.insert("schema".into(), schema);
        }
    }
}

/// Office hours and absences: a promise of 0 to [`MAX_WORKING_DAYS`] working days, seven days
/// of hours each `null` or two `HH:MM` times (a day that does not close after it opens is a
/// closed day: no schema can say "after"), absence days as full dates (`format: date`, and a
/// pattern for the exact form; either order).
fn hours(document: &mut Value) {
    if let Some(days) = property_mut(document, "UpdateReplySettingsRequest", "working_days") {
        days.insert("minimum".into(), json!(0));
        days.insert("maximum".into(), json!(MAX_WORKING_DAYS));
    }
    if let Some(week) = property_mut(document, "UpdateReplySettingsRequest", "hours") {
        week.insert("minItems".into(), json!(7));
        week.insert("maxItems".into(), json!(7));
    }
    for field in ["opens", "closes"] {
        if let Some(time) = property_mut(document, "DayHours", field) {
            time.insert("pattern".into(), json!(TIME_PATTERN));
        }
    }
    for field in ["from", "to"] {
        if let Some(day) = property_mut(document, "NewAbsenceRequest", field) {
            day.insert("format".into(), json!("date"));
            day.insert("pattern".into(), json!(DAY_PATTERN));
        }
    }
}

/// `HH:MM`, 00:00 to 23:59.
pub const TIME_PATTERN: &str = "^([01][0-9]|2[0-3]):[0-5][0-9]$";

/// `YYYY-MM-DD` (the date itself is checked by `format: date`).
pub const DAY_PATTERN: &str = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$";

/// The care workflow's requests: a closing reason is 1 to [`MAX_CLOSE_REASON_CHARS`]
/// characters once trimmed, without control characters but line breaks and tabs
/// (`domain::CloseReason`); a look-back is 1 to [`MAX_INTAKE_MONTHS`] months; `…/triage` moves
/// a conversation to an open state only (`done` is `…/close`, which takes a reason).
fn care(document: &mut Value) {
    if let Some(reason) = property_mut(document, "CloseConversationRequest", "reason") {
        reason.insert(
            "pattern".into(),
            json!(trimmed_pattern(
                1,
                MAX_CLOSE_REASON_CHARS,
                REASON_CHARACTERS
            )),
        );
    }
    if let Some(months) = property_mut(document, "UpdateIntakeRequest", "months") {
        months.insert("minimum".into(), json!(1));
        months.insert("maximum".into(), json!(MAX_INTAKE_MONTHS));
    }
    if let Some(state) = property_mut(document, "SetTriageRequest", "state") {
        let open: Vec<&str> = TriageState::ALL
            .into_iter()
            .filter(|state| *state != TriageState::Done)
            .map(TriageState::as_str)
            .collect();
        // In place of the reference to `TriageState`, which has `done`.
        state.clear();
        state.insert("type".into(), json!("string"));
        state.insert("enum".into(), json!(open));
        state.insert(
            "description".into(),
            json!("The new state, an open one (`done` is `…/close`, with a reason)"),
        );
    }
}

/// `GET /api/conversations/{id}/messages`: what its query fields hold (`Seq` ≥ 0, `limit` a
/// `u32`, clamped by the server), written in each field's schema.
fn history_page(document: &mut Value) {
    let Some(parameters) = document
        .pointer_mut("/paths/~1api~1conversations~1{id}~1messages/get/parameters")
        .and_then(Value::as_array_mut)
    else {
        return;
    };
    for parameter in parameters.iter_mut().filter_map(Value::as_object_mut) {
        let maximum = match parameter.get("name").and_then(Value::as_str) {
            Some("before" | "after") => json!(i64::MAX),
            Some("limit") => json!(u32::MAX),
            _ => continue,
        };
        parameter.insert(
            "schema".into(),
            json!({"type": "integer", "minimum": 0, "maximum": maximum}),
        );
    }
}

/// Unique operation ids (`get_conversations_id_messages`), and links from the answers that
/// name a conversation to the routes that take its id.
fn links(document: &mut Value) {
    for (path, method, operation) in operations(document) {
        let name: Vec<&str> = path
            .trim_start_matches("/api/")
            .split(['/', '-'])
            .map(|part| part.trim_matches(['{', '}']))
            .filter(|part| !part.is_empty())
            .collect();
        let id = format!("{method}_{}", name.join("_")).replace('.', "_");
        operation.insert("operationId".into(), json!(id));
    }
    let conversation_routes = |id: &str| {
        json!({
            "GetConversation": {
                "operationId": "get_conversations_id",
                "parameters": {"id": id},
            },
            "GetHistory": {
                "operationId": "get_conversations_id_messages",
                "parameters": {"id": id},
            },
            "SendMessage": {
                "operationId": "post_conversations_id_messages",
                "parameters": {"id": id},
            },
            "MarkRead": {
                "operationId": "post_conversations_id_read",
                "parameters": {"id": id},
            },
            "MarkReceived": {
                "operationId": "post_conversations_id_received",
                "parameters": {"id": id},
            },
            "Close": {
                "operationId": "post_conversations_id_close",
                "parameters": {"id": id},
            },
            "Reopen": {
                "operationId": "post_conversations_id_reopen",
                "parameters": {"id": id},
            },
            "Triage": {
                "operationId": "post_conversations_id_triage",
                "parameters": {"id": id},
            },
        })
    };
    let answers = [
        (
            "/paths/~1api~1conversations/post/responses/201",
            "$response.body#/id",
        ),
        (
            "/paths/~1api~1conversations/post/responses/200",
            "$response.body#/id",
        ),
        (
            "/paths/~1api~1conversations/get/responses/200",
            "$response.body#/0/id",
        ),
        (
            "/paths/~1api~1conversations~1{id}~1messages/post/responses/201",
            "$response.body#/conversation_id",
        ),
    ];
    for (pointer, id) in answers {
        if let Some(answer) = document.pointer_mut(pointer).and_then(Value::as_object_mut) {
            answer.insert("links".into(), conversation_routes(id));
        }
    }
}

#[cfg(test)]
mod tests;
