//! Events as a request sees them: the time of the request's clock, and the client's address
//! (through trusted proxies, as [`ClientView`] gives it) and `User-Agent`.

use actix_web::http::header::USER_AGENT;
use actix_web::{HttpRequest, web};

use super::{EventKind, NewEvent};
use crate::client::ClientView;
use crate::clock::Clock;

impl NewEvent {
    /// An event of `kind` made by this request, now by the app's clock.
    pub fn from_request(req: &HttpRequest, kind: EventKind) -> Self {
        let now = req
            .app_data::<web::Data<Clock>>()
            .map_or_else(|| Clock::default().now(), |clock| clock.now());
        let agent = req
            .headers()
            .get(USER_AGENT)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default();
        Self::new(kind, now).client(ClientView::of(req).address, &agent)
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn the_client_and_its_agent_come_from_the_request() {
        let req = TestRequest::default()
            .peer_addr("192.0.2.9:4000".parse().unwrap_or_else(|e| panic!("{e}")))
            .insert_header(("user-agent", "curl/8.5"))
            .insert_header(("x-forwarded-for", "203.0.113.1"))
            .to_http_request();
        let event = NewEvent::from_request(&req, EventKind::LoginSucceeded);
        let row = event.row();
        assert_eq!(row.client_address, "192.0.2.9", "no proxy is trusted");
        assert_eq!(row.user_agent, "curl/8.5");
        assert_eq!(row.kind, "login_succeeded");
    }
}
