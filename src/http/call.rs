//! What every route shares: the route table entry, the framework-free `Call`
//! a handler receives, and the dispatcher that checks the token, reads the
//! body, runs the handler (or starts it as a task on `"async": true`),
//! records mutating calls in the operation log and writes the envelope.

use std::sync::Arc;

use serde_json::{json, Value};
use smol::future::FutureExt;
use smol::io::AsyncReadExt;
use tide::Request;

use super::envelope;
use super::State;
use crate::api;
use crate::error::{Code, Error, Result};
use crate::host::BoxFuture;
use crate::service::{Actor, Services};

pub const BODY_LIMIT: usize = 1024 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "get",
            Method::Post => "post",
            Method::Put => "put",
            Method::Delete => "delete",
        }
    }
}

/// A handler's input, free of framework types.
pub struct Call {
    pub services: Arc<Services>,
    pub actor: Actor,
    /// The bearer token the call came with (for logout).
    pub token: Option<String>,
    pub op: &'static str,
    pub path: String,
    /// The address the client reached the service at (`host:port` from
    /// the request's `Host`): where a `.vv` file's proxy points.
    pub via: String,
    pub query: Vec<(String, String)>,
    pub params: Vec<(String, String)>,
    /// The body, read and parsed once by the dispatcher.
    pub body: api::Body,
    /// The request body as a stream (routes marked `streaming`).
    pub upload: Option<crate::host::ByteStream>,
    /// The length the streamed body declared (`Content-Length`), if any.
    pub upload_len: Option<u64>,
    /// The body's `"async": true` (taken out of `body` by the dispatcher,
    /// the one place that reads it): answer with a task id, do not wait.
    pub wants_async: bool,
}

impl Call {
    /// A query parameter's value.
    pub fn query_value(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn param(&self, name: &str) -> &str {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        self.body.parse()
    }

    /// The body of a call that takes no parameters: none, or `{}` (an
    /// array or a scalar is refused, not read as an empty struct).
    pub fn no_fields(&self) -> Result<()> {
        if self.body.is_empty() {
            return Ok(());
        }
        if self.body.json.as_ref().is_some_and(|v| !v.is_object()) {
            return Err(Error::new(
                crate::error::Code::UnknownField,
                "This call takes no parameters; send `{}`",
            ));
        }
        self.json::<api::fields::NoFields>().map(|_| ())
    }
}

/// A handler's output: the envelope's `data`, and what the operation log
/// should name as the target.
pub struct Reply {
    /// What the operation log says of a success (default `success`).
    pub note: Option<String>,
    pub data: Value,
    /// `data` already serialized (large listings skip the `Value` tree).
    pub text: Option<String>,
    pub target: Option<String>,
    pub raw: bool,
    /// A file streamed out instead of an envelope: length, bytes, name.
    pub file: Option<(u64, crate::host::ByteStream, String)>,
    /// Text that is not an envelope: content type, body (`/metrics`).
    pub plain: Option<(&'static str, String)>,
}

impl Reply {
    /// A service result, serialised as it is, as the data.
    pub fn of<T: serde::Serialize>(v: T) -> Reply {
        Reply::data(serde_json::to_value(v).unwrap_or(Value::Null))
    }

    /// A task's outcome: its id at once (`async`), or the result with
    /// `task_id` beside it.
    pub fn ran<T: serde::Serialize>(r: crate::service::task::Ran<T>) -> Reply {
        use crate::service::task::Ran;
        match r {
            Ran::Queued(id) => Reply::data(json!({ "task_id": id.to_string() })),
            Ran::Done(id, v) => {
                let mut d = serde_json::to_value(v).unwrap_or(Value::Null);
                if let Some(o) = d.as_object_mut() {
                    o.insert("task_id".into(), json!(id.to_string()));
                }
                Reply::data(d)
            }
        }
    }

    pub fn data(data: Value) -> Reply {
        Reply {
            note: None,
            data,
            text: None,
            target: None,
            raw: false,
            file: None,
            plain: None,
        }
    }

    /// A text document answered as it is.
    pub fn plain(content_type: &'static str, text: String) -> Reply {
        let mut r = Reply::data(Value::Null);
        r.plain = Some((content_type, text));
        r
    }

    pub fn json_text(text: String) -> Reply {
        Reply {
            note: None,
            data: Value::Null,
            text: Some(text),
            target: None,
            raw: false,
            file: None,
            plain: None,
        }
    }

    pub fn on(mut self, target: impl Into<String>) -> Reply {
        self.target = Some(target.into());
        self
    }

