//! The test harness: a fresh schema per test, extra "nodes" on the same schema, and an
//! administrative connection for poking at the database behind the store's back.

use std::time::Duration;

use baton_store_postgres::{Options, PgStore};

/// The database URL, or `None` (after printing why) when PostgreSQL tests are off.
pub fn url(test: &str) -> Option<String> {
    match std::env::var("BATON_TEST_POSTGRES") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!("skipping {test}: set BATON_TEST_POSTGRES to a PostgreSQL URL to run it");
            None
        }
    }
}

/// A store on a fresh schema `baton_test_<random>`, dropped with the value.
pub struct TestDb {
    pub url: String,
    pub schema: String,
    pub store: PgStore,
}

fn random_hex() -> String {
    let mut bytes = [0u8; 6];
    getrandom::fill(&mut bytes).expect("OS randomness");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl TestDb {
    /// `None` when PostgreSQL tests are off.
    pub async fn new(test: &str) -> Option<TestDb> {
        let url = url(test)?;
        let schema = format!("baton_test_{}", random_hex());
        let store = PgStore::connect_with(&url, options_for(&schema))
            .await
            .expect("connect to BATON_TEST_POSTGRES");
        Some(TestDb { url, schema, store })
    }

    /// Options of this test's stores: its schema, and its schema as the application name so
    /// that its connections can be found in `pg_stat_activity`.
    pub fn options(&self) -> Options {
        options_for(&self.schema)
    }

    /// Another store (another node) on the same schema.
    pub async fn node(&self) -> PgStore {
        PgStore::connect_with(&self.url, self.options())
            .await
            .expect("second node")
    }

    /// A plain connection with the test's schema on its search path.
    pub async fn admin(&self) -> tokio_postgres::Client {
        admin(&self.url, Some(&self.schema)).await
    }

    /// Terminates every server connection of this test's stores; returns how many.
    pub async fn kill_connections(&self) -> i64 {
        let admin = admin(&self.url, None).await;
        let rows = admin
            .query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                 WHERE application_name = $1 AND pid <> pg_backend_pid()",
                &[&self.schema],
            )
            .await
            .expect("terminate");
        rows.len() as i64
    }
}

pub fn options_for(schema: &str) -> Options {
    Options {
        schema: Some(schema.to_owned()),
        application_name: schema.to_owned(),
        retry_for: Duration::from_secs(20),
        ..Options::default()
    }
}

pub async fn admin(url: &str, schema: Option<&str>) -> tokio_postgres::Client {
    let mut config: tokio_postgres::Config = url.parse().expect("URL");
    if let Some(schema) = schema {
        config.options(format!("-c search_path={schema}"));
    }
    let (client, connection) = config
        .connect(tokio_postgres::NoTls)
        .await
        .expect("admin connection");
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Drop the schema on a thread of its own: this may run inside the test's runtime.
        let (url, schema) = (self.url.clone(), self.schema.clone());
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let admin = admin(&url, None).await;
                admin
                    .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                    .await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop test schema {}", self.schema);
        }
    }
}

/// Percentile of sorted durations.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}
