//! The only module that imports tide: the server, its route table, the
//! envelope, the auth wall and the translation of both API dialects.

pub mod call;
mod envelope;
pub mod openapi;
mod routes;
pub mod server;

mod auth;
mod resource_pool;
mod system;

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
            tide::StatusCode::NotFound => Error::new(Code::RouteNotFound, "No such route; see /api/openapi.json"),
            tide::StatusCode::MethodNotAllowed => {
                Error::new(Code::MethodNotAllowed, "This route does not take that HTTP method")
            }
            s if s.is_server_error() => Error::internal(format!("unenveloped {s} reply")),
            _ => return Ok(res),
        };
        Ok(envelope::err(&e))
    }));
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
