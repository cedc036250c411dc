//! `GET /api/ws`: the event stream.
//!
//! Each socket is two tasks. The *writer* owns the sending half: it drains the socket's
//! bounded queue (filled by the hub) and a small control queue (error frames, close
//! frames), pings every 30 s, and batches whatever is waiting into one flush. The *reader*
//! (the upgrade task itself) owns the receiving half: it handles client frames and closes
//! the socket when the peer says nothing, not even a pong, for 60 s.
//!
//! Either side ends the socket by cancelling the connection's `kill` signal, which the hub
//! also fires, with a [`CloseReason`], when the queue overflows, the session ends, the user
//! has too many sockets or the server shuts down. The writer then sends the close frame
//! [`close_frame_for`] maps that reason to: the one place where reasons become codes. The
//! `Registration` dropped at the end unregisters the socket whatever path led there.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{CredentialSource, credential, origin_allowed};
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade, close_code};
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::response::Response;
use futures::{SinkExt, StreamExt};
use hubbub_app::ports::Actor;
use hubbub_app::realtime::{CloseReason, Kill};
use hubbub_app::usecases::{account, conversation::mark, realtime::sync, realtime::typing};
use hubbub_domain::ConversationId;
use serde::Deserialize;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

pub const PING_INTERVAL: Duration = Duration::from_secs(30);
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// The contract's limit on a client frame.
pub const MAX_CLIENT_FRAME: usize = 64 * 1024;
/// Bad frames tolerated before the socket is closed with 1008 (policy violation).
const MAX_BAD_FRAMES: u32 = 10;
/// A typist's client repeats `typing` every few seconds; more often than this is noise.
const TYPING_MIN_INTERVAL: Duration = Duration::from_secs(2);
/// Most queued events written before one flush.
const MAX_BATCH: usize = 64;
/// Close code: the session ended (logout, password change). Do not reconnect with this
/// token; sign in again. (4000–4999 are the application's own codes.)
pub const CLOSE_SESSION_ENDED: u16 = 4001;
/// Close code: the user already holds as many sockets as allowed; this newest one was
/// refused. Close another one (or wait) before retrying, and never retry at once.
pub const CLOSE_TOO_MANY_CONNECTIONS: u16 = 4008;
/// How long the writer tries to get a close frame to a peer before giving up on it.
const CLOSE_SEND_TIMEOUT: Duration = Duration::from_millis(200);

/// The close frame a socket closed by the hub gets.
fn close_frame_for(reason: CloseReason) -> (u16, &'static str) {
    match reason {
        // Too slow to keep up: come back and catch up through `/events`.
        CloseReason::SlowConsumer => (close_code::AWAY, "too slow"),
        CloseReason::SessionEnded => (CLOSE_SESSION_ENDED, "session ended"),
        CloseReason::TooManyConnections => (CLOSE_TOO_MANY_CONNECTIONS, "too many connections"),
        CloseReason::ShuttingDown => (close_code::AWAY, "server shutting down"),
    }
}

#[derive(Deserialize)]
struct WsQuery {
    ticket: Option<String>,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum ClientFrame {
    Typing { conversation_id: ConversationId },
    Delivered { conversation_id: ConversationId, seq: i64 },
    Read { conversation_id: ConversationId, seq: i64 },
}

/// Resolves the caller before the upgrade, so a bad credential is a plain 401 response.
async fn authenticate(parts: &mut Parts, state: &AppState) -> Result<Actor, ApiError> {
    let query: WsQuery =
        axum::extract::Query::try_from_uri(&parts.uri).map(|q| q.0).unwrap_or(WsQuery { ticket: None });
    if let Some(ticket) = query.ticket {
        return Ok(account::ws_ticket::redeem(&state.app, &ticket).await?);
    }
    let (token, source) = credential(parts).ok_or_else(|| ApiError::unauthorized("sign in first"))?;
    // A cross-site page can open a WebSocket with the user's cookie; only this origin may.
    if source == CredentialSource::Cookie && !origin_allowed(&parts.headers, state) {
        return Err(ApiError::forbidden("cross-origin WebSocket refused"));
    }
    Ok(account::authenticate::authenticate(&state.app, &token).await?)
}

/// Open the event stream (bearer header, session cookie, or `?ticket=` with a ticket from
/// `POST /api/ws/ticket`).
///
/// Close codes the server sends, and what a client should do:
/// - 1001 "server shutting down", "too slow" or "idle": reconnect with backoff, then catch up
///   with `/events`.
/// - 1008 (repeated bad frames) and 1009 (a frame over 64 KiB): the client is at fault.
/// - 4001 "session ended" (logout, or a password change elsewhere): the token no longer
///   works; sign in again instead of reconnecting with it.
/// - 4008 "too many connections": the user already holds the most sockets allowed (32 by
///   default, across all of their sessions) and this newest one was refused; close another
///   one, and do not retry at once.
#[utoipa::path(get, path = "/api/ws", tag = "realtime",
    security(("bearer" = []), ("cookie" = []), ("ticket" = [])),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol; server frames are Event objects"),
        (status = 400, description = "Not a WebSocket upgrade request", body = crate::error::ErrorBody),
        (status = 403, description = "Cookie from a foreign origin", body = crate::error::ErrorBody),
    ))]
