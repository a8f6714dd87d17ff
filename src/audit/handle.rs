//! [`Audit`], the handle requests record events through: a bounded queue to the writer's
//! thread, never waited on (a full queue drops the event and counts it).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::writer::{Writer, WriterConfig};
use super::{DbSink, NewEvent, Sink};
use crate::clock::Clock;
use crate::db::DbPool;

/// Counters of the writer's work, for tests and diagnostics.
#[derive(Debug, Default)]
pub(super) struct Counters {
    pub(super) recorded: AtomicU64,
    pub(super) written: AtomicU64,
    pub(super) batches: AtomicU64,
    pub(super) failed_writes: AtomicU64,
    pub(super) dropped: AtomicU64,
    pub(super) purged: AtomicU64,
}

/// What the writer has done so far, for tests and diagnostics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuditStats {
    /// Events accepted by [`Audit::record`].
    pub recorded: u64,
    /// Events stored.
    pub written: u64,
    /// Successful inserts (transactions).
    pub batches: u64,
    /// Inserts that failed (their events were kept for a retry).
    pub failed_writes: u64,
    /// Events lost: the queue was full, or the pending bound was reached while writes failed.
    pub dropped: u64,
    /// Events deleted by the retention purge.
    pub purged: u64,
}

pub(super) enum Command {
    Event(Box<NewEvent>),
    /// Write everything received so far; answers whether nothing is left pending.
    Flush(SyncSender<bool>),
    /// Write what is left, then stop.
    Close(SyncSender<bool>),
}

/// The handle to the audit log, cheap to clone (as app data: `web::Data<Audit>`).
#[derive(Clone)]
pub struct Audit {
    inner: Arc<Inner>,
}

struct Inner {
    queue: SyncSender<Command>,
    counters: Arc<Counters>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Audit {
    /// Starts the writer over the database.
    pub fn start(pool: DbPool, clock: Clock, config: WriterConfig) -> std::io::Result<Self> {
        Self::start_with(DbSink::new(pool, config.purge_batch), clock, config)
    }

    /// Starts the writer over any sink.
    pub fn start_with(
        sink: impl Sink,
        clock: Clock,
        config: WriterConfig,
    ) -> std::io::Result<Self> {
        let (queue, rx) = mpsc::sync_channel(config.queue.max(1));
        let counters = Arc::new(Counters::default());
        let writer = Writer::new(rx, sink, clock, config, Arc::clone(&counters));
        let thread = std::thread::Builder::new()
            .name("keyward-audit".into())
            .spawn(move || writer.run())?;
        Ok(Self {
            inner: Arc::new(Inner {
                queue,
                counters,
                thread: Mutex::new(Some(thread)),
            }),
        })
    }

    /// Hands the event to the writer. Never blocks and never fails: when the queue is full
    /// the event is dropped and counted (the writer logs the count).
    pub fn record(&self, event: NewEvent) {
        let counters = &self.inner.counters;
        match self.inner.queue.try_send(Command::Event(Box::new(event))) {
            Ok(()) => {
                counters.recorded.fetch_add(1, Ordering::Relaxed);
            }
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                counters.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Writes every event recorded so far, waiting at most `timeout`; `true` when they are
    /// all stored. Blocking: call it off the async executor.
    pub fn flush(&self, timeout: Duration) -> bool {
        self.ask(Command::Flush, timeout)
    }

    /// Writes what is pending (best effort, within `timeout`) and stops the writer; events
    /// recorded afterwards are dropped. Blocking.
    pub fn close(&self, timeout: Duration) -> bool {
        let done = self.ask(Command::Close, timeout);
        if done
            && let Ok(mut thread) = self.inner.thread.lock()
            && let Some(handle) = thread.take()
        {
            let _ = handle.join();
        }
        done
    }

    fn ask(&self, command: fn(SyncSender<bool>) -> Command, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let (answer, answered) = mpsc::sync_channel(1);
        let mut message = command(answer);
        loop {
            match self.inner.queue.try_send(message) {
                Ok(()) => break,
                Err(TrySendError::Disconnected(_)) => return false,
                Err(TrySendError::Full(back)) => {
                    if Instant::now() >= deadline {
                        return false;
                    }
                    message = back;
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        answered.recv_timeout(left).unwrap_or(false)
    }

    pub fn stats(&self) -> AuditStats {
        let c = &self.inner.counters;
        let read = |n: &AtomicU64| n.load(Ordering::Relaxed);
        AuditStats {
            recorded: read(&c.recorded),
            written: read(&c.written),
            batches: read(&c.batches),
            failed_writes: read(&c.failed_writes),
            dropped: read(&c.dropped),
            purged: read(&c.purged),
        }
    }
}
