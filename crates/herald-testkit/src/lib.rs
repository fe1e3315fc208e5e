//! herald-testkit: the fixtures herald's tests share, so each is written once. A fresh
//! PostgreSQL database per test, the test Redis, free ports, a recording HTTP receiver that
//! counts what arrived (the way a provider sees herald), a scaffold for fake providers, moto as
//! the S3 server, and with
//! the `node` feature an in-process node on a temp directory with an HTTP client for its API.
//!
//! Services come from the environment: `HERALD_TEST_POSTGRES_URL` and `HERALD_TEST_REDIS_URL`
//! (defaults: the local servers `scripts/test.sh` starts). An unreachable service fails the test
//! with a message; it never skips it.

pub mod fake;
pub mod feishu_app;
pub mod moto;
pub mod net;
#[cfg(feature = "node")]
pub mod node;
pub mod postgres;
pub mod proxy;
pub mod receiver;
pub mod redis;

pub use fake::{FakeServer, Faults};
pub use moto::Moto;
pub use net::{closed_url, free_port};
pub use postgres::{TestDb, with_test_db};
pub use proxy::CuttableProxy;
pub use receiver::{Received, RecordingReceiver};
