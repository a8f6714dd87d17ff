//! The audit log's writer: [`super::Audit::record`] hands an event to a bounded queue and
//! returns at once; this thread takes events off the queue and inserts them in batches (every
//! `interval`, or as soon as `batch_size` are waiting), one transaction per batch. A failed
//! write is logged and its batch kept for a retry (backing off up to a few seconds); while the
//! database stays away at most `max_pending` events are kept, the oldest dropped first and
//! counted. Nothing of this ever reaches the request that recorded the event. The same thread
//! purges events older than the retention, once per `purge_every` of the app's clock.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use time::OffsetDateTime;

use super::handle::{Command, Counters};
use super::{NewEvent, Sink};
use crate::clock::Clock;
use crate::db::stored_time;

/// How the writer batches, bounds and purges.
#[derive(Debug, Clone, Copy)]
pub struct WriterConfig {
    /// Most events per insert (one transaction).
    pub batch_size: usize,
    /// Longest an event waits for a batch to fill.
    pub interval: Duration,
    /// Events the queue between requests and the writer holds; past it `record` drops them.
    pub queue: usize,
    /// Events kept while writes fail; past it the oldest are dropped.
    pub max_pending: usize,
    /// Events older than this are purged; zero keeps them forever.
    pub retention: Duration,
    /// How often (by the app's clock) the purge runs.
    pub purge_every: Duration,
    /// Rows deleted per purge transaction.
    pub purge_batch: i64,
}

impl WriterConfig {
    /// The defaults, with this retention.
    pub fn new(retention: Duration) -> Self {
        Self {
            batch_size: 100,
            interval: Duration::from_millis(200),
            queue: 4096,
            max_pending: 10_000,
            retention,
            purge_every: Duration::from_secs(3600),
            purge_batch: 1000,
        }
    }
}

/// The time before which events are past a retention of `age` at `now`; `None` when that
/// is before any representable time (nothing is that old).
pub fn retention_cutoff(now: OffsetDateTime, age: Duration) -> Option<time::PrimitiveDateTime> {
    let age = time::Duration::try_from(age).ok()?;
    now.checked_sub(age).map(stored_time)
}

/// The longest wait between retries of a failed write.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// How often the writer wakes when idle (to purge on time, by the app's clock).
const IDLE_TICK: Duration = Duration::from_secs(1);
/// The least time between two warnings about dropped events.
const DROP_REPORT_EVERY: Duration = Duration::from_secs(10);
/// When a purge fails, the next try (by the app's clock).
const PURGE_RETRY: Duration = Duration::from_secs(60);

pub(super) struct Writer<S> {
    rx: Receiver<Command>,
    sink: S,
    clock: Clock,
    config: WriterConfig,
    counters: Arc<Counters>,
    pending: VecDeque<NewEvent>,
    /// When the oldest pending event arrived.
    oldest: Option<Instant>,
    retry_at: Option<Instant>,
    backoff: Duration,
    failures_in_a_row: u64,
    drops_reported: u64,
    drops_reported_at: Option<Instant>,
    next_purge: Option<OffsetDateTime>,
}

impl<S: Sink> Writer<S> {
    pub(super) fn new(
        rx: Receiver<Command>,
        sink: S,
        clock: Clock,
        config: WriterConfig,
        counters: Arc<Counters>,
    ) -> Self {
        Self {
            rx,
            sink,
            clock,
            config,
            counters,
            pending: VecDeque::new(),
            oldest: None,
            retry_at: None,
            backoff: FIRST_BACKOFF,
            failures_in_a_row: 0,
            drops_reported: 0,
            drops_reported_at: None,
            next_purge: None,
        }
    }

    pub(super) fn run(mut self) {
        self.purge_when_due();
        loop {
            match self.rx.recv_timeout(self.wait(Instant::now())) {
                Ok(Command::Event(event)) => self.push(*event),
                Ok(Command::Flush(answer)) => {
                    let _ = answer.send(self.write_all());
                }
                Ok(Command::Close(answer)) => {
                    while let Ok(Command::Event(event)) = self.rx.try_recv() {
                        self.push(*event);
                    }
                    let _ = answer.send(self.write_all());
                    self.report_drops(true);
                    return;
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    self.write_all();
                    self.report_drops(true);
                    return;
                }
            }
            self.write_when_due(Instant::now());
            self.purge_when_due();
            self.report_drops(false);
        }
    }

