//! The request deadline: once a request's headers are in, its body must arrive within
//! `request_timeout`. A client that stalls mid-body gets `408` (`{"detail":"Request timed out."}`
//! on the API, an error page on the console) and the connection is closed, instead of holding
//! a worker's connection open forever. Handling time is not counted: only waiting for the client.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::HttpMessage;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::rt::time::{Instant, Sleep, sleep_until};
use actix_web::web::{self, Bytes};
use futures_util::Stream;

use crate::admin::ConsoleError;
use crate::config::Paths;
use crate::error::ApiError;

/// The `request_timeout` setting, as app data.
#[derive(Debug, Clone, Copy)]
pub struct RequestTimeout(pub Duration);

/// Gives every request's body a deadline, and answers 408 when it passes.
pub async fn request_timeout(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let limit = req.app_data::<web::Data<RequestTimeout>>().map(|t| t.0);
    let Some(limit) = limit.filter(|_| has_body(&req)) else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    let expired = Rc::new(Cell::new(false));
    let body: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> = Box::pin(Deadline {
        inner: req.take_payload(),
        deadline: Instant::now() + limit,
        timer: None,
        expired: Rc::clone(&expired),
    });
    req.set_payload(Payload::from(body));
    let console = console_root(&req).filter(|root| is_console(req.path(), root));
    let result = next.call(req).await;
    if !expired.get() {
        return result.map(ServiceResponse::map_into_boxed_body);
    }
    tracing::info!("request body not received within request_timeout: 408");
    let error: actix_web::Error = match &console {
        Some(_) => ConsoleError::RequestTimeout.into(),
        None => ApiError::RequestTimeout.into(),
    };
    match (result, console) {
        (Ok(response), Some(root)) => {
            let page = ConsoleError::RequestTimeout.response_at(&root);
            Ok(response.into_response(page))
        }
        (Ok(response), None) => Ok(response.error_response(error)),
        (Err(_), _) => Err(error),
    }
}

/// Whether the request announces a body (a bodiless GET, the hot path, needs no deadline:
/// its headers were already bounded by actix's `client_request_timeout`).
fn has_body(req: &ServiceRequest) -> bool {
    let headers = req.headers();
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() != b"0")
}

/// The console's mount (`paths.console`), from the app's paths.
fn console_root(req: &ServiceRequest) -> Option<String> {
    req.app_data::<web::Data<Paths>>()
        .map(|paths| paths.console_root().to_owned())
}

fn is_console(path: &str, root: &str) -> bool {
    path.strip_prefix(root)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The request's payload, failing once the deadline passes before it ends. The timer is set
/// only when the body is not all there already (a small body usually comes with the headers).
struct Deadline {
    inner: Payload,
    deadline: Instant,
    timer: Option<Pin<Box<Sleep>>>,
    expired: Rc<Cell<bool>>,
}

impl Stream for Deadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if let Poll::Ready(item) = Pin::new(&mut this.inner).poll_next(cx) {
            return Poll::Ready(item);
        }
        let deadline = this.deadline;
        let timer = this
            .timer
            .get_or_insert_with(|| Box::pin(sleep_until(deadline)));
        if timer.as_mut().poll(cx).is_ready() {
            this.expired.set(true);
            return Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "request body not received in time",
            )))));
        }
        Poll::Pending
    }
}
