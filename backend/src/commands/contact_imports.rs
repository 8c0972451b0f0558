//! Starting a CSV import of contacts: the one way an import begins, from the API or the
//! CLI. The file is spooled into `contact_import_chunks` piece by piece as it arrives (so
//! its size in memory is one piece, whatever the file's), then the import is started with
//! the size it turned out to have; the import worker (`workers::contact_imports`) picks it
//! up from the read model.

use caseyos_domain::contact_import::{
    ContactImport, ContactImportCommand, ContactImportError, StartImport,
};
use caseyos_domain::kernel::{Actor, Text};
use caseyos_store::{now, CommandBus, CommandError, CommandMeta, Committed};
use sqlx::PgPool;
use uuid::Uuid;

/// The size of a spooled piece of the file (the most of it held in memory while spooling).
pub const SPOOL_PIECE_BYTES: usize = 256 * 1024;

/// The longest file name kept.
const MAX_FILE_NAME_CHARS: usize = 255;

/// Why a file could not be spooled.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    #[error("the file is larger than {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("the file is empty")]
    Empty,
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

/// A file being spooled for the import `import_id`.
pub struct Spool {
    pool: PgPool,
    import_id: Uuid,
    limit: u64,
    seq: i32,
    size: u64,
    piece: Vec<u8>,
}

impl Spool {
    /// Spools for a new import id, refusing files larger than `limit` bytes.
    pub fn new(pool: PgPool, limit: u64) -> Spool {
        Spool {
            pool,
            import_id: Uuid::now_v7(),
            limit,
            seq: 0,
            size: 0,
            piece: Vec::with_capacity(SPOOL_PIECE_BYTES),
        }
    }

    /// The import's id.
    pub fn import_id(&self) -> Uuid {
        self.import_id
    }

    /// The bytes spooled so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The capacity of the piece buffer: what spooling holds in memory.
    pub fn buffer_capacity(&self) -> usize {
        self.piece.capacity()
    }

    /// Adds bytes of the file; writes a piece whenever one is full.
    pub async fn write(&mut self, mut bytes: &[u8]) -> Result<(), SpoolError> {
        if self.size + bytes.len() as u64 > self.limit {
            return Err(SpoolError::TooLarge { limit: self.limit });
        }
        self.size += bytes.len() as u64;
        while !bytes.is_empty() {
            let room = SPOOL_PIECE_BYTES - self.piece.len();
            let (now, later) = bytes.split_at(room.min(bytes.len()));
            self.piece.extend_from_slice(now);
            bytes = later;
            if self.piece.len() == SPOOL_PIECE_BYTES {
                self.flush().await?;
            }
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), SpoolError> {
        if self.piece.is_empty() {
            return Ok(());
        }
        // Every piece but the last is full.
        let start = i64::from(self.seq) * SPOOL_PIECE_BYTES as i64;
        sqlx::query(
            "insert into contact_import_chunks (import_id, seq, start, data) \
             values ($1, $2, $3, $4)",
        )
        .bind(self.import_id)
        .bind(self.seq)
        .bind(start)
        .bind(&self.piece)
        .execute(&self.pool)
        .await?;
        self.seq += 1;
        self.piece.clear();
        Ok(())
    }

    /// Writes what is left; the file's size.
    pub async fn finish(mut self) -> Result<u64, SpoolError> {
        if self.size == 0 {
            return Err(SpoolError::Empty);
        }
        self.flush().await?;
        Ok(self.size)
    }

    /// Deletes what was spooled (an upload that failed or was refused).
    pub async fn discard(self) {
        let _ = discard(&self.pool, self.import_id).await;
    }
}

/// Deletes an import's spooled file.
pub async fn discard(pool: &PgPool, import_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("delete from contact_import_chunks where import_id = $1")
        .bind(import_id)
        .execute(pool)
        .await?;
    Ok(())
}

/// Starts the import of a spooled file.
pub async fn start_import(
    bus: &CommandBus,
    import_id: Uuid,
    file_name: Option<&str>,
    size: u64,
    by: Actor,
    meta: &CommandMeta,
) -> Result<Committed<ContactImport>, CommandError<ContactImportError>> {
    let file_name = file_name
        .map(|name| name.chars().take(MAX_FILE_NAME_CHARS).collect::<String>())
        .and_then(|name| Text::parse(&name, MAX_FILE_NAME_CHARS).ok());
    let command = ContactImportCommand::Start(StartImport {
        id: import_id,
        file_name,
        size,
        by,
        at: now(),
    });
    // The import's id was made up when the spool began: no events to load.
    bus.execute_new(import_id, command, meta, |_: &ContactImport| Ok(()))
        .await
}
