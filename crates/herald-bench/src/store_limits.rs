//! The limits of the end-to-end rows: the crowd read by the bare `csv` crate and written by raw
//! sqlx into herald's own SQLite tables, as bus messages (fan-out) and as outbox rows (delivery).

use crate::csv::{for_each_record, temp_crowd};
use crate::pipeline;
use crate::report::rate;
use anyhow::{Context, ensure};
use csv::ByteRecord;
use herald::config::StreamerConfig;
use herald_bus::BusMessage;
use herald_core::{Batch, Batcher, ChannelKind, CrowdRow, DeliveryJob, Installation, JobOrigin, topic_for};
use herald_store::Durability;
use serde_json::json;
use sqlx::{QueryBuilder, Sqlite, SqlitePool};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A 12-hex-digit installation id, as long as the ones herald's first migration makes, so
/// message ids (and payloads) have herald's length.
const INSTALLATION: &str = "0a1b2c3d4e5f";
const TEMPLATE_ID: i64 = 1;
const RUN_ID: i64 = 1;

/// herald's SQLite bus `publish` statement (`herald_bus`'s `sqlite.rs`).
const ENQUEUE: &str = "INSERT INTO bus_messages (topic, msg_key, payload, visible_at, created_at, updated_at)
     VALUES (?1, ?2, ?3, ?4, ?4, ?4)";

/// herald's outbox statement (`herald_store`'s `sqlite/batch.rs`), one VALUES row per message.
const INSERT_OUTBOX: &str =
    "INSERT INTO outbox (message_id, template_id, run_id, receiver, content_json, delivered_at) ";

/// Both limits on one crowd, in rows/s.
pub struct StoreLimits {
    pub fan_out: f64,
    pub outbox: f64,
    /// Bus messages the fan-out wrote, and their average payload size in bytes.
    pub messages: usize,
    pub avg_payload: usize,
    pub publish_window: usize,
    pub batch_size: usize,
    pub durability: Durability,
}

impl StoreLimits {
    /// How the fan-out limit was measured, for the notes column.
    pub fn fan_out_notes(&self) -> String {
        format!(
            "limit = bare `csv` parse -> `Batcher` -> `DeliveryJob` JSON ({} messages of {} receivers, {} B avg) -> \
             raw sqlx INSERT into `bus_messages`, one transaction per {} batches; {}",
            crate::report::thousands(self.messages as f64),
            self.batch_size,
            crate::report::thousands(self.avg_payload as f64),
            self.publish_window,
            crate::sqlite::describe(self.durability)
        )
    }

    /// How the outbox limit was measured, for the notes column.
    pub fn outbox_notes(&self) -> String {
        format!(
            "limit = bare `csv` parse -> title and body rendered by `format!` -> raw sqlx multi-row INSERT into \
             `outbox`, one statement (transaction) per {} rows; {}",
            self.batch_size,
            crate::sqlite::describe(self.durability)
        )
    }
}

/// Measures both limits on a generated crowd of `rows` rows, each into a fresh database on
/// herald's schema opened with `durability`.
pub async fn measure(rows: usize, durability: Durability) -> anyhow::Result<StoreLimits> {
    let crowd = temp_crowd(rows)?;
    let config = StreamerConfig::default();
    let dir = tempfile::tempdir()?;
    let pool = crate::sqlite::herald_schema(dir.path(), durability).await?;
    let (fan_out, messages, payload_bytes) = fan_out(crowd.path(), &config, &pool).await?;
    pool.close().await;

    let dir = tempfile::tempdir()?;
    let pool = crate::sqlite::herald_schema(dir.path(), durability).await?;
    let outbox = outbox(crowd.path(), config.batch_size, &pool).await?;
    pool.close().await;
    Ok(StoreLimits {
        fan_out: rate(rows, fan_out),
        outbox: rate(rows, outbox),
        messages,
        avg_payload: payload_bytes / messages.max(1),
        publish_window: config.publish_window,
        batch_size: config.batch_size,
        durability,
    })
}

/// A record as herald's crowd reader hands it on: the first column is the receiver, the
/// others are variables named by the header.
fn crowd_row(row: u64, header: &ByteRecord, record: &ByteRecord) -> anyhow::Result<CrowdRow> {
    let text = |field: &[u8]| std::str::from_utf8(field).map(str::to_owned).context("a crowd field is not UTF-8");
    let receiver = text(record.get(0).context("a crowd row has no receiver")?)?;
    let variables = header.iter().zip(record.iter()).skip(1).map(|(k, v)| Ok((text(k)?, text(v)?)));
    Ok(CrowdRow { row, receiver, variables: variables.collect::<anyhow::Result<_>>()? })
}

/// The bus message herald's streamer publishes for one batch of a run (its `publish`): the
/// `DeliveryJob`, keyed by `DeliveryJob::key`, serialized as `EncodedJobs::encode` does.
pub fn bus_message(batch: Batch) -> BusMessage {
    let job = DeliveryJob {
        template_id: TEMPLATE_ID,
        origin: JobOrigin::Run { run_id: RUN_ID },
        batch,
        released: false,
        admitted: false,
    };
    BusMessage { key: job.key(), payload: serde_json::to_vec(&job).expect("a delivery job serializes") }
}

/// The batches herald's streamer would make of row after row of a run.
pub fn batcher(batch_size: usize) -> Batcher {
    Batcher::with_limit(Installation::new(INSTALLATION), RUN_ID, batch_size)
}

