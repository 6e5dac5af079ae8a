//! One socket: a `select!` loop over the client's frames, the bounded queue
//! of frames for it, its close signal and the heartbeat. Generic over any
//! `Stream + Sink` of WebSocket messages, so tests can drive it without a
//! network.

use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes};
use futures::{Sink, SinkExt, Stream, StreamExt};
use tokio::sync::mpsc;

use super::channel::{self, Kind};
use super::hub::{Refused, Registration, SubscribeError};
use super::protocol::{self, code, Inbound};
use super::{apps, sign, App};
use crate::config::RealtimeConfig;
use crate::state::AppState;

/// Channels one socket may subscribe to at once.
pub const MAX_CHANNELS: usize = 100;
/// A write that takes longer than this means the client is gone or stuck.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Queued frames written before one flush.
const BATCH: usize = 64;

/// An answer to a client frame: `pusher:error` code and message.
type Refusal = (u16, String);

fn refusal(code: u16, message: impl Into<String>) -> Refusal {
    (code, message.into())
}

/// Client events a socket may send per second (a fixed one-second window).
struct Rate {
    limit: u32,
    window: Instant,
    used: u32,
}

impl Rate {
    fn allow(&mut self) -> bool {
        if self.window.elapsed() >= Duration::from_secs(1) {
            self.window = Instant::now();
            self.used = 0;
        }
        if self.used >= self.limit {
            return false;
        }
        self.used += 1;
        true
    }
}

/// Sends a `pusher:error` and closes with the same code.
pub async fn refuse<S>(socket: &mut S, code: u16, message: &str)
where
    S: Sink<Message> + Unpin,
{
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        let error = protocol::error(code, message, None);
        socket.feed(Message::Text(error.into())).await.ok()?;
        // A close frame's reason holds 123 bytes at most.
        let mut end = message.len().min(123);
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        let close = CloseFrame {
            code,
            reason: Utf8Bytes::from(&message[..end]),
        };
        socket.send(Message::Close(Some(close))).await.ok()
    })
    .await;
}

async fn send<S>(socket: &mut S, text: String) -> Result<(), ()>
where
    S: Sink<Message> + Unpin,
{
    match tokio::time::timeout(WRITE_TIMEOUT, socket.send(Message::Text(text.into()))).await {
        Ok(Ok(())) => Ok(()),
        _ => Err(()),
    }
}

/// Writes `first` and whatever else is queued, then flushes once.
async fn write_queued<S>(
    socket: &mut S,
    rx: &mut mpsc::Receiver<Utf8Bytes>,
    first: Utf8Bytes,
) -> Result<(), ()>
where
    S: Sink<Message> + Unpin,
{
    let written = tokio::time::timeout(WRITE_TIMEOUT, async {
        socket.feed(Message::Text(first)).await?;
        for _ in 1..BATCH {
            match rx.try_recv() {
                Ok(frame) => socket.feed(Message::Text(frame)).await?,
                Err(_) => break,
            }
        }
        socket.flush().await
    })
    .await;
    match written {
        Ok(Ok(())) => Ok(()),
        _ => Err(()),
    }
}

/// Serves one socket of `app` until it closes.
pub async fn serve<S, E>(state: AppState, mut socket: S, app: std::sync::Arc<App>)
where
    S: Stream<Item = Result<Message, E>> + Sink<Message> + Unpin,
{
    let mut reg = match state.realtime.hub.register(app.workspace_id) {
        Ok(reg) => reg,
        Err(Refused::OverCapacity) => {
            refuse(
                &mut socket,
                code::OVER_CAPACITY,
                "Over capacity: this server has no room for another connection",
            )
            .await;
            return;
        }
    };
    drop(app);
    let config = state.config.realtime.clone();
    let activity = Duration::from_secs(config.activity_timeout_secs.max(1));
    let pong_timeout = Duration::from_secs(config.pong_timeout_secs.max(1));
    let hello = protocol::connection_established(&reg.socket_id, config.activity_timeout_secs);
    if send(&mut socket, hello).await.is_err() {
        return;
    }
    let mut rate = Rate {
        limit: config.client_events_per_second,
        window: Instant::now(),
        used: 0,
    };
    let kill = reg.kill.clone();
    let mut heard = Instant::now();
    let mut pinged: Option<Instant> = None;
    loop {
        let deadline = match pinged {
            Some(at) => at + pong_timeout,
            None => heard + activity,
        };
        tokio::select! {
            biased;
            (code, reason) = kill.wait() => {
                refuse(&mut socket, code, reason).await;
                break;
            }
            frame = reg.rx.recv() => {
                let Some(frame) = frame else { break };
                if write_queued(&mut socket, &mut reg.rx, frame).await.is_err() {
                    break;
                }
            }
            msg = socket.next() => {
                let Some(Ok(msg)) = msg else { break };
                heard = Instant::now();
                pinged = None;
                let reply = match msg {
                    Message::Text(text) => {
                        handle(&state, &config, &mut reg, &mut rate, text.as_str()).await
                    }
                    Message::Binary(_) => Some(protocol::error(
                        code::RECONNECT,
                        "Invalid message format: binary frames are not part of the protocol",
                        None,
                    )),
                    Message::Close(_) => break,
                    // WebSocket pings are answered by the WebSocket layer.
                    Message::Ping(_) | Message::Pong(_) => None,
                };
                if let Some(reply) = reply {
                    if send(&mut socket, reply).await.is_err() {
                        break;
                    }
                }
            }
            _ = tokio::time::sleep_until(deadline.into()) => {
                if pinged.is_some() {
                    refuse(&mut socket, code::PONG_TIMEOUT, "Pong reply not received").await;
                    break;
                }
                pinged = Some(Instant::now());
                if send(&mut socket, protocol::ping()).await.is_err() {
                    break;
                }
            }
        }
    }
}

