//! Answers given before the request body was read reach the client (docs/api.md §1.4).
//!
//! Many refusals (401, 404, 413, 415, 429 …) are answered without reading the body. If the server
//! then closed the connection with the body still arriving, the kernel would reset it, and a client
//! that is still writing (Node's `http`, so axios and newman) fails with `EPIPE`/`ECONNRESET`
//! before it reads the answer. So a body left unread when its request is done with it is read and
//! discarded in the background, up to `MAX_DRAIN_BYTES` and [`DRAIN_WINDOW`]: a body drained to
//! its end leaves the connection reusable (keep-alive). A longer one is no longer read: once the
//! answer has been written (with `Connection: close` when that is known in advance), the connection
//! stays open [`LINGER`] more for the client to read it, and is then closed.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Version, header};
use axum::middleware::Next;
use axum::response::Response;
use futures_util::StreamExt;
use http_body::{Body as HttpBody, Frame, SizeHint};
use tokio::sync::oneshot;

/// How long an unread body is read and discarded at most.
pub const DRAIN_WINDOW: Duration = Duration::from_secs(5);
/// How long a connection whose body was not drained stays open after its answer was written.
pub const LINGER: Duration = Duration::from_secs(1);

/// The most bytes of an unread request body read and discarded (`MAX_DRAIN_BYTES`).
#[derive(Clone, Copy, Debug)]
pub struct DrainLimit(pub u64);

/// Wraps the request body so that, if it is dropped before its end, the rest is drained (see the
/// module documentation), and tells the drain when the answer has been written. An HTTP/1 answer
/// given while more of the body is coming than will be drained says `Connection: close`, so that a
/// keep-alive client does not send its next request on a connection about to be closed.
pub async fn drain_unread_body(State(limit): State<DrainLimit>, req: Request, next: Next) -> Response {
    let declared = declared_length(req.headers());
    let http1 = req.version() <= Version::HTTP_11;
    // An HTTP/1 request with neither a length nor chunks has no body: nothing can be left unread,
    // and most requests (every GET) skip the wrapping.
    if http1 && declared == Some(0) {
        return next.run(req).await;
    }
    let (written, answer_written) = oneshot::channel();
    let progress = Arc::new(Progress::default());
    // A client that asked for `100 Continue` and did not get it sends no body after our answer:
    // there is nothing to wait for until the body has been asked for.
    let awaits_continue = expects_continue(req.headers());
    let req = req.map(|inner| {
        Body::new(Watched {
            inner: Some(inner),
            progress: progress.clone(),
            awaits_continue,
            limit,
            answer_written: Some(answer_written),
        })
    });
    let mut response = next.run(req).await;
    if http1 && !progress.will_be_drained(declared, awaits_continue, limit) {
        response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response.map(|inner| Body::new(Announced { inner, written: Some(written) }))
}

fn expects_continue(headers: &HeaderMap) -> bool {
    headers.get(header::EXPECT).is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"))
}

/// The body length the request declares: `None` when it is chunked (not known in advance).
fn declared_length(headers: &HeaderMap) -> Option<u64> {
    if headers.contains_key(header::TRANSFER_ENCODING) {
        return None;
    }
    match headers.get(header::CONTENT_LENGTH) {
        // hyper has already refused a malformed length.
        Some(v) => v.to_str().ok().and_then(|v| v.trim().parse().ok()),
        None => Some(0),
    }
}

/// How far the request body has been read, shared by the body and the layer.
#[derive(Default)]
struct Progress {
    read: AtomicU64,
    /// The end of the body (or its failure) has been seen.
    finished: AtomicBool,
    /// The body has been asked for.
    started: AtomicBool,
}

impl Progress {
    /// Whether the body will have been read to its end when the connection is next used: already,
    /// or by a drain within the byte bound.
    fn will_be_drained(&self, declared: Option<u64>, awaits_continue: bool, limit: DrainLimit) -> bool {
        if self.finished.load(Ordering::Acquire) {
            return true;
        }
        let unread = declared.map(|length| length.saturating_sub(self.read.load(Ordering::Acquire)));
        match unread {
            Some(0) => true,
            _ if awaits_continue && !self.started.load(Ordering::Acquire) => false,
            Some(unread) => unread <= limit.0,
            None => false,
        }
    }
}

/// A request body that drains itself when dropped before its end.
struct Watched {
    inner: Option<Body>,
    progress: Arc<Progress>,
    awaits_continue: bool,
    limit: DrainLimit,
    answer_written: Option<oneshot::Receiver<()>>,
}

impl HttpBody for Watched {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        this.progress.started.store(true, Ordering::Release);
        let Some(inner) = this.inner.as_mut() else { return Poll::Ready(None) };
        let polled = Pin::new(inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                let length = frame.data_ref().map_or(0, |d| d.len() as u64);
                this.progress.read.fetch_add(length, Ordering::AcqRel);
            }
            Poll::Ready(None | Some(Err(_))) => this.progress.finished.store(true, Ordering::Release),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(HttpBody::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.as_ref().map_or_else(|| SizeHint::with_exact(0), HttpBody::size_hint)
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        let Some(inner) = self.inner.take() else { return };
        let progress = &self.progress;
        let unstarted = self.awaits_continue && !progress.started.load(Ordering::Acquire);
        if progress.finished.load(Ordering::Acquire) || unstarted || inner.is_end_stream() {
            return;
        }
        let Some(answer_written) = self.answer_written.take() else { return };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(drain(inner, self.limit.0, answer_written));
        }
    }
}

enum Drained {
    /// To its end: the connection can serve the next request.
    Whole,
    /// The client stopped sending or the connection failed: nothing is left to wait for.
    Gone,
    /// Over the byte or time bound.
    Cut,
}

/// Reads and discards `body` within the bounds; a body cut short is held (unread) until the answer
/// has been written and [`LINGER`] has passed, since dropping it closes the connection.
async fn drain(body: Body, limit: u64, answer_written: oneshot::Receiver<()>) {
    let mut body = body.into_data_stream();
    let read_rest = async {
        let mut read = 0u64;
        loop {
            match body.next().await {
                None => return Drained::Whole,
                Some(Err(_)) => return Drained::Gone,
                Some(Ok(data)) => {
                    read += data.len() as u64;
                    if read > limit {
                        return Drained::Cut;
                    }
                }
            }
        }
    };
    let outcome = tokio::time::timeout(DRAIN_WINDOW, read_rest).await.unwrap_or(Drained::Cut);
    if let Drained::Cut = outcome {
        // An error means no answer will be written (the request was abandoned).
        if answer_written.await.is_ok() {
            tokio::time::sleep(LINGER).await;
        }
        tracing::debug!(limit, "request body not read to its end; closing the connection");
    }
    drop(body);
}

/// A response body that says when it has been written (dropped by the server after its end).
struct Announced {
    inner: Body,
    written: Option<oneshot::Sender<()>>,
}

impl HttpBody for Announced {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Announced {
    fn drop(&mut self) {
        if let Some(written) = self.written.take() {
            let _ = written.send(());
        }
    }
}