    /// How long to wait for the next event before there is work to do.
    fn wait(&self, now: Instant) -> Duration {
        let Some(oldest) = self.oldest else {
            return IDLE_TICK;
        };
        let due = if self.pending.len() >= self.config.batch_size {
            now
        } else {
            oldest + self.config.interval
        };
        let due = self.retry_at.map_or(due, |r| due.max(r));
        due.saturating_duration_since(now).min(IDLE_TICK)
    }

    fn push(&mut self, event: NewEvent) {
        if self.pending.len() >= self.config.max_pending.max(1) {
            self.pending.pop_front();
            self.counters.dropped.fetch_add(1, Ordering::Relaxed);
        }
        self.pending.push_back(event);
        self.oldest.get_or_insert_with(Instant::now);
    }

    /// Writes full batches, and a partial one once its oldest event has waited `interval`;
    /// nothing while a failed write waits for its retry.
    fn write_when_due(&mut self, now: Instant) {
        while let Some(oldest) = self.oldest {
            let full = self.pending.len() >= self.config.batch_size;
            let waited = now >= oldest + self.config.interval;
            let retry_ok = self.retry_at.is_none_or(|r| now >= r);
            if !(retry_ok && (full || waited)) || !self.write_batch() {
                return;
            }
        }
    }

    /// Writes everything pending now, retry wait or not; `true` when nothing is left.
    fn write_all(&mut self) -> bool {
        while !self.pending.is_empty() {
            if !self.write_batch() {
                return false;
            }
        }
        true
    }

    /// Writes the oldest batch; on failure keeps it and schedules a retry.
    fn write_batch(&mut self) -> bool {
        let size = self.pending.len().min(self.config.batch_size.max(1));
        if size == 0 {
            return true;
        }
        let result = {
            let batch = &self.pending.make_contiguous()[..size];
            self.sink.write(batch)
        };
        match result {
            Ok(()) => {
                self.pending.drain(..size);
                if self.pending.is_empty() {
                    self.oldest = None;
                }
                self.counters
                    .written
                    .fetch_add(size as u64, Ordering::Relaxed);
                self.counters.batches.fetch_add(1, Ordering::Relaxed);
                if self.failures_in_a_row > 0 {
                    tracing::info!(
                        failed_writes = self.failures_in_a_row,
                        "audit log writes resumed"
                    );
                }
                self.failures_in_a_row = 0;
                self.retry_at = None;
                self.backoff = FIRST_BACKOFF;
                true
            }
            Err(err) => {
                self.counters.failed_writes.fetch_add(1, Ordering::Relaxed);
                self.failures_in_a_row += 1;
                // The first failure of a streak, then about once a minute.
                if self.failures_in_a_row == 1 || self.failures_in_a_row.is_multiple_of(12) {
                    tracing::warn!(
                        error = %err,
                        pending = self.pending.len(),
                        failures = self.failures_in_a_row,
                        retry_in_ms = self.backoff.as_millis() as u64,
                        "audit log write failed; keeping the events for a retry"
                    );
                }
                self.retry_at = Some(Instant::now() + self.backoff);
                self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
                false
            }
        }
    }

    /// Deletes events past the retention, once per `purge_every` of the app's clock.
    fn purge_when_due(&mut self) {
        if self.config.retention.is_zero() {
            return;
        }
        let now = self.clock.now();
        if self.next_purge.is_some_and(|at| now < at) {
            return;
        }
        let Some(before) = retention_cutoff(now, self.config.retention) else {
            self.next_purge = Some(now + self.config.purge_every);
            return;
        };
        match self.sink.purge(before) {
            Ok(purged) => {
                self.counters.purged.fetch_add(purged, Ordering::Relaxed);
                if purged > 0 {
                    tracing::info!(purged, "security events past their retention purged");
                }
                self.next_purge = Some(now + self.config.purge_every);
            }
            Err(err) => {
                tracing::warn!(error = %err, "purging old security events failed");
                self.next_purge = Some(now + PURGE_RETRY);
            }
        }
    }