/// The fan-out: windows of bus messages read on a blocking thread, each window inserted in one
/// transaction. Returns the time, the messages written and their payload bytes.
async fn fan_out(crowd: &Path, config: &StreamerConfig, pool: &SqlitePool) -> anyhow::Result<(Duration, usize, usize)> {
    let (crowd, batch_size, window) = (crowd.to_owned(), config.batch_size, config.publish_window);
    let topic = topic_for(ChannelKind::Outbox);
    let (mut messages, mut bytes) = (0, 0);
    let started = Instant::now();
    pipeline::run(
        move |tx| read_windows(&crowd, batch_size, window, tx),
        async |window: Vec<BusMessage>| {
            messages += window.len();
            bytes += window.iter().map(|m| m.payload.len()).sum::<usize>();
            enqueue_window(pool, &topic, &window).await
        },
    )
    .await?;
    let elapsed = started.elapsed();
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM bus_messages").fetch_one(pool).await?;
    ensure!(stored as usize == messages, "{stored} bus messages stored of {messages}");
    Ok((elapsed, messages, bytes))
}

/// The blocking half of the fan-out: rows into batches, batches into windows of bus messages.
fn read_windows(
    crowd: &Path,
    batch_size: usize,
    window_size: usize,
    tx: &tokio::sync::mpsc::Sender<Vec<BusMessage>>,
) -> anyhow::Result<()> {
    let mut batcher = batcher(batch_size);
    let mut window = Vec::with_capacity(window_size);
    let mut row = 0;
    for_each_record(crowd, |header, record| {
        row += 1;
        if let Some(batch) = batcher.push(crowd_row(row, header, record)?) {
            window.push(bus_message(batch));
        }
        if window.len() == window_size {
            pipeline::send(tx, std::mem::replace(&mut window, Vec::with_capacity(window_size)))?;
        }
        Ok(())
    })?;
    window.extend(batcher.finish().map(bus_message));
    if !window.is_empty() {
        pipeline::send(tx, window)?;
    }
    Ok(())
}

/// One window in one `BEGIN IMMEDIATE` transaction, a statement per message, as herald's SQLite
/// bus `publish_all` writes it.
async fn enqueue_window(pool: &SqlitePool, topic: &str, window: &[BusMessage]) -> anyhow::Result<()> {
    let now = unix_millis();
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    for m in window {
        sqlx::query(ENQUEUE).bind(topic).bind(&m.key).bind(&m.payload).bind(now).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// One rendered message as the outbox channel stores it.
struct Rendered {
    message_id: String,
    receiver: String,
    content_json: String,
}

/// The delivery: rendered rows read on a blocking thread, `batch_size` at a time, each batch
/// inserted by one statement. Returns the time.
async fn outbox(crowd: &Path, batch_size: usize, pool: &SqlitePool) -> anyhow::Result<Duration> {
    let crowd: PathBuf = crowd.to_owned();
    let mut rows = 0;
    let started = Instant::now();
    pipeline::run(
        move |tx| read_rendered(&crowd, batch_size, tx),
        async |batch: Vec<Rendered>| {
            rows += batch.len();
            insert_outbox(pool, &batch).await
        },
    )
    .await?;
    let elapsed = started.elapsed();
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox").fetch_one(pool).await?;
    ensure!(stored as usize == rows, "{stored} outbox rows stored of {rows}");
    Ok(elapsed)
}

/// The blocking half of the delivery: every row rendered, in batches of `batch_size`.
fn read_rendered(crowd: &Path, batch_size: usize, tx: &tokio::sync::mpsc::Sender<Vec<Rendered>>) -> anyhow::Result<()> {
    let installation = Installation::new(INSTALLATION);
    let mut batch = Vec::with_capacity(batch_size);
    let mut row = 0;
    for_each_record(crowd, |header, record| {
        row += 1;
        batch.push(render(&installation, crowd_row(row, header, record)?));
        if batch.len() == batch_size {
            pipeline::send(tx, std::mem::replace(&mut batch, Vec::with_capacity(batch_size)))?;
        }
        Ok(())
    })?;
    if !batch.is_empty() {
        pipeline::send(tx, batch)?;
    }
    Ok(())
}

/// The e2e template's content (`Hi {$name}`, `Your code is {$code}`) rendered for one row.
fn render(installation: &Installation, row: CrowdRow) -> Rendered {
    let variable = |name: &str| row.variables.get(name).map_or("", String::as_str);
    let content =
        json!({"title": format!("Hi {}", variable("name")), "body": format!("Your code is {}", variable("code"))});
    let message_id = installation.run_row(RUN_ID, row.row).0;
    Rendered { message_id, content_json: content.to_string(), receiver: row.receiver }
}

/// One multi-row statement, idempotent on message id, as herald's outbox channel writes a batch.
async fn insert_outbox(pool: &SqlitePool, batch: &[Rendered]) -> anyhow::Result<()> {
    let now = unix_millis();
    let mut insert = QueryBuilder::<Sqlite>::new(INSERT_OUTBOX);
    insert.push_values(batch, |mut values, r| {
        values
            .push_bind(&r.message_id)
            .push_bind(TEMPLATE_ID)
            .push_bind(RUN_ID)
            .push_bind(&r.receiver)
            .push_bind(&r.content_json)
            .push_bind(now);
    });
    insert.push(" ON CONFLICT (message_id) DO NOTHING");
    insert.build().execute(pool).await?;
    Ok(())
}

fn unix_millis() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}
