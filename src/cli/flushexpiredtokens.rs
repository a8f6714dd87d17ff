//! `keyward flushexpiredtokens`: delete expired outstanding tokens in batches (each batch its
//! own short transaction), printing what was removed.

use clap::Args;

use super::{CliResult, connect};
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::models::token::{Flushed, flush_expired_batch};
use crate::db::stored_time;

#[derive(Debug, Args)]
pub struct FlushArgs {
    /// Rows deleted per transaction.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(i64).range(1..=100_000))]
    pub batch_size: i64,
}

pub fn run(settings: &Settings, args: FlushArgs) -> CliResult {
    let mut conn = connect(settings)?;
    let now = stored_time(Clock::default().now());
    let mut total = Flushed::default();
    loop {
        let batch = flush_expired_batch(&mut conn, now, args.batch_size)?;
        total.outstanding += batch.outstanding;
        total.blacklisted += batch.blacklisted;
        if batch.outstanding < usize::try_from(args.batch_size).unwrap_or(usize::MAX) {
            break;
        }
    }
    println!(
        "Removed {} expired outstanding token(s), {} of them blacklisted.",
        total.outstanding, total.blacklisted
    );
    Ok(())
}
