//! SQLite side of store-to-store copies: id-ordered export (`export.rs`), and import one write
//! transaction per batch (`import.rs`).

mod export;
mod import;

use async_trait::async_trait;

use super::SqliteStore;
use crate::domain::Id;
use crate::store::transfer::{Batch, Imported, Kind, Record, Transfer};
use crate::store::{StoreError, StoreResult};

#[async_trait]
impl Transfer for SqliteStore {
    fn describe(&self) -> String {
        "SQLite".into()
    }

    async fn count(&self, kind: Kind) -> StoreResult<u64> {
        let n: i64 = self
            .reads
            .read_off_thread(move |db| db.prepare_cached(export::count_sql(kind))?.query_row([], |r| r.get(0)))
            .await?;
        Ok(n as u64)
    }

    async fn export(&self, kind: Kind, after: Option<Id>, limit: u32) -> StoreResult<Batch> {
        let records = self.reads.read_off_thread(move |db| export::page(db, kind, after, limit)).await?;
        let last = records.last().map(export::id_of);
        Ok(Batch { records, last, unreadable: 0 })
    }

    async fn import(&self, records: Vec<Record>) -> StoreResult<Imported> {
        // A failed statement fails the batch; a failed commit is told apart.
        let committed = self
            .writes
            .write(move |db| {
                let tx = db.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                let mut imported = Imported::default();
                for record in records {
                    if import::import_one(&tx, record)? {
                        imported.written += 1;
                    } else {
                        imported.skipped += 1;
                    }
                }
                Ok(tx.commit().map(|()| imported))
            })
            .await?;
        committed.map_err(|e| StoreError::context("committing an imported batch failed", e))
    }
}
