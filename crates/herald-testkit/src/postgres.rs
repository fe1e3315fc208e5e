//! A database of its own for each test, on the server `HERALD_TEST_POSTGRES_URL` names, dropped
//! at the end even when the test panics.

use sqlx::{Connection, PgConnection};
use std::future::Future;

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres:postgres@127.0.0.1:5432/postgres";

/// The server's admin URL: `HERALD_TEST_POSTGRES_URL`, else the local default.
pub fn admin_url() -> String {
    std::env::var("HERALD_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_string())
}

/// Creates a database for one test, runs `test` with it and drops it, panic or not.
pub async fn with_test_db<F, Fut>(test: F)
where
    F: FnOnce(TestDb) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let db = TestDb::create().await;
    let result = tokio::spawn(test(db.clone())).await;
    db.drop_database().await;
    if let Err(e) = result {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// A fresh database for one test.
#[derive(Debug, Clone)]
pub struct TestDb {
    admin_url: String,
    pub name: String,
    pub url: String,
}

impl TestDb {
    pub async fn create() -> Self {
        let admin_url = admin_url();
        let mut admin = PgConnection::connect(&admin_url).await.unwrap_or_else(|e| {
            panic!(
                "PostgreSQL is unreachable at {admin_url}: {e}. These tests need a running server \
                 (scripts/test.sh starts one; HERALD_TEST_POSTGRES_URL picks another)."
            )
        });
        let name = format!("herald_t_{:032x}", rand::random::<u128>());
        // The name is generated here, never input, so it is safe to splice into the statement.
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("cannot create test database {name} at {admin_url}: {e}"));
        admin.close().await.ok();
        let url = with_database(&admin_url, &name);
        Self { admin_url, name, url }
    }

    /// Drops the database; a failure is reported, not fatal (the server may be going away).
    pub async fn drop_database(&self) {
        let dropped = async {
            let mut admin = PgConnection::connect(&self.admin_url).await?;
            sqlx::query(&format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name)).execute(&mut admin).await?;
            admin.close().await
        };
        if let Err(e) = dropped.await {
            eprintln!("could not drop test database {}: {e}", self.name);
        }
    }
}

/// `url` with its database path replaced by `database`, query string kept.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.find('?') {
        Some(i) => url.split_at(i),
        None => (url, ""),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[authority_start..].find('/').map_or(base.len(), |i| authority_start + i);
    format!("{}/{database}{query}", &base[..host_end])
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_is_replaced_and_the_query_kept() {
        assert_eq!(with_database("postgres://u:p@h:5432/postgres", "t1"), "postgres://u:p@h:5432/t1");
        assert_eq!(with_database("postgres://h/postgres?sslmode=disable", "t1"), "postgres://h/t1?sslmode=disable");
        assert_eq!(with_database("postgres://h", "t1"), "postgres://h/t1");
    }
}
