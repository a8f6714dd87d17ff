//! `keyward flushexpiredtokens`: delete expired outstanding tokens, then sessions past their
//! deadline, in batches (each batch its own short transaction), printing what was removed.

use clap::Args;

use super::{CliResult, connect};
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::models::token::{Flushed, flush_expired_batch};
use crate::db::models::token_session;
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
    let full = usize::try_from(args.batch_size).unwrap_or(usize::MAX);
    let mut sessions = 0;
    loop {
        let batch = token_session::delete_expired_batch(&mut conn, now, args.batch_size)?;
        sessions += batch;
        if batch < full {
            break;
        }
    }
    println!(
        "Removed {} expired outstanding token(s), {} of them blacklisted.",
        total.outstanding, total.blacklisted
    );
    println!("Removed {sessions} session(s) past their deadline.");
    Ok(())
}
