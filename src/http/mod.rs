//! The only module that imports tide: the server, its route table, the
//! envelope, the auth wall and the translation of both API dialects.

pub mod call;
mod envelope;
mod h1;
pub mod openapi;
mod routes;
mod routes_doc;
pub mod server;

mod auth;
mod bond;
mod console;
mod controller;
mod desktop;
mod group;
mod image;
mod internal;
mod monitor;
mod network;
mod node;
mod resource_pool;
mod system;
mod template;
mod terminal;
mod ui;
mod user;

use std::sync::Arc;

use crate::error::{Code, Error};
use crate::service::Services;

pub use call::{Method, Route};

/// The state every tide handler receives.
#[derive(Clone)]
pub struct State(pub Arc<Services>);

/// Every route, for tests and documentation.
pub fn route_table() -> Vec<Route> {
    routes::table()
}

/// Builds the tide application over `services`.
pub fn app(services: Arc<Services>) -> tide::Server<State> {
    let mut app = tide::with_state(State(services));
    app.with(tide::utils::After(|res: tide::Response| async move {
        if res.ext::<envelope::Enveloped>().is_some() {
            return Ok(res);
        }
        let e = match res.status() {
            tide::StatusCode::NotFound => {
                Error::new(Code::RouteNotFound, "No such route; see /api/openapi.json")
            }
            tide::StatusCode::MethodNotAllowed => Error::new(
                Code::MethodNotAllowed,
                "This route does not take that HTTP method",
            ),
            s if s.is_server_error() => Error::internal(format!("unenveloped {s} reply")),
            _ => return Ok(res),
        };
        Ok(envelope::err(&e))
    }));
    ui::mount(&mut app);
    for r in routes::table() {
        let paths: Vec<&'static str> = match r.path.strip_suffix('/') {
            Some(bare) if r.path.starts_with("/api/v1.0/") => vec![r.path, bare],
            _ => vec![r.path],
        };
        for p in paths {
            let route = r.clone();
            let ep = move |req: tide::Request<State>| {
                let route = route.clone();
                async move { call::dispatch(&route, req).await }
            };
            let mut at = app.at(p);
            match r.method {
                Method::Get => at.get(ep),
                Method::Post => at.post(ep),
                Method::Put => at.put(ep),
                Method::Delete => at.delete(ep),
            };
        }
    }
    app
}

/// The app of the `metrics_listen` address: `GET /metrics` without a token.
pub fn metrics_app(services: Arc<Services>) -> tide::Server<State> {
    let mut app = tide::with_state(State(services));
    let route = routes::table()
        .into_iter()
        .find(|r| r.path == "/metrics")
        .map(|mut r| {
            r.handler = |c| Box::pin(monitor::metrics_open(c));
            r
        });
    if let Some(route) = route {
        app.at("/metrics").get(move |req: tide::Request<State>| {
            let route = route.clone();
            async move { call::dispatch(&route, req).await }
        });
    }
    app
}

/// Answers one request in process (tests drive the app through this).
pub async fn respond(app: &tide::Server<State>, req: tide::http::Request) -> tide::http::Response {
    match app.respond::<_, tide::http::Response>(req).await {
        Ok(r) => r,
        Err(e) => {
            let mut r = tide::http::Response::new(e.status());
            r.set_body(e.to_string());
            r
        }
    }
}

/// Sends one request through the app in process and returns the status and
/// body text; lets tests and benchmarks drive the API without a socket.
pub async fn request(
    app: &tide::Server<State>,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (u16, String) {
    request_from(app, "127.0.0.1:40000", method, path, token, body).await
}

/// `request` as if it came from `peer` (`address:port`), e.g. a terminal.
/// It names this build's node protocol, as the appliance's own services do.
pub async fn request_from(
    app: &tide::Server<State>,
    peer: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (u16, String) {
    let version = crate::domain::cluster::PROTOCOL.to_string();
    let headers = [(crate::domain::cluster::PROTOCOL_HEADER, version.as_str())];
    let (st, _, text) = request_with(app, peer, method, path, token, &headers, body).await;
    (st, text)
}

/// `request_from` with exactly these extra headers; the answer's headers
/// come back too.
pub async fn request_with(
    app: &tide::Server<State>,
    peer: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> (u16, Vec<(String, String)>, String) {
    let m: tide::http::Method = method.parse().unwrap_or(tide::http::Method::Get);
    let url = tide::http::Url::parse(&format!("http://localhost{path}")).expect("test URL");
    let mut req = tide::http::Request::new(m, url);
    req.set_peer_addr(Some(peer));
    if let Some(t) = token {
        req.insert_header("Authorization", format!("Bearer {t}"));
    }
    for (k, v) in headers {
        req.insert_header(*k, *v);
    }
    if let Some(b) = body {
        req.set_body(b.to_string());
        req.set_content_type(tide::http::mime::JSON);
    }
    let mut res = respond(app, req).await;
    let answered = res
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.last().as_str().to_string()))
        .collect();
    let text = res.body_string().await.unwrap_or_default();
    (res.status() as u16, answered, text)
}

/// `request` with a binary body and a binary answer (uploads, downloads).
pub async fn request_bytes(
    app: &tide::Server<State>,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Vec<u8>,
) -> (u16, Vec<u8>) {
    let m: tide::http::Method = method.parse().unwrap_or(tide::http::Method::Get);
    let url = tide::http::Url::parse(&format!("http://localhost{path}")).expect("test URL");
    let mut req = tide::http::Request::new(m, url);
    req.set_peer_addr(Some("127.0.0.1:40000"));
    if let Some(t) = token {
        req.insert_header("Authorization", format!("Bearer {t}"));
    }
    req.set_body(body);
    let mut res = respond(app, req).await;
    let bytes = res.body_bytes().await.unwrap_or_default();
    (res.status() as u16, bytes)
}
