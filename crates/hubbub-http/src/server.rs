//! `serve`: the accept loop and the HTTP/1.1 connections, with the limits a public server
//! needs and `axum::serve` does not give: timeouts for headers, bodies and silent
//! connections, a shutdown with a deadline, an accept loop that survives running out of file
//! descriptors, and refusals a client can read.
//!
//! Why each piece exists (each was a way to take the server down or to break a client):
//! - *Header-read timeout* (hyper's): a connection that sends nothing, or half a request
//!   line, costs a descriptor forever otherwise. Hyper starts this timer whenever it waits
//!   for a request head, so it is also how long an idle keep-alive connection may wait for
//!   its next request.
//! - *Body-read timeout*: the longest pause while reading a request body. A body shorter
//!   than its `Content-Length` would otherwise hold a task and a descriptor until the
//!   client goes away.
//! - *Idle timeout*: a connection on which no byte moves either way for this long is closed
//!   (a client that stops reading a response, a handler stuck behind one).
//! - *Lingering close*: when the server closes a connection whose request body it did not
//!   read (a 413, a 401 on an upload), closing at once would make the kernel answer the
//!   client's remaining bytes with a reset, and a reset destroys the response the client has
//!   not read yet. So the socket is half-closed (FIN after the response) and what the client
//!   still sends is read and discarded for a bounded time and amount before it is closed.
//! - *`Connection: close` on an unread body*: a client that reuses a keep-alive connection
//!   after a refused upload would otherwise send its next request into a connection the
//!   server is about to drop ("server disconnected without sending a response").
//! - *Shutdown deadline*: graceful shutdown waits for requests in flight, but a client that
//!   never finishes its request would keep the process alive forever; after the deadline
//!   the remaining connections are cut.

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Request, Response, header};
use bytes::Bytes;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::{Instant, Sleep};
use tower::ServiceExt;

/// The connection limits. Every field is a command-line setting of `hubbub serve`.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    /// Time for a request's headers to arrive; also how long an idle keep-alive connection
    /// waits for its next request.
    pub header_read_timeout: Duration,
    /// The longest pause while reading a request body.
    pub body_read_timeout: Duration,
    /// A connection with no traffic either way for this long is closed.
    pub idle_timeout: Duration,
    /// After the shutdown signal, how long requests in flight may take before their
    /// connections are cut.
    pub shutdown_timeout: Duration,
    /// How long a closing connection's unread input is drained (see the module docs).
    pub linger: Duration,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(120),
            shutdown_timeout: Duration::from_secs(10),
            linger: Duration::from_secs(2),
        }
    }
}

/// Most bytes a lingering close reads and discards; the largest body a client could still
/// be sending after a refusal is an upload (20 MiB).
const LINGER_MAX_BYTES: usize = 32 * 1024 * 1024;
/// How long the accept loop pauses when the process is out of descriptors: long enough not
/// to spin on a listener that keeps failing, short enough to pick up the next connection
/// soon after one closes.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Serves `router` on `listener` until `shutdown` resolves, then stops accepting, lets the
/// connections finish their requests for up to `config.shutdown_timeout`, and cuts the rest.
/// Every request carries `ConnectInfo<SocketAddr>` (the peer address) in its extensions.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    config: ServeConfig,
    shutdown: impl Future<Output = ()> + Send,
) -> io::Result<()> {
    let config = Arc::new(config);
    let (closing_tx, closing_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut descriptor_warning: Option<Instant> = None;
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    connections.spawn(serve_connection(stream, peer, router.clone(), config.clone(), closing_rx.clone()));
                }
                // The peer gave up before we accepted: nothing to do.
                Err(error) if is_connection_error(&error) => {}
                Err(error) => {
                    // Out of descriptors (EMFILE/ENFILE) or memory: the listener will fail
                    // again at once, so pause instead of spinning, and say so once in a
                    // while rather than thousands of times a second.
                    if descriptor_warning.is_none_or(|at| at.elapsed() > Duration::from_secs(10)) {
                        tracing::warn!(%error, open_connections = connections.len(), "cannot accept connections");
                        descriptor_warning = Some(Instant::now());
                    }
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
            },
            // Reap finished connections so the set holds only live ones.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    let _ = closing_tx.send(true);
    let open = connections.len();
    let drained =
        tokio::time::timeout(config.shutdown_timeout, async { while connections.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        tracing::warn!(
            open_at_signal = open,
            still_open = connections.len(),
            "shutdown deadline passed; cutting the remaining connections"
        );
        connections.shutdown().await;
    }
    Ok(())
}

fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    )
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    config: Arc<ServeConfig>,
    mut closing: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let io = TokioIo::new(TimedStream::new(stream, config.idle_timeout, config.linger));
    let body_timeout = config.body_read_timeout;
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let router = router.clone();
        async move { Ok::<_, std::convert::Infallible>(handle(router, request, peer, body_timeout).await) }
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout)
        .serve_connection(io, service)
        .with_upgrades();
    tokio::pin!(connection);
    let signalled = async move {
        // The guard `wait_for` returns is not `Send`; drop it before anything else awaits.
        let _ = closing.wait_for(|closing| *closing).await.map(|_| ());
    };
    tokio::select! {
        result = connection.as_mut() => log_connection_end(result),
        _ = signalled => {
            // Finish the request in flight (if any), then close; an idle connection closes now.
            connection.as_mut().graceful_shutdown();
            log_connection_end(connection.as_mut().await);
        }
    }
}