/// Acts on one client frame; returns the direct answer, if any.
async fn handle(
    state: &AppState,
    config: &RealtimeConfig,
    reg: &mut Registration,
    rate: &mut Rate,
    text: &str,
) -> Option<String> {
    let inbound = match protocol::parse(text) {
        Ok(i) => i,
        Err(message) => return Some(protocol::error(code::RECONNECT, &message, None)),
    };
    let (refused, channel) = match inbound {
        Inbound::Ping => return Some(protocol::pong()),
        Inbound::Pong | Inbound::Ignored => return None,
        Inbound::Signin => (
            refusal(
                code::UNAUTHORIZED,
                "User authentication (pusher:signin) is not offered by this server",
            ),
            None,
        ),
        Inbound::Unsubscribe { channel } => {
            reg.unsubscribe(&channel);
            return None;
        }
        Inbound::Subscribe {
            channel,
            auth,
            channel_data,
        } => match subscribe(state, reg, &channel, auth, channel_data).await {
            Ok(()) => return None,
            Err(r) => (r, Some(channel)),
        },
        Inbound::ClientEvent {
            event,
            channel,
            data,
        } => match client_event(config, reg, rate, &event, &channel, data) {
            Ok(()) => return None,
            Err(r) => (r, Some(channel)),
        },
    };
    Some(protocol::error(refused.0, &refused.1, channel.as_deref()))
}

async fn subscribe(
    state: &AppState,
    reg: &mut Registration,
    name: &str,
    auth: Option<String>,
    channel_data: Option<String>,
) -> Result<(), Refusal> {
    if !channel::valid_name(name) {
        return Err(refusal(
            code::UNAUTHORIZED,
            "Invalid channel name: 1 to 164 characters of A-Z a-z 0-9 _ - = @ , . ;",
        ));
    }
    if !reg.is_subscribed(name) && reg.channel_count() >= MAX_CHANNELS {
        return Err(refusal(
            code::OVER_CAPACITY,
            format!("A connection may subscribe to {MAX_CHANNELS} channels at most"),
        ));
    }
    let kind = channel::kind(name);
    let member =
        match kind {
            Kind::Public => None,
            Kind::Private | Kind::Presence => {
                let Some(auth) = auth else {
                    return Err(refusal(
                        code::UNAUTHORIZED,
                        "Private and presence channels need an auth signature",
                    ));
                };
                let data = match kind {
                    Kind::Presence => Some(channel_data.ok_or_else(|| {
                        refusal(code::UNAUTHORIZED, "Presence channels need channel_data")
                    })?),
                    _ => None,
                };
                let app = apps::of_workspace(state, reg.workspace)
                    .await
                    .map_err(|e| {
                        tracing::error!(error = %format!("{e:#}"), "realtime: reading the app");
                        refusal(code::RECONNECT, "Temporarily unable to check the signature")
                    })?;
                let signed = sign::verify_channel_auth(
                    app.secret(),
                    &auth,
                    &reg.socket_id,
                    name,
                    data.as_deref(),
                );
                if !signed {
                    return Err(refusal(
                        code::UNAUTHORIZED,
                        "Invalid signature: the auth does not match this socket, channel and app",
                    ));
                }
                match data {
                    Some(data) => Some(protocol::member(&data).ok_or_else(|| {
                        refusal(code::UNAUTHORIZED, "channel_data needs a user_id")
                    })?),
                    None => None,
                }
            }
        };
    reg.subscribe(name, member).map_err(|e| match e {
        SubscribeError::TooManyMembers => {
            refusal(code::OVER_CAPACITY, "The presence channel is full")
        }
    })
}

fn client_event(
    config: &RealtimeConfig,
    reg: &mut Registration,
    rate: &mut Rate,
    event: &str,
    channel: &str,
    data: serde_json::Value,
) -> Result<(), Refusal> {
    if !event.starts_with("client-") {
        return Err(refusal(
            code::CLIENT_EVENT_REJECTED,
            "Events from clients must be named client-*",
        ));
    }
    if channel::kind(channel) == Kind::Public {
        return Err(refusal(
            code::CLIENT_EVENT_REJECTED,
            "Client events are allowed on private and presence channels only",
        ));
    }
    if !reg.is_subscribed(channel) {
        return Err(refusal(
            code::UNAUTHORIZED,
            "Subscribe to the channel before sending client events on it",
        ));
    }
    if !rate.allow() {
        return Err(refusal(
            code::CLIENT_EVENT_REJECTED,
            format!(
                "Client event rejected: more than {} a second",
                config.client_events_per_second
            ),
        ));
    }
    // Relayed as sent: text as is, anything else as its JSON text.
    let data = match data {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    };
    if data.len() > config.max_event_bytes {
        return Err(refusal(
            code::CLIENT_EVENT_REJECTED,
            format!(
                "Client event rejected: data over {} bytes",
                config.max_event_bytes
            ),
        ));
    }
    let user_id = reg.member_of(channel).map(str::to_string);
    reg.relay(channel, || {
        protocol::frame_from(event, Some(channel), &data, user_id.as_deref())
    });
    Ok(())
}
