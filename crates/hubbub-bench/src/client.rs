//! The generator's side of the public API: only what the scenarios need, as the contract
//! describes it, so that the floor and Hubbub are driven by exactly the same code.

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use serde_json::json;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How WebSockets authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
pub enum WsAuth {
    /// `Authorization: Bearer` on the upgrade request.
    Bearer,
    /// `POST /api/ws/ticket` then `/api/ws?ticket=`.
    Ticket,
}

#[derive(Debug, Clone)]
pub struct Session {
    pub user_id: String,
    pub token: String,
}

#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
}

#[derive(Deserialize)]
struct IdOnly {
    id: String,
}

#[derive(Deserialize)]
struct AuthResp {
    user: IdOnly,
    token: String,
}

#[derive(Debug, Deserialize)]
pub struct PostedMessage {
    pub id: String,
    pub seq: u64,
}

#[derive(Deserialize)]
struct SeqOnly {
    seq: u64,
    #[serde(default)]
    text: String,
}

#[derive(Deserialize)]
struct Page {
    messages: Vec<SeqOnly>,
    has_more: bool,
}

/// One history page, reduced to what the history scenario checks.
#[derive(Debug)]
pub struct PageSummary {
    pub oldest_seq: Option<u64>,
    pub count: usize,
    pub bench_count: usize,
    pub has_more: bool,
}

impl Api {
    /// `base` is `http://127.0.0.1:PORT` (no trailing slash).
    pub fn new(base: &str) -> Result<Self> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .tcp_nodelay(true)
            .pool_max_idle_per_host(4096)
            .timeout(Duration::from_secs(30))
            .build()?;
        Ok(Self { http, base: base.trim_end_matches('/').to_string() })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    async fn check(resp: reqwest::Response, what: &str) -> Result<reqwest::Response> {
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let body = resp.text().await.unwrap_or_default();
        bail!("{what}: HTTP {status}: {}", body.chars().take(300).collect::<String>())
    }

    pub async fn health(&self) -> bool {
        matches!(self.http.get(format!("{}/api/health", self.base)).send().await, Ok(r) if r.status().is_success())
    }

    pub async fn register(&self, username: &str, password: &str) -> Result<Session> {
        let resp = self
            .http
            .post(format!("{}/api/users", self.base))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await?;
        let r: AuthResp = Self::check(resp, "register").await?.json().await?;
        Ok(Session { user_id: r.user.id, token: r.token })
    }

    pub async fn login(&self, username: &str, password: &str) -> Result<Session> {
        let resp = self
            .http
            .post(format!("{}/api/session", self.base))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await?;
        let r: AuthResp = Self::check(resp, "login").await?.json().await?;
        Ok(Session { user_id: r.user.id, token: r.token })
    }

    pub async fn create_group(&self, token: &str, name: &str, member_ids: &[String]) -> Result<String> {
        let resp = self
            .http
            .post(format!("{}/api/conversations", self.base))
            .bearer_auth(token)
            .json(&json!({"name": name, "member_ids": member_ids}))
            .send()
            .await?;
        Ok(Self::check(resp, "create group").await?.json::<IdOnly>().await?.id)
    }

    pub async fn direct(&self, token: &str, other_user: &str) -> Result<String> {
        let resp = self
            .http
            .post(format!("{}/api/users/{other_user}/conversation", self.base))
            .bearer_auth(token)
            .send()
            .await?;
        Ok(Self::check(resp, "direct conversation").await?.json::<IdOnly>().await?.id)
    }

    pub async fn post_message(&self, token: &str, conv: &str, text: &str) -> Result<PostedMessage> {
        let resp = self
            .http
            .post(format!("{}/api/conversations/{conv}/messages", self.base))
            .bearer_auth(token)
            .json(&json!({"text": text}))
            .send()
            .await?;
        Ok(Self::check(resp, "post message").await?.json().await?)
    }

    pub async fn page(&self, token: &str, conv: &str, before: Option<u64>, limit: u32) -> Result<PageSummary> {
        let mut url = format!("{}/api/conversations/{conv}/messages?limit={limit}", self.base);
        if let Some(b) = before {
            url.push_str(&format!("&before={b}"));
        }
        let resp = self.http.get(url).bearer_auth(token).send().await?;
        let p: Page = Self::check(resp, "history page").await?.json().await?;
        Ok(PageSummary {
            oldest_seq: p.messages.iter().map(|m| m.seq).min(),
            count: p.messages.len(),
            bench_count: p.messages.iter().filter(|m| m.text.starts_with(crate::stamp::PREFIX)).count(),
            has_more: p.has_more,
        })
    }

    pub async fn ticket(&self, token: &str) -> Result<String> {
        #[derive(Deserialize)]
        struct T {
            ticket: String,
        }
        let resp = self.http.post(format!("{}/api/ws/ticket", self.base)).bearer_auth(token).send().await?;
        Ok(Self::check(resp, "ws ticket").await?.json::<T>().await?.ticket)
    }

    /// Opens `/api/ws` for the session.
    pub async fn connect_ws(&self, token: &str, auth: WsAuth) -> Result<Ws> {
        let ws_base = self.base.replacen("http://", "ws://", 1);
        let req = match auth {
            WsAuth::Bearer => {
                let mut req = format!("{ws_base}/api/ws").into_client_request()?;
                req.headers_mut().insert("authorization", HeaderValue::from_str(&format!("Bearer {token}"))?);
                req
            }
            WsAuth::Ticket => {
                let t = self.ticket(token).await?;
                format!("{ws_base}/api/ws?ticket={t}").into_client_request()?
            }
        };
        // 16 KiB instead of tungstenite's 128 KiB default read buffer: server frames are small
        // and 10,000 idle sockets should not cost the generator a gigabyte of address space.
        let cfg = WebSocketConfig::default().read_buffer_size(16 * 1024);
        let connect = tokio_tungstenite::connect_async_with_config(req, Some(cfg), true);
        let (ws, _) =
            tokio::time::timeout(Duration::from_secs(20), connect).await.context("websocket connect timed out")??;
        Ok(ws)
    }
}
