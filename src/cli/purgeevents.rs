//! `keyward purgeevents`: delete security events older than `audit_retention` (or
//! `--before`), in batches (each batch its own short transaction), printing how many.

use std::time::Duration;

use clap::Args;

use super::{CliResult, connect};
use crate::audit::retention_cutoff;
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::models::security_event;

#[derive(Debug, Args)]
pub struct PurgeArgs {
    /// Delete the events older than this (`90d`, `12h`, or seconds) instead of `audit_retention`.
    #[arg(long, value_name = "DURATION", value_parser = crate::config::duration::parse)]
    pub before: Option<Duration>,
    /// Rows deleted per transaction.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(i64).range(1..=100_000))]
    pub batch_size: i64,
}

pub fn run(settings: &Settings, args: PurgeArgs) -> CliResult {
    let Some(age) = args
        .before
        .or(Some(settings.audit_retention).filter(|d| !d.is_zero()))
    else {
        println!(
            "audit_retention is 0 (events are kept forever): nothing was removed. \
             Give --before to remove older events anyway."
        );
        return Ok(());
    };
    let Some(cutoff) = retention_cutoff(Clock::default().now(), age) else {
        println!("Removed 0 security event(s): none can be that old.");
        return Ok(());
    };
    let mut conn = connect(settings)?;
    let removed = security_event::purge(&mut conn, cutoff, args.batch_size)?;
    let shown = cutoff
        .format(time::macros::format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second]"
        ))
        .unwrap_or_default();
    println!("Removed {removed} security event(s) recorded before {shown} UTC.");
    Ok(())
}
