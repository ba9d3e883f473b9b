//! `videotube migrate`: copies every record from one store to another (SQLite ⇄ MongoDB), keeping ids
//! and timestamps, printing progress as it goes and a report at the end.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{Context, bail};

use crate::store::mongo::MongoStore;
use crate::store::sqlite::SqliteStore;
use crate::store::transfer::{KindReport, Transfer, copy_all};

/// Where a store lives, as given on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    Sqlite(PathBuf),
    Mongo(String),
}

impl Location {
    pub fn parse(raw: &str) -> anyhow::Result<Self> {
        if let Some(path) = raw.strip_prefix("sqlite:") {
            if path.is_empty() {
                bail!("`sqlite:` needs a file path, e.g. sqlite:data/videotube.db");
            }
            return Ok(Location::Sqlite(PathBuf::from(path)));
        }
        if raw.starts_with("mongodb://") || raw.starts_with("mongodb+srv://") {
            return Ok(Location::Mongo(raw.to_owned()));
        }
        bail!("`{raw}` is not a store: use sqlite:<path> or a mongodb:// URI")
    }

    /// How the report names the store: the file, or the database (never the URI, which may hold a password).
    fn describe(&self, store: &dyn Transfer) -> String {
        match self {
            Location::Sqlite(path) => format!("SQLite file {}", path.display()),
            Location::Mongo(_) => store.describe(),
        }
    }

    /// Opens the store; a MongoDB source is only read (no index creation, no email normalisation),
    /// a destination is prepared as the server would prepare it.
    async fn open(&self, as_source: bool) -> anyhow::Result<Box<dyn Transfer>> {
        Ok(match self {
            Location::Sqlite(path) => {
                if !as_source && let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    // A destination file may be new, and so may its folder (`sqlite:backup/videotube.db`).
                    std::fs::create_dir_all(parent)
                        .with_context(|| format!("creating the folder {} for the copy", parent.display()))?;
                }
                Box::new(
                    SqliteStore::open(path).await.with_context(|| format!("opening SQLite file {}", path.display()))?,
                )
            }
            Location::Mongo(uri) => {
                let store =
                    if as_source { MongoStore::connect_unprepared(uri).await } else { MongoStore::connect(uri).await };
                Box::new(store.context("connecting to MongoDB")?)
            }
        })
    }
}

/// Copies every record from one store to another (SQLite <-> MongoDB), keeping ids and timestamps.
///
/// Existing records with the same id are overwritten, so an interrupted copy is resumed by running
/// the same command again.
#[derive(clap::Parser, Debug, PartialEq, Eq)]
#[command(name = "migrate")]
pub struct Args {
    /// The store to read: `sqlite:<path to videotube.db>` or a MongoDB URI (`mongodb://…`,
    /// `mongodb+srv://…`; the database defaults to `videotube`)
    #[arg(long, value_name = "STORE", value_parser = Location::parse)]
    pub from: Location,
    /// The store to write, named the same way
    #[arg(long, value_name = "STORE", value_parser = Location::parse)]
    pub to: Location,
    /// Records read and written per round trip
    #[arg(long, value_name = "N", default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..))]
    pub batch: u32,
}

fn report_line(report: &KindReport) -> String {
    let mut line = format!(
        "{}: {}/{} read, {} written, {} skipped",
        report.kind.name(),
        report.read,
        report.total,
        report.imported.written,
        report.imported.skipped
    );
    if report.unreadable > 0 {
        line.push_str(&format!(", {} unreadable", report.unreadable));
    }
    line
}

/// A report line on stdout; a closed stdout (`| head`) must not stop the copy half-way.
fn say(line: &str) {
    let _ = writeln!(std::io::stdout(), "{line}");
}

/// Runs the copy; the progress line goes to stderr, the report to stdout.
pub async fn run(args: Args) -> anyhow::Result<()> {
    if args.from == args.to {
        bail!("--from and --to name the same store");
    }
    let from = args.from.open(true).await?;
    let to = args.to.open(false).await?;
    say(&format!("copying from {} to {}", args.from.describe(from.as_ref()), args.to.describe(to.as_ref())));
    // The live line is redrawn in place on a terminal; logs and pipes get only the final lines.
    let live = std::io::stderr().is_terminal();
    let mut progress = |report: &KindReport, done: bool| {
        if live {
            eprint!("\r\x1b[2K{}", if done { String::new() } else { report_line(report) });
            let _ = std::io::stderr().flush();
        }
        if done {
            say(&report_line(report));
        }
    };
    let reports = copy_all(from.as_ref(), to.as_ref(), args.batch, &mut progress).await?;
    let written: u64 = reports.iter().map(|r| r.imported.written).sum();
    let skipped: u64 = reports.iter().map(|r| r.imported.skipped + r.unreadable).sum();
    say(&format!("done: {written} records written, {skipped} not copied"));
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn args(raw: &[&str]) -> Result<Args, clap::Error> {
        Args::try_parse_from(std::iter::once("migrate").chain(raw.iter().copied()))
    }

    #[test]
    fn stores_are_named_by_scheme() {
        let parsed =
            args(&["--from", "sqlite:data/videotube.db", "--to", "mongodb://h/tube", "--batch", "50"]).unwrap();
        assert_eq!(
            parsed,
            Args {
                from: Location::Sqlite("data/videotube.db".into()),
                to: Location::Mongo("mongodb://h/tube".into()),
                batch: 50
            }
        );
        assert_eq!(args(&["--to", "sqlite:a", "--from", "mongodb+srv://c"]).unwrap().batch, 500);
    }

    #[test]
    fn mistakes_are_explained() {
        let message = |raw: &[&str]| args(raw).unwrap_err().to_string();
        assert!(message(&["--from", "sqlite:a"]).contains("--to <STORE>"), "a missing store is named");
        assert!(message(&["--from", "postgres://x", "--to", "sqlite:a"]).contains("is not a store"));
        assert!(
            message(&["--from", "sqlite:", "--to", "sqlite:a"])
                .contains("`sqlite:` needs a file path, e.g. sqlite:data/videotube.db")
        );
        assert!(message(&["--from", "sqlite:a", "--to", "sqlite:b", "--batch", "0"]).contains("--batch <N>"));
        assert!(message(&["--from"]).contains("a value is required for '--from <STORE>'"));
        assert!(message(&["--verbose", "x"]).contains("unexpected argument '--verbose'"));
    }

    #[tokio::test]
    async fn one_store_cannot_be_copied_onto_itself() {
        let same = args(&["--from", "sqlite:a", "--to", "sqlite:a"]).unwrap();
        assert_eq!(run(same).await.unwrap_err().to_string(), "--from and --to name the same store");
    }
}