fn log_connection_end(result: Result<(), hyper::Error>) {
    if let Err(error) = result {
        // Timeouts, resets and malformed requests are the client's doing: not worth more.
        tracing::debug!(%error, "connection ended");
    }
}

async fn handle(
    router: Router,
    request: Request<Incoming>,
    peer: SocketAddr,
    body_timeout: Duration,
) -> Response<Body> {
    let (mut parts, incoming) = request.into_parts();
    let has_body = !hyper::body::Body::is_end_stream(&incoming);
    // Only a request with a body can leave one unread (most requests are GETs).
    let finished = has_body.then(|| Arc::new(AtomicBool::new(false)));
    let body = RequestBody { inner: incoming, finished: finished.clone(), stall: body_timeout, sleep: None };
    parts.extensions.insert(ConnectInfo(peer));
    let request = Request::from_parts(parts, Body::new(body));
    let mut response = match router.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    if finished.is_some_and(|finished| !finished.load(Ordering::Acquire)) {
        response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// The request body as handlers see it: it remembers whether it was read to the end, and
/// fails when the client pauses longer than the body-read timeout.
struct RequestBody {
    inner: Incoming,
    /// Set once the body was read to the end; `None` for a request without a body.
    finished: Option<Arc<AtomicBool>>,
    stall: Duration,
    sleep: Option<Pin<Box<Sleep>>>,
}

#[derive(Debug, thiserror::Error)]
#[error("the client sent no body data for {0:?}")]
struct BodyTimeout(Duration);

impl hyper::body::Body for RequestBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Pending => {
                let stall = this.stall;
                let sleep = this.sleep.get_or_insert_with(|| Box::pin(tokio::time::sleep(stall)));
                match sleep.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyTimeout(stall))))),
                    Poll::Pending => Poll::Pending,
                }
            }
            Poll::Ready(frame) => {
                this.sleep = None;
                // Readers that know the length stop after the last byte without asking for
                // the end, so the end is also "no bytes left".
                if (frame.is_none() || this.inner.is_end_stream())
                    && let Some(finished) = &this.finished
                {
                    finished.store(true, Ordering::Release);
                }
                Poll::Ready(frame.map(|result| result.map_err(Into::into)))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A TCP stream that fails its reads and writes once nothing has moved for `idle`, and that
/// closes lingering (see the module docs) when dropped.
struct TimedStream {
    inner: Option<TcpStream>,
    idle: Duration,
    linger: Duration,
    last_activity: Instant,
    /// The client closed its side (a read returned end-of-file): nothing more can arrive,
    /// so closing cannot reset anything and no lingering is needed. That is how most
    /// keep-alive connections end.
    peer_closed: bool,
    // Armed for `last_activity + idle`; when it fires early (there was traffic since), it
    // is pushed back instead of being reset on every read and write.
    deadline: Pin<Box<Sleep>>,
}

impl TimedStream {
    fn new(stream: TcpStream, idle: Duration, linger: Duration) -> Self {
        let now = Instant::now();
        Self {
            inner: Some(stream),
            idle,
            linger,
            last_activity: now,
            peer_closed: false,
            deadline: Box::pin(tokio::time::sleep_until(now + idle)),
        }
    }

    fn stream(&mut self) -> io::Result<&mut TcpStream> {
        self.inner.as_mut().ok_or_else(|| io::Error::from(io::ErrorKind::NotConnected))
    }

    /// Called when the stream would block: errors once the connection has been silent too long.
    fn poll_idle(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        while self.deadline.as_mut().poll(cx).is_ready() {
            let due = self.last_activity + self.idle;
            if due <= Instant::now() {
                return Err(io::Error::new(io::ErrorKind::TimedOut, "connection idle"));
            }
            self.deadline.as_mut().reset(due);
        }
        Ok(())
    }

    fn on_progress<T>(&mut self, poll: Poll<io::Result<T>>, cx: &mut Context<'_>, moved: bool) -> Poll<io::Result<T>> {
        match poll {
            Poll::Ready(Ok(value)) => {
                if moved {
                    self.last_activity = Instant::now();
                }
                Poll::Ready(Ok(value))
            }
            Poll::Pending => match self.poll_idle(cx) {
                Ok(()) => Poll::Pending,
                Err(error) => Poll::Ready(Err(error)),
            },
            ready => ready,
        }
    }
}

impl TimedStream {
    /// Runs one poll of the inner stream and keeps the idle clock: `moved` says whether the
    /// result moved bytes.
    fn poll_inner<T>(
        &mut self,
        cx: &mut Context<'_>,
        poll: impl FnOnce(Pin<&mut TcpStream>, &mut Context<'_>) -> Poll<io::Result<T>>,
        moved: impl FnOnce(&Poll<io::Result<T>>) -> bool,
    ) -> Poll<io::Result<T>> {
        let result = match self.stream() {
            Ok(stream) => poll(Pin::new(stream), cx),
            Err(error) => return Poll::Ready(Err(error)),
        };
        let moved = moved(&result);
        self.on_progress(result, cx, moved)
    }
}

fn wrote_bytes(poll: &Poll<io::Result<usize>>) -> bool {
    matches!(poll, Poll::Ready(Ok(n)) if *n > 0)
}

impl AsyncRead for TimedStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let asked = buf.remaining() > 0;
        let this = self.get_mut();
        let result = match this.stream() {
            Ok(stream) => Pin::new(stream).poll_read(cx, buf),
            Err(error) => return Poll::Ready(Err(error)),
        };
        let moved = buf.filled().len() > before;
        if asked && !moved && matches!(result, Poll::Ready(Ok(()))) {
            this.peer_closed = true;
        }
        this.on_progress(result, cx, moved)
    }
}

