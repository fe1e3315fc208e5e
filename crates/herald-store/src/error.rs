//! The store's error type. Callers match on the variants; database text stays in logs.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A write made on the caller's behalf (a group commit) failed, or its writer is gone.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl StoreError {
    pub fn not_found(what: &'static str, id: impl ToString) -> Self {
        Self::NotFound { what, id: id.to_string() }
    }

    /// A run was asked of a template that has no crowd file.
    pub fn no_crowd(template_id: i64) -> Self {
        Self::Conflict(format!("template {template_id} has no crowd file to send to"))
    }

    /// A column read failed: a value the column holds but the record cannot (bad JSON, say) is
    /// corrupt data; anything else is the database's error.
    pub(crate) fn decoding(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::ColumnDecode { .. } => Self::Corrupt(e.to_string()),
            e => Self::Database(e),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