pub async fn upgrade(State(state): State<AppState>, request: axum::extract::Request) -> Result<Response, ApiError> {
    let (mut parts, _body) = request.into_parts();
    let actor = authenticate(&mut parts, &state).await?;
    let upgrade = WebSocketUpgrade::from_request_parts(&mut parts, &state)
        .await
        .map_err(|e| ApiError::bad_request(format!("not a WebSocket upgrade: {e}")))?;
    // Small buffers: an idle socket should cost kilobytes, not the 128 KiB read buffer
    // tungstenite allocates by default. Frames are small JSON objects.
    Ok(upgrade
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_write_buffer_size(1024 * 1024)
        .max_message_size(MAX_CLIENT_FRAME)
        .max_frame_size(MAX_CLIENT_FRAME)
        .on_upgrade(move |socket| run(socket, state, actor)))
}

async fn run(socket: WebSocket, state: AppState, actor: Actor) {
    let connection = state.app.hub.register(actor.user_id, actor.session_id);
    let kill = connection.kill.clone();
    let _registration = connection.registration;
    let (sink, mut stream) = socket.split();
    let (control, control_rx) = mpsc::channel::<Message>(8);
    // The first frame: where the user's list stands now that the hub delivers to this
    // socket (see `sync::sync_point` for why reading it after `register` loses nothing).
    // It is queued before the writer starts, and the writer prefers the control queue, so
    // it is the first frame on the wire even if events were queued meanwhile (the control
    // queue has room: nothing else is in it yet).
    match sync::sync_point(&state.app, actor.user_id).await {
        Ok(seqs) => {
            let _ = control.try_send(sync_frame(&seqs));
        }
        Err(error) => {
            tracing::warn!(%error, "could not read the sync point; closing the socket");
            let _ = control.try_send(close(close_code::ERROR, "try again"));
        }
    }
    let writer = tokio::spawn(write_loop(sink, connection.outbound, control_rx, kill.clone()));

    let mut bad_frames = 0u32;
    let mut last_typing: HashMap<ConversationId, Instant> = HashMap::new();
    loop {
        let next = tokio::select! {
            _ = kill.cancelled() => break,
            next = tokio::time::timeout(IDLE_TIMEOUT, stream.next()) => next,
        };
        let frame = match next {
            Err(_) => {
                tracing::debug!("socket idle for too long; closing");
                request_close(&control, close_code::AWAY, "idle").await;
                break;
            }
            Ok(None) => break,
            Ok(Some(Err(error))) => {
                // tungstenite reports an oversized frame as a capacity error.
                if error.to_string().to_ascii_lowercase().contains("too long")
                    || error.to_string().to_ascii_lowercase().contains("capacity")
                {
                    request_close(&control, close_code::SIZE, "frame too large").await;
                }
                break;
            }
            Ok(Some(Ok(frame))) => frame,
        };
        let text = match frame {
            Message::Text(text) => text,
            Message::Close(_) => break,
            Message::Ping(_) | Message::Pong(_) => continue,
            Message::Binary(_) => {
                bad_frames += 1;
                let _ = control.try_send(error_frame("binary frames are not supported"));
                if bad_frames > MAX_BAD_FRAMES {
                    request_close(&control, close_code::POLICY, "too many bad frames").await;
                    break;
                }
                continue;
            }
        };
        if let Err(message) = handle_frame(&state, actor, &text, &mut last_typing).await {
            bad_frames += 1;
            let _ = control.try_send(error_frame(&message));
            if bad_frames > MAX_BAD_FRAMES {
                request_close(&control, close_code::POLICY, "too many bad frames").await;
                break;
            }
        }
    }
    // Give the writer a moment to send a pending close frame, then stop it for good.
    drop(control);
    let writer_abort = writer.abort_handle();
    if tokio::time::timeout(Duration::from_secs(1), writer).await.is_err() {
        writer_abort.abort();
    }
    kill.cancel();
}

