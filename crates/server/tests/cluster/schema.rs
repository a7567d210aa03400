//! The two backends' migrations build the same schema: tables, columns (type, nullability),
//! primary keys, unique constraints and indexes, foreign keys and check constraints. A
//! migration added to one backend and not the other fails here.

use colloque_server::store::{DatabaseUrl, Store};
use colloque_testbed::{Postgres, PostgresOptions};
use std::collections::BTreeMap;

/// One table, as both backends can describe it.
#[derive(Debug, Default, PartialEq, Eq)]
struct Table {
    /// name → (type class, not null)
    columns: BTreeMap<String, (String, bool)>,
    primary_key: Vec<String>,
    /// Unique constraints and unique indexes, as column lists (with a partial index's name).
    unique: Vec<String>,
    /// Other indexes: name → columns.
    indexes: BTreeMap<String, String>,
    /// column → "table(column) on delete <rule>"
    foreign_keys: BTreeMap<String, String>,
    checks: usize,
}

type Schema = BTreeMap<String, Table>;

/// SQLite's INTEGER holds booleans as 0/1 with a CHECK; PostgreSQL has BOOLEAN instead.
const BOOLEANS: [(&str, &str); 5] = [
    ("users", "disabled"),
    ("reply_templates", "shared"),
    ("notification_settings", "email"),
    ("notification_settings", "push"),
    ("typing_settings", "share_typing"),
];

async fn sqlite_schema() -> Schema {
    let dir = tempfile::tempdir().unwrap();
    let Store::Sqlite(pool) = Store::connect(&DatabaseUrl::in_data_dir(dir.path()))
        .await
        .unwrap()
    else {
        unreachable!("a SQLite URL opens SQLite")
    };
    let tables: Vec<(String, String)> = sqlx::query_as(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table'
         AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut schema = Schema::new();
    for (name, sql) in tables {
        let mut table = Table::default();
        let columns: Vec<(String, String, bool, i64)> = sqlx::query_as(
            "SELECT name, type, \"notnull\", pk FROM pragma_table_info($1) ORDER BY cid",
        )
        .bind(&name)
        .fetch_all(&pool)
        .await
        .unwrap();
        let mut pk: Vec<(i64, String)> = Vec::new();
        for (column, kind, not_null, pk_position) in columns {
            let class = match kind.as_str() {
                "INTEGER" if BOOLEANS.contains(&(name.as_str(), column.as_str())) => "boolean",
                "INTEGER" => "integer",
                "TEXT" => "text",
                "BLOB" => "blob",
                other => panic!("{name}.{column}: SQLite type {other} not mapped"),
            };
            if pk_position > 0 {
                pk.push((pk_position, column.clone()));
            }
            // A primary key column is not null on both sides.
            table
                .columns
                .insert(column, (class.to_owned(), not_null || pk_position > 0));
        }
        pk.sort();
        table.primary_key = pk.into_iter().map(|(_, column)| column).collect();
        let indexes: Vec<(String, bool, String, bool)> =
            sqlx::query_as("SELECT name, \"unique\", origin, partial FROM pragma_index_list($1)")
                .bind(&name)
                .fetch_all(&pool)
                .await
                .unwrap();
        for (index, unique, origin, partial) in indexes {
            if origin == "pk" {
                continue;
            }
            let columns: Vec<String> =
                sqlx::query_scalar("SELECT name FROM pragma_index_info($1) ORDER BY seqno")
                    .bind(&index)
                    .fetch_all(&pool)
                    .await
                    .unwrap();
            let columns = columns.join(",");
            match (unique, partial) {
                (true, true) => table.unique.push(format!("{index}: {columns}")),
                (true, false) => table.unique.push(columns),
                (false, _) => {
                    table.indexes.insert(index, columns);
                }
            }
        }
        table.unique.sort();
        let keys: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT \"from\", \"table\", \"to\", on_delete FROM pragma_foreign_key_list($1)",
        )
        .bind(&name)
        .fetch_all(&pool)
        .await
        .unwrap();
        for (from, to_table, to, on_delete) in keys {
            table.foreign_keys.insert(
                from,
                format!("{to_table}({to}) on delete {}", on_delete.to_lowercase()),
            );
        }
        let booleans = BOOLEANS.iter().filter(|(t, _)| *t == name).count();
        table.checks = sql.matches("CHECK (").count() - booleans;
        schema.insert(name, table);
    }
    schema
}

