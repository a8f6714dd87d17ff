//! Request counts and latencies by route. The route is the pattern a request matched
//! (`/api/users/{id}/`), never its raw path, so ids and unknown paths cannot grow the number of
//! series; a request no route answered is counted under [`UNMATCHED`].
//!
//! Each worker counts in shards of its own, one per route and method, that only it writes:
//! a request costs a few plain loads and stores (no atomic read-modify-write, no lock, no
//! allocation, no cache line shared with another worker). The API's resources carry a
//! [`RouteLabel`] (added by `api::endpoint::serve`) that holds the worker's shards of that
//! route; other routes (the console) are found by their pattern in a map of the worker's own.
//! A scrape adds the shards of every worker up.

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::http::{Method, StatusCode};
use prometheus::Registry;
use prometheus::core::{Collector, Desc};
use prometheus::proto::{self, LabelPair, Metric, MetricFamily, MetricType};

/// The route label of a request that no route answered (an unknown path, or a failure
/// before any route answered).
pub const UNMATCHED: &str = "unmatched";

/// Methods with a label of their own; any other is counted as `other`.
const METHODS: [&str; 8] = [
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other",
];

/// Status classes, by the first digit of the code.
const CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/// Latency buckets' upper bounds, in nanoseconds: 100 µs (a protected GET) to 10 s (a stalled
/// database). A last, open bucket holds the rest.
const BUCKETS_NANOS: [u64; 16] = [
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    100_000_000,
    250_000_000,
    500_000_000,
    1_000_000_000,
    2_500_000_000,
    5_000_000_000,
    10_000_000_000,
];

const REQUESTS: &str = "keyward_http_requests_total";
const DURATIONS: &str = "keyward_http_request_duration_seconds";

/// The method's index in the labels.
pub fn method_index(method: &Method) -> usize {
    match method.as_str() {
        "GET" => 0,
        "HEAD" => 1,
        "POST" => 2,
        "PUT" => 3,
        "PATCH" => 4,
        "DELETE" => 5,
        "OPTIONS" => 6,
        _ => 7,
    }
}

fn class_index(status: StatusCode) -> usize {
    usize::from(status.as_u16() / 100)
        .saturating_sub(1)
        .min(CLASSES.len() - 1)
}

/// One worker's counts for one route and method: requests by status class, and their
/// latencies. Aligned to a cache line so no two workers' shards share one.
#[derive(Debug, Default)]
#[repr(align(64))]
struct Shard {
    by_class: [AtomicU64; CLASSES.len()],
    buckets: [AtomicU64; BUCKETS_NANOS.len() + 1],
    sum_nanos: AtomicU64,
}

/// Adds to a value only one thread writes: a load and a store, no read-modify-write.
fn bump(cell: &AtomicU64, by: u64) {
    cell.store(
        cell.load(Ordering::Relaxed).wrapping_add(by),
        Ordering::Relaxed,
    );
}

impl Shard {
    fn record(&self, class: usize, nanos: u64) {
        bump(&self.by_class[class], 1);
        let bucket = BUCKETS_NANOS
            .iter()
            .position(|bound| nanos <= *bound)
            .unwrap_or(BUCKETS_NANOS.len());
        bump(&self.buckets[bucket], 1);
        bump(&self.sum_nanos, nanos);
    }
}

/// A route's label and, per method, the shard of the worker that holds it.
#[derive(Debug)]
pub struct RouteLabel {
    route: String,
    shards: [std::cell::OnceCell<Arc<Shard>>; METHODS.len()],
}

impl RouteLabel {
    /// The label of the resource registered at `route` (its pattern, as written).
    pub fn new(route: impl Into<String>) -> Self {
        Self {
            route: route.into(),
            shards: Default::default(),
        }
    }

    pub fn route(&self) -> &str {
        &self.route
    }
}

/// Every worker's shards, by route and method index. Locked when a worker first counts a
/// route and method, and by scrapes; never on a request otherwise.
type Series = BTreeMap<(String, usize), Vec<Arc<Shard>>>;

/// The request metrics: the shards of every worker, and the collector that adds them up.
#[derive(Clone, Default)]
pub struct HttpMetrics {
    series: Arc<Mutex<Series>>,
}