async fn handle_frame(
    state: &AppState,
    actor: Actor,
    text: &str,
    last_typing: &mut HashMap<ConversationId, Instant>,
) -> Result<(), String> {
    let frame: ClientFrame = serde_json::from_str(text).map_err(|e| format!("bad frame: {e}"))?;
    let result = match frame {
        ClientFrame::Typing { conversation_id } => {
            let now = Instant::now();
            if last_typing.get(&conversation_id).is_some_and(|at| now.duration_since(*at) < TYPING_MIN_INTERVAL) {
                return Ok(());
            }
            last_typing.insert(conversation_id, now);
            typing::typing(&state.app, actor, conversation_id).await
        }
        ClientFrame::Delivered { conversation_id, seq } => {
            mark::mark(&state.app, actor, conversation_id, mark::MarkKind::Delivered, seq).await
        }
        ClientFrame::Read { conversation_id, seq } => {
            mark::mark(&state.app, actor, conversation_id, mark::MarkKind::Read, seq).await
        }
    };
    result.map_err(|e| ApiError::from(e).message)
}

/// Queues a close frame behind whatever error frames are waiting. Unlike error frames,
/// which may be dropped when the control queue is full, a close frame must get through.
async fn request_close(control: &mpsc::Sender<Message>, code: u16, reason: &'static str) {
    let _ = tokio::time::timeout(Duration::from_secs(1), control.send(close(code, reason))).await;
}

fn error_frame(message: &str) -> Message {
    let body = serde_json::json!({ "type": "error", "data": { "message": message } });
    Message::Text(Utf8Bytes::from(body.to_string()))
}

/// `{"type": "sync", "data": {"conversations": [{"id", "last_seq"}]}}`: the socket's first
/// frame (an addition to the contract, in `docs/api-extensions.md`).
fn sync_frame(seqs: &[hubbub_app::ports::ConversationSeq]) -> Message {
    let conversations: Vec<_> =
        seqs.iter().map(|entry| serde_json::json!({ "id": entry.id, "last_seq": entry.last_seq })).collect();
    let body = serde_json::json!({ "type": "sync", "data": { "conversations": conversations } });
    Message::Text(Utf8Bytes::from(body.to_string()))
}

fn close(code: u16, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame { code, reason: Utf8Bytes::from_static(reason) }))
}

/// How the writer's main loop ended.
enum WriterEnd {
    /// The hub closed this socket (its kill fired, or it dropped the queue): the peer is
    /// owed a close frame with the hub's reason.
    Stopped,
    /// The reader ended (any close frame it wanted was in the control queue), a close
    /// frame went out, or the socket is broken: nothing more to send.
    Done,
}

async fn write_loop(
    mut sink: futures::stream::SplitSink<WebSocket, Message>,
    mut outbound: mpsc::Receiver<bytes::Bytes>,
    mut control: mpsc::Receiver<Message>,
    kill: Kill,
) {
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + PING_INTERVAL, PING_INTERVAL);
    let work = async {
        loop {
            tokio::select! {
                biased;
                message = control.recv() => match message {
                    Some(message) => {
                        let closing = matches!(message, Message::Close(_));
                        if sink.send(message).await.is_err() || closing {
                            return WriterEnd::Done;
                        }
                    }
                    None => return WriterEnd::Done,
                },
                event = outbound.recv() => {
                    // The hub drops the queue only after giving its reason.
                    let Some(first) = event else { return WriterEnd::Stopped };
                    if feed_event(&mut sink, first).await.is_err() {
                        return WriterEnd::Done;
                    }
                    // Everything already queued goes out in the same flush.
                    for _ in 1..MAX_BATCH {
                        match outbound.try_recv() {
                            Ok(next) => {
                                if feed_event(&mut sink, next).await.is_err() {
                                    return WriterEnd::Done;
                                }
                            }
                            Err(_) => break,
                        }
                    }
                    if sink.flush().await.is_err() {
                        return WriterEnd::Done;
                    }
                }
                _ = ping.tick() => {
                    if sink.send(Message::Ping(bytes::Bytes::new())).await.is_err() {
                        return WriterEnd::Done;
                    }
                }
            }
        }
    };
    // A slow peer can leave `send` pending forever; the kill signal cuts through that.
    // Biased: once the hub has closed the socket, its close frame wins over anything else.
    let end = tokio::select! {
        biased;
        _ = kill.cancelled() => WriterEnd::Stopped,
        end = work => end,
    };
    if let WriterEnd::Stopped = end {
        let (code, reason) = kill.reason().map_or((close_code::AWAY, "closing"), close_frame_for);
        let _ = tokio::time::timeout(CLOSE_SEND_TIMEOUT, sink.send(close(code, reason))).await;
    }
    kill.cancel();
}

async fn feed_event(
    sink: &mut futures::stream::SplitSink<WebSocket, Message>,
    payload: bytes::Bytes,
) -> Result<(), axum::Error> {
    // The payload was serialised once from a Rust string, so it is UTF-8; the check is a
    // fast scan, and the bytes themselves are shared, not copied.
    match Utf8Bytes::try_from(payload) {
        Ok(text) => sink.feed(Message::Text(text)).await,
        Err(_) => Ok(()),
    }
}
