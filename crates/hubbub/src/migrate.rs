//! `hubbub migrate --from <data dir> --to postgres://... [--force] [--media-to DIR]`: the
//! command line around `hubbub_store::migrate` (which copies the rows, in one transaction),
//! plus the media files, which are plain files and so are copied here.

use anyhow::Context;
use hubbub_store::migrate::{Options, Progress, Report};
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct MigrateArgs {
    /// The SQLite data directory (or its database file). Stop the server using it first:
    /// what it writes after the copy starts is not copied.
    #[arg(long)]
    from: PathBuf,
    /// The PostgreSQL database to fill (`postgres://user:password@host:5432/hubbub`). It
    /// may be new and empty: the schema is created.
    #[arg(long)]
    to: String,
    /// Replace everything in a target that already holds Hubbub data (users,
    /// conversations or messages) instead of refusing it.
    #[arg(long)]
    force: bool,
    /// Copy every stored file into this directory (the cluster's shared media directory,
    /// which each node is given as `--media-dir`). Without it the nodes must use the source's
    /// media directory.
    #[arg(long)]
    media_to: Option<PathBuf>,
    /// The source's media directory, when the server ran with `--media-dir`; defaults to
    /// `media/` beside the database.
    #[arg(long)]
    media_from: Option<PathBuf>,
}

/// How many files the media copy wrote and found already in place.
#[derive(Default)]
struct MediaCopy {
    copied: u64,
    already_there: u64,
    bytes: u64,
}

pub async fn run(args: MigrateArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.to.starts_with("postgres://") || args.to.starts_with("postgresql://"),
        "--to must be a PostgreSQL URL (postgres://user@host/database)"
    );
    let (database, media_dir) = if args.from.is_dir() {
        (args.from.join("hubbub.db"), args.from.join("media"))
    } else {
        let parent = args.from.parent().map(Path::to_owned).unwrap_or_default();
        (args.from.clone(), parent.join("media"))
    };
    let media_dir = args.media_from.clone().unwrap_or(media_dir);

    let mut display = ProgressDisplay::new();
    let options = Options { force: args.force, ..Options::default() };
    let result = hubbub_store::migrate::migrate(&database, &args.to, options, &mut |p| display.update(p)).await;
    display.finish();
    let report = result.map_err(|error| anyhow::anyhow!("{error} [{}]", error.code()))?;
    print_summary(&report);

    match &args.media_to {
        Some(to) => {
            let (from, to) = (media_dir.clone(), to.clone());
            let copy = tokio::task::spawn_blocking(move || copy_media(&from, &to)).await?.with_context(|| {
                format!(
                    "the database was copied, but not every media file: copy {} into the shared directory \
                     (run this again with --force, which skips the files already there)",
                    media_dir.display()
                )
            })?;
            println!(
                "media: {} files copied ({}), {} already there, into {}",
                copy.copied,
                crate::human(copy.bytes),
                copy.already_there,
                args.media_to.as_deref().unwrap_or(Path::new("")).display()
            );
        }
        None => {
            let shown = std::fs::canonicalize(&media_dir).unwrap_or(media_dir);
            println!(
                "media: not copied (no --media-to); every node must use the source's media directory {} \
                 as a shared directory: start each with --media-dir {}",
                shown.display(),
                shown.display()
            );
        }
    }
    Ok(())
}

fn print_summary(report: &Report) {
    println!("{:<16}{:>12}", "table", "rows copied");
    for table in &report.tables {
        println!("{:<16}{:>12}", table.table, table.target);
    }
    println!("{:<16}{:>12}", "total", report.rows());
    println!("row counts match the source in every table");
}

/// A bar on stderr when it is a terminal; otherwise one line per finished table.
struct ProgressDisplay {
    bar: indicatif::ProgressBar,
    current: Option<Progress>,
}

impl ProgressDisplay {
    fn new() -> Self {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{msg:<14} {bar:40} {pos}/{len} rows")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        ProgressDisplay { bar, current: None }
    }

    fn update(&mut self, progress: Progress) {
        if self.current.is_some_and(|current| current.table != progress.table) {
            self.finish_table();
        }
        if self.current.is_none() {
            self.bar.set_message(progress.table);
            self.bar.set_length(progress.total);
        }
        self.bar.set_position(progress.copied);
        self.current = Some(progress);
    }

    fn finish_table(&mut self) {
        if let Some(done) = self.current.take() {
            let line = format!("{:<14} {}/{} rows", done.table, done.copied, done.total);
            if self.bar.is_hidden() {
                eprintln!("{line}");
            } else {
                self.bar.println(line);
            }
        }
    }

    fn finish(&mut self) {
        self.finish_table();
        self.bar.finish_and_clear();
    }
}

/// Copies every stored file of `from` (flat; the `.staging` spool and other dot entries are
/// not files of the store) into `to`. A file already there with the same size is left as it
/// is, so a second run only copies what is missing; one with another size is a conflict.
/// Each copy goes to a temp name, is fsynced and renamed, and its size checked.
fn copy_media(from: &Path, to: &Path) -> anyhow::Result<MediaCopy> {
    let mut copy = MediaCopy::default();
    std::fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    if !from.exists() {
        return Ok(copy);
    }
    if std::fs::canonicalize(from)? == std::fs::canonicalize(to)? {
        anyhow::bail!("--media-to is the source media directory itself; leave it out to share that directory");
    }
    for entry in std::fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))? {
        let entry = entry?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') || !entry.file_type()?.is_file() {
            continue;
        }
        let size = entry.metadata()?.len();
        let destination = to.join(&name);
        if let Ok(existing) = std::fs::metadata(&destination) {
            anyhow::ensure!(
                existing.len() == size,
                "{} already exists with {} bytes, the source has {size}; not overwritten",
                destination.display(),
                existing.len()
            );
            copy.already_there += 1;
            continue;
        }
        let temp = to.join(format!(".migrate-{}", name.to_string_lossy()));
        std::fs::copy(entry.path(), &temp).with_context(|| format!("cannot copy {}", entry.path().display()))?;
        std::fs::File::open(&temp)?.sync_all()?;
        std::fs::rename(&temp, &destination)?;
        let written = std::fs::metadata(&destination)?.len();
        anyhow::ensure!(
            written == size,
            "{} has {written} bytes after the copy, expected {size}",
            destination.display()
        );
        copy.copied += 1;
        copy.bytes += size;
    }
    // The new names survive a crash only once the directory itself is on disk.
    std::fs::File::open(to)?.sync_all()?;
    Ok(copy)
}