impl HttpMetrics {
    /// Registers the request metrics' collector in `registry`.
    pub fn register(registry: &Registry) -> prometheus::Result<Self> {
        let http = Self::default();
        registry.register(Box::new(HttpCollector::new(Arc::clone(&http.series))?))?;
        Ok(http)
    }

    /// Records one answered request in the calling worker's shard of `label`.
    pub fn record(&self, label: &RouteLabel, method: usize, status: StatusCode, took: Duration) {
        let method = method.min(METHODS.len() - 1);
        let shard = label.shards[method].get_or_init(|| self.new_shard(&label.route, method));
        let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        shard.record(class_index(status), nanos);
    }

    /// A shard for one worker, listed for the scrapes.
    fn new_shard(&self, route: &str, method: usize) -> Arc<Shard> {
        let shard = Arc::new(Shard::default());
        let mut series = self.series.lock().unwrap_or_else(|e| e.into_inner());
        series
            .entry((route.to_owned(), method))
            .or_default()
            .push(Arc::clone(&shard));
        shard
    }
}

/// The labels of one worker's routes known only by their pattern (the console's), created
/// on first use.
#[derive(Debug, Default)]
pub struct PatternLabels(std::cell::RefCell<HashMap<String, std::rc::Rc<RouteLabel>>>);

impl PatternLabels {
    pub fn get(&self, pattern: String) -> std::rc::Rc<RouteLabel> {
        let mut labels = self.0.borrow_mut();
        let label = labels
            .entry(pattern)
            .or_insert_with_key(|p| std::rc::Rc::new(RouteLabel::new(p.as_str())));
        std::rc::Rc::clone(label)
    }
}

/// Adds every worker's shards up when a scrape asks.
struct HttpCollector {
    series: Arc<Mutex<Series>>,
    descs: [Desc; 2],
}

impl HttpCollector {
    fn new(series: Arc<Mutex<Series>>) -> prometheus::Result<Self> {
        let desc = |name: &str, help: &str, labels: &[&str]| {
            let labels = labels.iter().map(|l| (*l).to_owned()).collect();
            Desc::new(name.into(), help.into(), labels, HashMap::new())
        };
        Ok(Self {
            series,
            descs: [
                desc(
                    REQUESTS,
                    "HTTP requests answered, by matched route pattern, method and status class.",
                    &["route", "method", "status"],
                )?,
                desc(
                    DURATIONS,
                    "Time from a request's arrival to its response, by matched route pattern \
                     and method.",
                    &["route", "method"],
                )?,
            ],
        })
    }
}

/// The totals of one route and method over every worker.
#[derive(Default)]
struct Totals {
    by_class: [u64; CLASSES.len()],
    buckets: [u64; BUCKETS_NANOS.len() + 1],
    sum_nanos: u64,
}

impl Totals {
    fn of(shards: &[Arc<Shard>]) -> Self {
        let mut totals = Self::default();
        let read = |cell: &AtomicU64| cell.load(Ordering::Relaxed);
        for shard in shards {
            for (total, cell) in totals.by_class.iter_mut().zip(&shard.by_class) {
                *total += read(cell);
            }
            for (total, cell) in totals.buckets.iter_mut().zip(&shard.buckets) {
                *total += read(cell);
            }
            totals.sum_nanos += read(&shard.sum_nanos);
        }
        totals
    }

    fn histogram(&self) -> proto::Histogram {
        let mut histogram = proto::Histogram::default();
        let mut cumulative = 0;
        let mut buckets = Vec::with_capacity(BUCKETS_NANOS.len());
        for (bound, count) in BUCKETS_NANOS.iter().zip(&self.buckets) {
            cumulative += count;
            let mut bucket = proto::Bucket::default();
            bucket.set_upper_bound(*bound as f64 / 1e9);
            bucket.set_cumulative_count(cumulative);
            buckets.push(bucket);
        }
        histogram.set_bucket(buckets);
        histogram.set_sample_count(self.buckets.iter().sum());
        histogram.set_sample_sum(self.sum_nanos as f64 / 1e9);
        histogram
    }
}