    /// Warns of events dropped since the last warning (at most every few seconds).
    fn report_drops(&mut self, last: bool) {
        let dropped = self.counters.dropped.load(Ordering::Relaxed);
        if dropped == self.drops_reported {
            return;
        }
        let recent = self
            .drops_reported_at
            .is_some_and(|at| at.elapsed() < DROP_REPORT_EVERY);
        if recent && !last {
            return;
        }
        tracing::warn!(
            dropped = dropped - self.drops_reported,
            dropped_total = dropped,
            "audit events dropped (queue full, or too many kept while writes failed)"
        );
        self.drops_reported = dropped;
        self.drops_reported_at = Some(Instant::now());
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::AtomicBool;

    use time::PrimitiveDateTime;

    use super::*;
    use crate::audit::{Audit, EventKind};
    use crate::db::DbError;

    /// A sink that stores batches in memory and fails while `down` is set.
    #[derive(Clone, Default)]
    struct Memory {
        batches: Arc<Mutex<Vec<Vec<NewEvent>>>>,
        purges: Arc<Mutex<Vec<PrimitiveDateTime>>>,
        down: Arc<AtomicBool>,
    }

    impl Memory {
        fn stored(&self) -> Vec<NewEvent> {
            self.batches
                .lock()
                .map(|b| b.iter().flatten().cloned().collect())
                .unwrap_or_default()
        }

        fn batch_sizes(&self) -> Vec<usize> {
            self.batches
                .lock()
                .map(|b| b.iter().map(Vec::len).collect())
                .unwrap_or_default()
        }
    }

    impl Sink for Memory {
        fn write(&mut self, batch: &[NewEvent]) -> Result<(), DbError> {
            if self.down.load(Ordering::SeqCst) {
                return Err(DbError::Unavailable("down for the test".into()));
            }
            if let Ok(mut b) = self.batches.lock() {
                b.push(batch.to_vec());
            }
            Ok(())
        }

        fn purge(&mut self, before: PrimitiveDateTime) -> Result<u64, DbError> {
            if let Ok(mut p) = self.purges.lock() {
                p.push(before);
            }
            Ok(0)
        }
    }

    fn event(n: i64) -> NewEvent {
        NewEvent::new(EventKind::UserChanged, OffsetDateTime::UNIX_EPOCH).actor(n)
    }

    fn config() -> WriterConfig {
        WriterConfig {
            batch_size: 10,
            interval: Duration::from_millis(50),
            ..WriterConfig::new(Duration::from_secs(90 * 86_400))
        }
    }

    fn start(sink: &Memory, config: WriterConfig) -> Audit {
        Audit::start_with(sink.clone(), Clock::default(), config).unwrap_or_else(|e| panic!("{e}"))
    }

    fn actors(events: &[NewEvent]) -> Vec<i64> {
        events.iter().filter_map(|e| e.row().actor_id).collect()
    }

    #[test]
    fn events_are_written_in_batches_in_order() {
        let sink = Memory::default();
        let audit = start(&sink, config());
        for n in 0..35 {
            audit.record(event(n));
        }
        assert!(audit.flush(Duration::from_secs(5)));
        assert_eq!(actors(&sink.stored()), (0..35).collect::<Vec<_>>());
        assert!(
            sink.batch_sizes().iter().all(|s| *s <= 10) && sink.batch_sizes().len() >= 4,
            "{:?}",
            sink.batch_sizes()
        );
        let stats = audit.stats();
        assert_eq!((stats.recorded, stats.written), (35, 35));
    }

    #[test]
    fn a_partial_batch_is_written_after_the_interval_without_a_flush() {
        let sink = Memory::default();
        let audit = start(&sink, config());
        audit.record(event(1));
        let deadline = Instant::now() + Duration::from_secs(5);
        while sink.stored().is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(actors(&sink.stored()), [1]);
    }

    #[test]
    fn a_failed_write_keeps_the_batch_and_retries_it() {
        let sink = Memory::default();
        sink.down.store(true, Ordering::SeqCst);
        let audit = start(&sink, config());
        for n in 0..5 {
            audit.record(event(n));
        }
        assert!(
            !audit.flush(Duration::from_secs(5)),
            "nothing could be written"
        );
        assert!(audit.stats().failed_writes >= 1);
        assert!(sink.stored().is_empty());
        sink.down.store(false, Ordering::SeqCst);
        let deadline = Instant::now() + Duration::from_secs(10);
        while sink.stored().len() < 5 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(
            actors(&sink.stored()),
            [0, 1, 2, 3, 4],
            "retried on its own"
        );
    }

    #[test]
    fn while_writes_fail_only_the_newest_events_are_kept_and_drops_are_counted() {
        let sink = Memory::default();
        sink.down.store(true, Ordering::SeqCst);
        let audit = start(
            &sink,
            WriterConfig {
                max_pending: 20,
                ..config()
            },
        );
        for n in 0..50 {
            audit.record(event(n));
        }
        assert!(!audit.flush(Duration::from_secs(5)));
        assert_eq!(audit.stats().dropped, 30);
        sink.down.store(false, Ordering::SeqCst);
        assert!(audit.flush(Duration::from_secs(5)));
        assert_eq!(actors(&sink.stored()), (30..50).collect::<Vec<_>>());
    }

    #[test]
    fn a_full_queue_drops_instead_of_blocking() {
        let sink = Memory::default();
        sink.down.store(true, Ordering::SeqCst);
        let audit = start(
            &sink,
            WriterConfig {
                queue: 4,
                max_pending: 4,
                ..config()
            },
        );
        let started = Instant::now();
        for n in 0..10_000 {
            audit.record(event(n));
        }
        assert!(started.elapsed() < Duration::from_secs(2), "never blocks");
        let stats = audit.stats();
        assert!(stats.recorded < 10_000, "some were refused at the queue");
        assert!(
            stats.dropped >= 10_000 - stats.recorded,
            "every refused event is counted: {stats:?}"
        );
    }

    #[test]
    fn close_writes_what_is_pending_and_later_events_are_dropped() {
        let sink = Memory::default();
        let audit = start(
            &sink,
            WriterConfig {
                interval: Duration::from_secs(3600),
                ..config()
            },
        );
        for n in 0..3 {
            audit.record(event(n));
        }
        assert!(audit.close(Duration::from_secs(5)));
        assert_eq!(actors(&sink.stored()), [0, 1, 2]);
        audit.record(event(9));
        assert_eq!(audit.stats().dropped, 1);
        assert!(!audit.flush(Duration::from_millis(100)));
    }

    #[test]
    fn the_purge_runs_at_start_and_again_when_the_clock_passes_purge_every() {
        let sink = Memory::default();
        let clock = Clock::default();
        let audit = Audit::start_with(sink.clone(), clock.clone(), config())
            .unwrap_or_else(|e| panic!("{e}"));
        let purges = |sink: &Memory| sink.purges.lock().map(|p| p.clone()).unwrap_or_default();
        let deadline = Instant::now() + Duration::from_secs(5);
        while purges(&sink).is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let first = purges(&sink);
        assert_eq!(first.len(), 1, "at start");
        let expected = stored_time(clock.now() - Duration::from_secs(90 * 86_400));
        assert!((expected - first[0]).abs() < time::Duration::seconds(5));
        clock.advance(Duration::from_secs(3601));
        let deadline = Instant::now() + Duration::from_secs(5);
        while purges(&sink).len() < 2 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let second = purges(&sink);
        assert_eq!(second.len(), 2, "an hour later by the app's clock");
        assert!(second[1] - second[0] >= time::Duration::seconds(3600));
        drop(audit);
    }

    #[test]
    fn a_retention_longer_than_time_purges_nothing() {
        let now = OffsetDateTime::UNIX_EPOCH;
        assert_eq!(retention_cutoff(now, Duration::from_secs(u64::MAX)), None);
        assert_eq!(
            retention_cutoff(now, Duration::from_secs(60)),
            Some(stored_time(now - time::Duration::seconds(60)))
        );
    }

    #[test]
    fn a_zero_retention_never_purges() {
        let sink = Memory::default();
        let audit = start(
            &sink,
            WriterConfig {
                retention: Duration::ZERO,
                ..config()
            },
        );
        audit.record(event(1));
        assert!(audit.flush(Duration::from_secs(5)));
        assert!(sink.purges.lock().map(|p| p.is_empty()).unwrap_or(false));
    }
}
