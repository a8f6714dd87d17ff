//! Request counts and latencies by route. The route is the pattern a request matched
//! (`/api/users/{id}/`), never its raw path, so ids and unknown paths cannot grow the number of
//! series; a request no route answered is counted under [`UNMATCHED`].
//!
//! The API's resources carry a [`RouteLabel`] (added by `api::endpoint::serve`): it names the
//! pattern and keeps, per method and status class, the handles of its series once first used,
//! so a request on the hot path records with a few atomic additions, no lock and no
//! allocation. Other routes (the console) are labelled from the matched pattern through the
//! metric family's own lookup: correct, a little dearer, and off the hot path.

use std::cell::OnceCell;

use actix_web::http::{Method, StatusCode};
use prometheus::{
    Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts, Registry,
};

/// The route label of a request that no route answered (an unknown path, or a failure
/// before any route answered).
pub const UNMATCHED: &str = "unmatched";

/// Methods with a label of their own; any other is counted as `other`.
const METHODS: [&str; 8] = [
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other",
];

/// Status classes, by the first digit of the code.
const CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/// Request latency buckets, in seconds: 100 µs (a protected GET) to 10 s (a stalled database).
const DURATION_BUCKETS: [f64; 16] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// The families of request metrics.
#[derive(Clone)]
pub struct HttpMetrics {
    requests: IntCounterVec,
    durations: HistogramVec,
}

impl HttpMetrics {
    pub(super) fn register(registry: &Registry) -> prometheus::Result<Self> {
        let requests = IntCounterVec::new(
            Opts::new(
                "keyward_http_requests_total",
                "HTTP requests answered, by matched route pattern, method and status class.",
            ),
            &["route", "method", "status"],
        )?;
        let durations = HistogramVec::new(
            HistogramOpts::new(
                "keyward_http_request_duration_seconds",
                "Time from a request's arrival to its response, by matched route pattern and \
                 method.",
            )
            .buckets(DURATION_BUCKETS.to_vec()),
            &["route", "method"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(durations.clone()))?;
        Ok(Self {
            requests,
            durations,
        })
    }

    /// Records one answered request in `label`'s series.
    pub fn record(&self, label: &RouteLabel, method: &Method, status: StatusCode, seconds: f64) {
        let (m, c) = (method_index(method), class_index(status));
        let counter = label.counters[m][c].get_or_init(|| self.counter(label.route, m, c));
        if let Some(counter) = counter {
            counter.inc();
        }
        let histogram = label.durations[m].get_or_init(|| self.histogram(label.route, m));
        if let Some(histogram) = histogram {
            histogram.observe(seconds);
        }
    }

    /// Records one answered request of a route known only by its pattern (looked up in the
    /// families each time).
    pub fn record_pattern(&self, route: &str, method: &Method, status: StatusCode, seconds: f64) {
        let (m, c) = (method_index(method), class_index(status));
        if let Some(counter) = self.counter(route, m, c) {
            counter.inc();
        }
        if let Some(histogram) = self.histogram(route, m) {
            histogram.observe(seconds);
        }
    }

    /// The series of one label set (`None` only if the family refused the values, which its
    /// fixed label names rule out).
    fn counter(&self, route: &str, m: usize, c: usize) -> Option<IntCounter> {
        self.requests
            .get_metric_with_label_values(&[route, METHODS[m], CLASSES[c]])
            .ok()
    }

    fn histogram(&self, route: &str, m: usize) -> Option<Histogram> {
        self.durations
            .get_metric_with_label_values(&[route, METHODS[m]])
            .ok()
    }
}

/// A route's label and the handles of its series once used. Each worker's resource keeps its
/// own; the handles of one label set share their values across workers.
#[derive(Debug)]
pub struct RouteLabel {
    route: &'static str,
    counters: [[OnceCell<Option<IntCounter>>; CLASSES.len()]; METHODS.len()],
    durations: [OnceCell<Option<Histogram>>; METHODS.len()],
}

impl RouteLabel {
    /// The label of the resource registered at `route` (its pattern, as written).
    pub fn new(route: &'static str) -> Self {
        Self {
            route,
            counters: Default::default(),
            durations: Default::default(),
        }
    }

    pub fn route(&self) -> &'static str {
        self.route
    }
}

fn method_index(method: &Method) -> usize {
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
    fn a_labelled_route_and_its_pattern_count_in_the_same_series() {
        let registry = Registry::new();
        let http = HttpMetrics::register(&registry).unwrap_or_else(|e| panic!("{e}"));
        let label = RouteLabel::new("/api/users/{id}/");
        http.record(&label, &Method::GET, StatusCode::OK, 0.001);
        http.record(&label, &Method::GET, StatusCode::OK, 0.001);
        http.record_pattern("/api/users/{id}/", &Method::GET, StatusCode::OK, 0.001);
        let count = http
            .counter("/api/users/{id}/", 0, 1)
            .map(|c| c.get())
            .unwrap_or_default();
        assert_eq!(count, 3);
    }
}