fn labelled(labels: &[(&str, &str)]) -> Metric {
    let pairs = labels
        .iter()
        .map(|(name, value)| {
            let mut pair = LabelPair::default();
            pair.set_name((*name).to_owned());
            pair.set_value((*value).to_owned());
            pair
        })
        .collect();
    Metric::from_label(pairs)
}

fn family(desc: &Desc, kind: MetricType, metrics: Vec<Metric>) -> MetricFamily {
    let mut family = MetricFamily::default();
    family.set_name(desc.fq_name.clone());
    family.set_help(desc.help.clone());
    family.set_field_type(kind);
    family.set_metric(metrics);
    family
}

impl Collector for HttpCollector {
    fn desc(&self) -> Vec<&Desc> {
        self.descs.iter().collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let series = self.series.lock().unwrap_or_else(|e| e.into_inner());
        let (mut requests, mut durations) = (Vec::new(), Vec::new());
        for ((route, method), shards) in series.iter() {
            let totals = Totals::of(shards);
            let method = METHODS[*method];
            for (class, count) in CLASSES.iter().zip(totals.by_class) {
                if count > 0 {
                    let mut metric =
                        labelled(&[("route", route), ("method", method), ("status", class)]);
                    let mut counter = proto::Counter::default();
                    counter.set_value(count as f64);
                    metric.set_counter(counter);
                    requests.push(metric);
                }
            }
            let mut metric = labelled(&[("route", route), ("method", method)]);
            metric.set_histogram(totals.histogram());
            durations.push(metric);
        }
        let [requests_desc, durations_desc] = &self.descs;
        vec![
            family(requests_desc, MetricType::COUNTER, requests),
            family(durations_desc, MetricType::HISTOGRAM, durations),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_and_statuses_map_to_their_labels() {
        for (method, label) in [
            (Method::GET, "GET"),
            (Method::OPTIONS, "OPTIONS"),
            (Method::TRACE, "other"),
        ] {
            assert_eq!(METHODS[method_index(&method)], label);
        }
        for (code, label) in [
            (101, "1xx"),
            (200, "2xx"),
            (302, "3xx"),
            (429, "4xx"),
            (503, "5xx"),
        ] {
            let status = StatusCode::from_u16(code).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(CLASSES[class_index(status)], label, "{code}");
        }
    }

    #[test]
    fn the_shards_of_every_worker_add_up_in_one_series() {
        let registry = Registry::new();
        let http = HttpMetrics::register(&registry).unwrap_or_else(|e| panic!("{e}"));
        let get = method_index(&Method::GET);
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let http = http.clone();
                std::thread::spawn(move || {
                    let label = RouteLabel::new("/api/users/{id}/");
                    for micros in [50, 300, 20_000_000] {
                        let took = Duration::from_micros(micros);
                        http.record(&label, get, StatusCode::OK, took);
                    }
                    http.record(&label, get, StatusCode::NOT_FOUND, Duration::ZERO);
                })
            })
            .collect();
        for worker in workers {
            worker.join().unwrap_or_else(|_| panic!("worker panicked"));
        }
        let text = prometheus::TextEncoder::new()
            .encode_to_string(&registry.gather())
            .unwrap_or_else(|e| panic!("{e}"));
        for line in [
            r#"keyward_http_requests_total{route="/api/users/{id}/",method="GET",status="2xx"} 6"#,
            r#"keyward_http_requests_total{route="/api/users/{id}/",method="GET",status="4xx"} 2"#,
            r#"keyward_http_request_duration_seconds_bucket{route="/api/users/{id}/",method="GET",le="0.0001"} 4"#,
            r#"keyward_http_request_duration_seconds_bucket{route="/api/users/{id}/",method="GET",le="0.0005"} 6"#,
            r#"keyward_http_request_duration_seconds_bucket{route="/api/users/{id}/",method="GET",le="10"} 6"#,
            r#"keyward_http_request_duration_seconds_bucket{route="/api/users/{id}/",method="GET",le="+Inf"} 8"#,
            r#"keyward_http_request_duration_seconds_count{route="/api/users/{id}/",method="GET"} 8"#,
            r#"keyward_http_request_duration_seconds_sum{route="/api/users/{id}/",method="GET"} 40.0007"#,
        ] {
            assert!(text.lines().any(|l| l == line), "{line} not in:\n{text}");
        }
    }
}
