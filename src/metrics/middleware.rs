//! The middleware that counts and times every request of the application (not the scrapes:
//! they have a listener of their own). Off, it only passes requests on. On, a request costs two
//! clock reads and a few plain stores into its worker's shard, found through the resource that
//! answered (see [`super::http`]): no lock, no allocation, no box around the inner future.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use futures_util::future::{Ready, ready as ready_future};
use pin_project_lite::pin_project;

use super::http::{HttpMetrics, PatternLabels, RouteLabel, UNMATCHED, method_index};

/// `App::wrap(RecordRequests::new(Some(http)))`; `None` records nothing.
#[derive(Clone)]
pub struct RecordRequests {
    http: Option<HttpMetrics>,
}

impl RecordRequests {
    pub fn new(http: Option<HttpMetrics>) -> Self {
        Self { http }
    }
}

impl<S, B> Transform<S, ServiceRequest> for RecordRequests
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Transform = RecordRequestsService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        let recorder = self.http.clone().map(|http| {
            Rc::new(Recorder {
                http,
                unmatched: RouteLabel::new(UNMATCHED),
                patterns: PatternLabels::default(),
            })
        });
        ready_future(Ok(RecordRequestsService { service, recorder }))
    }
}

/// One worker's recorder: the metrics, and the worker's labels of the requests no API
/// resource answered.
struct Recorder {
    http: HttpMetrics,
    unmatched: RouteLabel,
    patterns: PatternLabels,
}

impl Recorder {
    fn record<B>(
        &self,
        answer: &Result<ServiceResponse<B>, actix_web::Error>,
        method: usize,
        took: Duration,
    ) {
        let res = match answer {
            Ok(res) => res,
            Err(err) => {
                let status = err.as_response_error().status_code();
                self.http.record(&self.unmatched, method, status, took);
                return;
            }
        };
        let status = res.status();
        let req = res.request();
        if let Some(label) = req.app_data::<Rc<RouteLabel>>() {
            self.http.record(label, method, status, took);
        } else if let Some(pattern) = req.match_pattern() {
            let label = self.patterns.get(pattern);
            self.http.record(&label, method, status, took);
        } else {
            self.http.record(&self.unmatched, method, status, took);
        }
    }
}

pub struct RecordRequestsService<S> {
    service: S,
    recorder: Option<Rc<Recorder>>,
}

impl<S, B> Service<ServiceRequest> for RecordRequestsService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Future = Recorded<S::Future>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let pending = self.recorder.as_ref().map(|recorder| Pending {
            recorder: Rc::clone(recorder),
            method: method_index(req.method()),
            started: Instant::now(),
        });
        Recorded {
            inner: self.service.call(req),
            pending,
        }
    }
}

/// What a request's record needs once its answer is ready.
struct Pending {
    recorder: Rc<Recorder>,
    method: usize,
    started: Instant,
}

pin_project! {
    /// The inner service's future; records the request when it completes.
    pub struct Recorded<F> {
        #[pin]
        inner: F,
        pending: Option<Pending>,
    }
}

impl<F, B> Future for Recorded<F>
where
    F: Future<Output = Result<ServiceResponse<B>, actix_web::Error>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let answer = ready!(this.inner.poll(cx));
        if let Some(p) = this.pending.take() {
            p.recorder.record(&answer, p.method, p.started.elapsed());
        }
        Poll::Ready(answer)
    }
}
