//! How long a request waits on an API server that says it is busy (429 Too Many Requests, 503,
//! 504): a few retries, each after the server's `Retry-After` when it gives one — but never
//! more than a few seconds — and said in the log. kube-rs's own default retries 15 times for
//! up to minutes in silence; a person at the window would think Plumbline hung.

use http::{Request, Response, StatusCode};
use kube::client::Body;
use std::time::Duration;

/// Retries after the first answer.
pub const RETRIES: u32 = 3;

/// The longest wait before a retry, whatever the server asks.
pub const LONGEST_WAIT: Duration = Duration::from_secs(5);

/// The retry policy of every client Plumbline makes.
#[derive(Clone)]
pub struct Patience {
    attempt: u32,
}

impl Patience {
    pub fn new() -> Self {
        Self { attempt: 0 }
    }

    /// The wait before retry number `attempt` (1-based) after an answer asking for `asked`.
    pub fn wait(attempt: u32, asked: Option<Duration>) -> Duration {
        let backoff = Duration::from_millis(200) * 2u32.pow(attempt.saturating_sub(1));
        asked.unwrap_or(backoff).min(LONGEST_WAIT)
    }
}

impl Default for Patience {
    fn default() -> Self {
        Self::new()
    }
}

impl<Res> tower::retry::Policy<Request<Body>, Response<Res>, tower::BoxError> for Patience {
    type Future = tokio::time::Sleep;

    fn retry(
        &mut self,
        request: &mut Request<Body>,
        result: &mut Result<Response<Res>, tower::BoxError>,
    ) -> Option<Self::Future> {
        let Ok(response) = result else {
            return None;
        };
        let busy = matches!(
            response.status(),
            StatusCode::TOO_MANY_REQUESTS
                | StatusCode::SERVICE_UNAVAILABLE
                | StatusCode::GATEWAY_TIMEOUT
        );
        if !busy || self.attempt >= RETRIES {
            return None;
        }
        self.attempt += 1;
        let asked = response
            .headers()
            .get("Retry-After")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let wait = Self::wait(self.attempt, asked);
        tracing::warn!(
            "the API server answered {} to {} {}{}: trying again in {} ms ({} of {RETRIES})",
            response.status(),
            request.method(),
            request.uri().path(),
            asked
                .map(|a| format!(" and asked to wait {} s", a.as_secs()))
                .unwrap_or_default(),
            wait.as_millis(),
            self.attempt
        );
        Some(tokio::time::sleep(wait))
    }

    fn clone_request(&mut self, request: &Request<Body>) -> Option<Request<Body>> {
        let body = request.body().try_clone()?;
        let mut clone = Request::builder()
            .method(request.method().clone())
            .uri(request.uri().clone())
            .version(request.version())
            .body(body)
            .ok()?;
        *clone.headers_mut() = request.headers().clone();
        *clone.extensions_mut() = request.extensions().clone();
        Some(clone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_is_heard_but_never_waited_on_for_long() {
        assert_eq!(Patience::wait(1, None), Duration::from_millis(200));
        assert_eq!(Patience::wait(3, None), Duration::from_millis(800));
        assert_eq!(
            Patience::wait(1, Some(Duration::from_secs(2))),
            Duration::from_secs(2)
        );
        assert_eq!(
            Patience::wait(1, Some(Duration::from_secs(120))),
            LONGEST_WAIT
        );
    }
}