async fn postgres_schema(postgres: &Postgres) -> Schema {
    postgres.create_database("schema").unwrap();
    let Store::Postgres(pool) = Store::connect(&DatabaseUrl::Postgres(postgres.url("schema")))
        .await
        .unwrap()
    else {
        unreachable!("a PostgreSQL URL opens PostgreSQL")
    };
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut schema = Schema::new();
    for name in tables {
        let mut table = Table::default();
        let columns: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT column_name::text, data_type::text, is_nullable::text
             FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1",
        )
        .bind(&name)
        .fetch_all(&pool)
        .await
        .unwrap();
        for (column, kind, nullable) in columns {
            let class = match kind.as_str() {
                "bigint" => "integer",
                "boolean" => "boolean",
                "text" => "text",
                "bytea" => "blob",
                other => panic!("{name}.{column}: PostgreSQL type {other} not mapped"),
            };
            table
                .columns
                .insert(column, (class.to_owned(), nullable == "NO"));
        }
        // Indexes, constraints' included: (name, unique, primary, partial, columns in order).
        let indexes: Vec<(String, bool, bool, bool, String)> = sqlx::query_as(
            "SELECT i.relname::text, x.indisunique, x.indisprimary, x.indpred IS NOT NULL,
                    (SELECT string_agg(a.attname, ',' ORDER BY k.n)
                       FROM unnest(x.indkey) WITH ORDINALITY AS k(attnum, n)
                       JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum)
             FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
             JOIN pg_class t ON t.oid = x.indrelid
             WHERE t.relname = $1",
        )
        .bind(&name)
        .fetch_all(&pool)
        .await
        .unwrap();
        for (index, unique, primary, partial, columns) in indexes {
            match (primary, unique, partial) {
                (true, _, _) => table.primary_key = columns.split(',').map(String::from).collect(),
                (false, true, true) => table.unique.push(format!("{index}: {columns}")),
                (false, true, false) => table.unique.push(columns),
                (false, false, _) => {
                    table.indexes.insert(index, columns);
                }
            }
        }
        table.unique.sort();
        let keys: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT a.attname::text, f.relname::text, fa.attname::text,
                    CASE c.confdeltype WHEN 'c' THEN 'cascade' WHEN 'n' THEN 'set null'
                         WHEN 'r' THEN 'restrict' ELSE 'no action' END
             FROM pg_constraint c
             JOIN pg_class t ON t.oid = c.conrelid
             JOIN pg_class f ON f.oid = c.confrelid
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
             JOIN pg_attribute fa ON fa.attrelid = c.confrelid AND fa.attnum = c.confkey[1]
             WHERE c.contype = 'f' AND t.relname = $1",
        )
        .bind(&name)
        .fetch_all(&pool)
        .await
        .unwrap();
        for (from, to_table, to, on_delete) in keys {
            table
                .foreign_keys
                .insert(from, format!("{to_table}({to}) on delete {on_delete}"));
        }
        let checks: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
             WHERE c.contype = 'c' AND t.relname = $1",
        )
        .bind(&name)
        .fetch_one(&pool)
        .await
        .unwrap();
        table.checks = checks as usize;
        schema.insert(name, table);
    }
    schema
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sqlite_and_postgresql_migrations_build_the_same_schema() {
    let postgres = tokio::task::spawn_blocking(|| Postgres::start(PostgresOptions::default()))
        .await
        .unwrap()
        .expect("a private PostgreSQL");
    let sqlite = sqlite_schema().await;
    let postgres = postgres_schema(&postgres).await;

    assert_eq!(
        sqlite.keys().collect::<Vec<_>>(),
        postgres.keys().collect::<Vec<_>>(),
        "the same tables"
    );
    for (name, table) in &sqlite {
        assert_eq!(
            table, &postgres[name],
            "table {name}: SQLite (left), PostgreSQL (right)"
        );
    }
    assert!(
        sqlite["messages"]
            .unique
            .contains(&"sender_id,client_id".to_owned())
    );
}