    /// A web-dialect batch answer: `{success_num, failed_num}`, except that
    /// a batch of one that failed answers its error.
    pub fn tally(results: Vec<Result<()>>) -> Result<Reply> {
        let single = results.len() == 1;
        let (mut ok, mut failed, mut last) = (0, 0, None);
        for r in results {
            match r {
                Ok(()) => ok += 1,
                Err(e) => {
                    failed += 1;
                    last = Some(e);
                }
            }
        }
        if let (true, Some(e)) = (single, last) {
            return Err(e);
        }
        Ok(Reply::data(
            serde_json::json!({"success_num": ok, "failed_num": failed}),
        ))
    }
}

pub type Handler = fn(Call) -> BoxFuture<'static, Result<Reply>>;
/// Parses and validates a body without acting on it.
pub type Validator = fn(&api::Body) -> Result<()>;
pub type SchemaFn = fn(&mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema;

/// One row of the route table: everything the server, the auth wall, the
/// operation log and the OpenAPI description need to know about a route.
#[derive(Clone)]
pub struct Route {
    pub method: Method,
    pub path: &'static str,
    pub op: &'static str,
    pub summary: &'static str,
    pub tag: &'static str,
    pub public: bool,
    /// A read-only POST (terminal queries) kept out of the operation log.
    pub quiet: bool,
    pub deprecated: bool,
    /// Accepts `"async": true`: the body is checked with this validator at
    /// once, then the handler runs as a task and the reply is a task id.
    pub asyncable: Option<Validator>,
    pub body: Option<SchemaFn>,
    /// The body is handed to the handler as a stream (uploads).
    pub streaming: bool,
    /// A message between a controller and its servers: the caller's
    /// protocol version is checked and the reply names ours.
    pub node_protocol: Option<NodeProtocol>,
    pub handler: Handler,
}

/// How a route takes the node protocol's version header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeProtocol {
    /// Only our own services call it: the header must be there.
    Required,
    /// A documented endpoint others may call without it.
    Optional,
}

fn bearer(req: &Request<State>) -> Option<String> {
    let h = req
        .header("Authorization")?
        .last()
        .as_str()
        .trim()
        .to_string();
    let (scheme, token) = h.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

async fn read_body(req: &mut Request<State>) -> Result<Vec<u8>> {
    if let Some(len) = req.len() {
        if len > BODY_LIMIT {
            return Err(Error::new(
                Code::PayloadTooLarge,
                format!("The body is larger than {BODY_LIMIT} bytes"),
            ));
        }
    }
    let mut buf = Vec::new();
    let body = req.take_body();
    body.take(BODY_LIMIT as u64 + 1)
        .read_to_end(&mut buf)
        .await
        .map_err(|e| {
            Error::new(
                Code::MalformedJson,
                format!("The body could not be read: {e}"),
            )
        })?;
    if buf.len() > BODY_LIMIT {
        return Err(Error::new(
            Code::PayloadTooLarge,
            format!("The body is larger than {BODY_LIMIT} bytes"),
        ));
    }
    Ok(buf)
}

/// The object a request names, for the operation log: `uuid`/`name` at the
/// top, in `param`, or the size of a batch.
fn target_of(body: &api::Body) -> String {
    let Some(v) = &body.json else {
        return String::new();
    };
    let pick = |o: &Value| -> Option<String> {
        let name = o.get("name").and_then(Value::as_str);
        let uuid = o.get("uuid").and_then(Value::as_str);
        match (name, uuid) {
            (Some(n), Some(u)) => Some(format!("{n} ({u})")),
            (Some(n), None) => Some(n.to_string()),
            (None, Some(u)) => Some(u.to_string()),
            (None, None) => None,
        }
    };
    if let Some(t) = pick(v).or_else(|| v.get("param").and_then(pick)) {
        return t;
    }
    if let Some(obj) = v.as_object() {
        for (k, items) in obj {
            if let Some(list) = items.as_array() {
                let names: Vec<String> = list.iter().filter_map(pick).collect();
                if !names.is_empty() {
                    return format!("{k}: {}", names.join(", "));
                }
            }
        }
    }
    String::new()
}

fn via_of(u: &tide::http::Url) -> String {
    match (u.host_str(), u.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        _ => "localhost".into(),
    }
}

fn client_of(req: &Request<State>) -> String {
    req.peer_addr()
        .map(|a| a.rsplit_once(':').map(|x| x.0).unwrap_or(a).to_string())
        .unwrap_or_else(|| "-".into())
}

/// Runs one route for one request.
pub async fn dispatch(route: &Route, req: Request<State>) -> tide::Result {
    let services = req.state().0.clone();
    let t0 = std::time::Instant::now();
    let res = match route.node_protocol {
        None => answer(route, req).await,
        Some(p) => {
            use crate::domain::cluster::{protocol_check_request, PROTOCOL, PROTOCOL_HEADER};
            let sent = req.header(PROTOCOL_HEADER).map(|h| h.last().to_string());
            let mut res = match protocol_check_request(sent.as_deref(), p == NodeProtocol::Optional)
            {
                Ok(()) => answer(route, req).await,
                Err(e) => envelope::err(&e),
            };
            res.insert_header(PROTOCOL_HEADER, PROTOCOL.to_string());
            res
        }
    };
    services.metrics_http_observe(
        route.op,
        route.method.as_str(),
        res.status() as u16,
        t0.elapsed().as_secs_f64(),
    );
    Ok(res)
}

async fn answer(route: &Route, mut req: Request<State>) -> tide::Response {
    let services = req.state().0.clone();
    let client = client_of(&req);
    let token = bearer(&req);
    let actor = if route.public {
        Actor::anonymous(&client)
    } else {
        let checked = match &token {
            None => Err(Error::new(
                Code::Unauthorized,
                "This call needs `Authorization: Bearer <access_token>`; log in at /api/v1/login",
            )),
            Some(t) => services.auth_check(t),
        };
        match checked {
            Ok(name) => Actor { name, client },
            Err(e) => return envelope::err(&e),
        }
    };
    let logged = route.method != Method::Get && !route.quiet;
    if logged && services.is_stopping() {
        return envelope::err(&Error::new(
            Code::ShuttingDown,
            "The service is stopping; retry when it is back",
        ));
    }
    let (mut upload, mut upload_len) = (None, None);
    let body = if route.method == Method::Get {
        Vec::new()
    } else if route.streaming {
        upload_len = req.len().map(|n| n as u64);
        upload = Some(Box::new(req.take_body()) as crate::host::ByteStream);
        Vec::new()
    } else {
        match read_body(&mut req).await {
            Ok(b) => b,
            Err(e) => return envelope::err(&e),
        }
    };
    let (body, wants_async) = match api::Body::read(body) {
        Ok(b) => b,
        Err(e) => return envelope::err(&e),
    };
    let query: Vec<(String, String)> = req
        .url()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let params = ["id"]
        .iter()
        .filter_map(|p| req.param(p).ok().map(|v| (p.to_string(), v.to_string())))
        .collect();
    let target = target_of(&body);
    let mut call = Call {
        services: services.clone(),
        actor: actor.clone(),
        token,
        op: route.op,
        path: req.url().path().to_string(),
        via: via_of(req.url()),
        query,
        params,
        body,
        upload,
        upload_len,
        wants_async,
    };
    // The entry goes in before the change it records (see
    // operation_log_begin), and is completed before the answer.
    let entry = if logged {
        services.operation_log_begin(&actor, route.op, &target)
    } else {
        None
    };
    let result = if let Some(validate) = route.asyncable {
        run_maybe_async(route, validate, &mut call, &target).await
    } else {
        guarded(route.handler, call).await
    };
    if logged {
        let (code, msg, tgt) = match &result {
            Ok(r) => (
                0,
                envelope::OK_MSG.to_string(),
                r.target.clone().unwrap_or_else(|| target.clone()),
            ),
            Err(e) => (
                e.code.number(),
                e.public_message().to_string(),
                target.clone(),
            ),
        };
        services
            .operation_log_finish_durable(entry, &actor, route.op, &tgt, code, &msg)
            .await;
    }
    match result {
        Ok(Reply {
            plain: Some((content_type, text)),
            ..
        }) => {
            let mut res = tide::Response::new(200);
            res.set_body(text);
            res.insert_header("Content-Type", content_type);
            res.insert_ext(envelope::Enveloped);
            res
        }
        Ok(Reply {
            file: Some((len, bytes, name)),
            ..
        }) => {
            let mut res = tide::Response::new(200);
            res.set_body(tide::Body::from_reader(
                smol::io::BufReader::new(bytes),
                Some(len as usize),
            ));
            res.set_content_type("application/octet-stream");
            res.insert_header(
                "Content-Disposition",
                format!("attachment; filename=\"{name}\""),
            );
            res.insert_ext(envelope::Enveloped);
            res
        }
        Ok(r) if r.raw => envelope::raw(r.data),
        Ok(Reply { text: Some(t), .. }) => envelope::ok_text(&t),
        Ok(r) => envelope::ok(r.data),
        Err(e) => envelope::err(&e),
    }
}

/// Runs a handler; a panic (a bug) becomes a 500 with the cause in the log,
/// never a dead worker or a dropped connection.
async fn guarded(handler: Handler, call: Call) -> Result<Reply> {
    let op = call.op;
    match std::panic::AssertUnwindSafe(handler(call))
        .catch_unwind()
        .await
    {
        Ok(r) => r,
        Err(p) => {
            let what = p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Err(Error::internal(format!("handler {op} panicked: {what}")))
        }
    }
}

/// Strips `"async"` from the body; with `true`, validates the body at once,
/// starts the handler as a task and answers `{task_id}`. The task's end is
/// recorded in the operation log too.
async fn run_maybe_async(
    route: &Route,
    validate: Validator,
    call: &mut Call,
    target: &str,
) -> Result<Reply> {
    let wants_async = call.wants_async;
    let handler = route.handler;
    let detached = Call {
        services: call.services.clone(),
        actor: call.actor.clone(),
        token: None,
        op: call.op,
        path: std::mem::take(&mut call.path),
        via: std::mem::take(&mut call.via),
        query: std::mem::take(&mut call.query),
        params: std::mem::take(&mut call.params),
        body: std::mem::take(&mut call.body),
        upload: None,
        upload_len: None,
        wants_async,
    };
    if !wants_async {
        return guarded(handler, detached).await;
    }
    validate(&detached.body)?;
    let services = call.services.clone();
    let input = detached.body.text();
    let (actor, op, tgt) = (call.actor.clone(), route.op, target.to_string());
    let id = services
        .task_spawn(
            &call.actor,
            route.op,
            target,
            input,
            Box::new(move |task| {
                Box::pin(async move {
                    let services = detached.services.clone();
                    let r = guarded(handler, detached).await;
                    let (code, msg, t) = match &r {
                        Ok(rep) => (
                            0,
                            format!("task {} succeeded", task.id),
                            rep.target.clone().unwrap_or(tgt),
                        ),
                        Err(e) => (
                            e.code.number(),
                            format!("task {}: {}", task.id, e.public_message()),
                            tgt,
                        ),
                    };
                    services.operation_log_record(&actor, op, &t, code, &msg);
                    let r = r?;
                    match r.text {
                        Some(t) => Ok(t),
                        None => serde_json::to_string(&r.data).map_err(Error::internal),
                    }
                })
            }),
        )
        .await?;
    let mut reply = Reply::data(json!({ "task_id": id.to_string() })).on(target.to_string());
    reply.note = Some(format!("queued as task {id}"));
    Ok(reply)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boom(_c: Call) -> BoxFuture<'static, Result<Reply>> {
        Box::pin(async { panic!("bug in a handler") })
    }

    #[test]
    fn async_is_taken_out_of_the_body_once() {
        let read = |b: &[u8]| api::Body::read(b.to_vec());
        let (b, a) = read(br#"{"name": "x", "async": true}"#).unwrap();
        assert!(a);
        assert_eq!(b.json, Some(json!({"name": "x"})));
        assert_eq!(b.text(), r#"{"name":"x"}"#, "a task records it without");
        let (b, a) = read(br#"{"name": "x"}"#).unwrap();
        assert_eq!((b.json, a), (Some(json!({"name": "x"})), false));
        let e = read(br#"{"async": "yes"}"#).unwrap_err();
        assert!(e.message.contains("`async`"), "{}", e.message);
        // A body that is not JSON is the handler's to refuse, with the
        // parser's own message.
        let (bad, a) = read(br#"{"async": tru"#).unwrap();
        assert_eq!((bad.json.is_none(), a), (true, false));
        let e = bad.parse::<Value>().unwrap_err();
        assert_eq!(e.code, Code::MalformedJson);
    }

    #[test]
    fn a_panicking_handler_becomes_an_internal_error() {
        let store = std::sync::Arc::new(crate::store::Store::temporary().unwrap());
        let (b, _, _) = crate::app::fake_backends();
        let settings = crate::service::Settings::for_dir(std::env::temp_dir());
        let services = crate::app::services(store, &b, settings, crate::app::global_spawner());
        let call = Call {
            services,
            actor: Actor::anonymous("-"),
            token: None,
            op: "test/boom",
            path: String::new(),
            via: String::new(),
            query: vec![],
            params: vec![],
            body: api::Body::default(),
            upload: None,
            upload_len: None,
            wants_async: false,
        };
        let e = smol::block_on(guarded(boom, call)).err().unwrap();
        assert_eq!(e.code, Code::Internal);
        assert!(
            !e.public_message().contains("bug"),
            "the cause stays in the log"
        );
    }

    #[test]
    fn targets_for_the_log() {
        let target_of = |b: &[u8]| target_of(&api::Body::read(b.to_vec()).unwrap().0);
        assert_eq!(target_of(br#"{"name":"p","uuid":"u"}"#), "p (u)");
        assert_eq!(
            target_of(br#"{"action":"create","param":{"name":"p"}}"#),
            "p"
        );
        assert_eq!(
            target_of(br#"{"resource_pools":[{"uuid":"a"},{"uuid":"b"}]}"#),
            "resource_pools: a, b"
        );
        assert_eq!(target_of(br#"{"password":"secret"}"#), "");
        assert_eq!(target_of(b"not json"), "");
    }
}