impl AsyncWrite for TimedStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        self.get_mut().poll_inner(cx, |stream, cx| stream.poll_write(cx, data), wrote_bytes)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_inner(cx, |stream, cx| stream.poll_write_vectored(cx, data), wrote_bytes)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_inner(cx, |stream, cx| stream.poll_flush(cx), |_| false)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut().stream() {
            Ok(stream) => Pin::new(stream).poll_shutdown(cx),
            Err(error) => Poll::Ready(Err(error)),
        }
    }
}

impl Drop for TimedStream {
    fn drop(&mut self) {
        let Some(stream) = self.inner.take() else { return };
        if self.peer_closed {
            return;
        }
        // Without a runtime (process exit) there is nobody left to read for.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(linger(stream, self.linger));
        }
    }
}

/// Half-closes the stream and discards what the client still sends, until it closes too,
/// `limit` passes, or `LINGER_MAX_BYTES` were read. Only for connections the server ends
/// (a refusal, a timeout, `Connection: close`, shutdown): when the client closed first,
/// `TimedStream` just drops the socket.
async fn linger(mut stream: TcpStream, limit: Duration) {
    let _ = stream.shutdown().await;
    let mut buffer = vec![0u8; 16 * 1024];
    let mut discarded = 0usize;
    let _ = tokio::time::timeout(limit, async {
        while discarded < LINGER_MAX_BYTES {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => discarded += n,
            }
        }
    })
    .await;
}
