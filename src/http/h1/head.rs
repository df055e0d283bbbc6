//! Request heads: read within the size and time limits, parsed with
//! `httparse`, and turned into a `tide::http::Request` with its framing —
//! or into the error (and status) the client gets before the connection
//! closes.

use std::future::Future;
use std::str::FromStr;
use std::sync::Mutex;
use std::task::Poll;
use std::time::Instant;

use smol::future::poll_fn;
use smol::Timer;
use tide::http::headers::{HeaderName, HeaderValue};
use tide::http::{Method, Request, Url, Version};

use super::conn::{lock, Conn, Framing};
use super::{Limits, HEADERS_MAX, HEAD_MAX};
use crate::error::{Code, Error};

/// A request head, ready for the app.
pub(super) struct Head {
    pub req: Request,
    pub version: Version,
    pub method: Method,
    /// The request's own wish: HTTP/1.1 unless `Connection: close`,
    /// HTTP/1.0 only with `Connection: keep-alive`.
    pub keep_alive: bool,
    pub framing: Framing,
    pub expect_continue: bool,
    /// `CONNECT`'s target (authority form), for the tunnel.
    pub connect: Option<String>,
}

/// Why no request came.
pub(super) enum NoHead {
    /// The client closed or stayed idle: close without a word.
    Gone,
    /// A broken or oversized head: answer this error, then close.
    Bad(Error),
}

fn bad(msg: impl Into<String>) -> NoHead {
    NoHead::Bad(Error::new(Code::MalformedRequest, msg))
}

fn too_large() -> NoHead {
    NoHead::Bad(Error::new(
        Code::RequestHeadTooLarge,
        format!("The request head is larger than {HEAD_MAX} bytes or has more than {HEADERS_MAX} header fields"),
    ))
}

/// Reads the next request head. A connection's first head (and a head
/// once its first byte is in) must be complete within `head_timeout`; a
/// kept-alive connection may idle for `idle_timeout` before that.
pub(super) async fn read(
    conn: &Mutex<Conn>,
    timer: &mut Timer,
    limits: &Limits,
    first: bool,
    host: &str,
) -> Result<Head, NoHead> {
    let now = Instant::now();
    let mut deadline = now
        + if first {
            limits.head_timeout
        } else {
            limits.idle_timeout
        };
    let mut started = first;
    let mut set = false;
    loop {
        {
            let mut c = lock(conn);
            let have = c.buffered();
            if !have.is_empty() {
                let mut headers = [httparse::EMPTY_HEADER; HEADERS_MAX];
                let mut parsed = httparse::Request::new(&mut headers);
                match parsed.parse(have) {
                    Ok(httparse::Status::Complete(n)) if n > HEAD_MAX => return Err(too_large()),
                    Ok(httparse::Status::Complete(n)) => {
                        let head = build(&parsed, host);
                        c.consume(n);
                        return head;
                    }
                    Ok(httparse::Status::Partial) if have.len() >= HEAD_MAX => {
                        return Err(too_large())
                    }
                    Ok(httparse::Status::Partial) => {}
                    Err(httparse::Error::TooManyHeaders) => return Err(too_large()),
                    Err(httparse::Error::Version) => return Err(version_error(have)),
                    Err(e) => return Err(bad(format!("The request head is malformed: {e}"))),
                }
                if !started {
                    started = true;
                    deadline = Instant::now() + limits.head_timeout;
                    set = false;
                }
            }
        }
        if !set {
            timer.set_at(deadline);
            set = true;
        }
        let fill = poll_fn(|cx| lock(conn).poll_fill(cx));
        let timeout = poll_fn(|cx| match std::pin::Pin::new(&mut *timer).poll(cx) {
            Poll::Ready(_) => Poll::Ready(Err(std::io::ErrorKind::TimedOut.into())),
            Poll::Pending => Poll::Pending,
        });
        match smol::future::or(fill, timeout).await {
            Ok(0) => return Err(NoHead::Gone),
            Ok(_) => {}
            Err(e)
                if e.kind() == std::io::ErrorKind::TimedOut
                    && !lock(conn).buffered().is_empty() =>
            {
                return Err(NoHead::Bad(Error::new(
                    Code::RequestTimeout,
                    format!(
                        "The request head did not arrive within {} s",
                        limits.head_timeout.as_secs_f64()
                    ),
                )))
            }
            Err(_) => return Err(NoHead::Gone),
        }
    }
}

/// `HTTP/2.0` and the like get 505; a version that is not one is 400.
fn version_error(have: &[u8]) -> NoHead {
    let line = have
        .split(|b| *b == b'\n')
        .find(|l| !l.is_empty() && *l != b"\r")
        .unwrap_or(have);
    let version = line.split(|b| *b == b' ').nth(2).unwrap_or(b"");
    if version.starts_with(b"HTTP/") && version.get(5).is_some_and(u8::is_ascii_digit) {
        NoHead::Bad(Error::new(
            Code::HttpVersionUnsupported,
            "Only HTTP/1.0 and HTTP/1.1 are served",
        ))
    } else {
        bad("The request line is malformed: bad HTTP version")
    }
}

fn tokens(v: &str) -> impl Iterator<Item = &str> {
    v.split(',').map(str::trim).filter(|t| !t.is_empty())
}

fn valid_host(h: &str) -> bool {
    !h.is_empty()
        && h.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':' | b'[' | b']')
        })
}

/// Turns a parsed head into the request the app gets.
fn build(p: &httparse::Request<'_, '_>, local: &str) -> Result<Head, NoHead> {
    let (Some(m), Some(target), Some(v)) = (p.method, p.path, p.version) else {
        return Err(bad("The request line is malformed"));
    };
    let method = match Method::from_str(m) {
        Ok(method) if m.bytes().all(|b| b.is_ascii_uppercase() || b == b'-') => method,
        _ => {
            return Err(NoHead::Bad(Error::new(
                Code::NotImplemented,
                format!("The HTTP method `{}` is not implemented", clip(m)),
            )))
        }
    };
    let version = if v == 0 {
        Version::Http1_0
    } else {
        Version::Http1_1
    };
    let mut host: Option<&str> = None;
    let mut length: Option<u64> = None;
    let mut codings: Vec<String> = Vec::new();
    let (mut close, mut keep) = (false, false);
    let mut expect_continue = false;
    let mut fields = Vec::with_capacity(p.headers.len());
    for h in p.headers.iter() {
        let value = std::str::from_utf8(h.value)
            .map_err(|_| bad(format!("Header `{}` is not valid UTF-8", clip(h.name))))?;
        if !value.is_ascii() {
            return Err(bad(format!(
                "Header `{}` has characters outside ASCII",
                clip(h.name)
            )));
        }
        let value = value.trim();
        let name = h.name;
        if name.eq_ignore_ascii_case("content-length") {
            let n = value
                .parse::<u64>()
                .ok()
                .filter(|_| value.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| bad("Header `Content-Length` is not a number"))?;
            if length.is_some_and(|l| l != n) {
                return Err(bad(
                    "Header `Content-Length` is given twice with different values",
                ));
            }
            length = Some(n);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            codings.extend(tokens(value).map(str::to_ascii_lowercase));
        } else if name.eq_ignore_ascii_case("connection") {
            for t in tokens(value) {
                close |= t.eq_ignore_ascii_case("close");
                keep |= t.eq_ignore_ascii_case("keep-alive");
            }
        } else if name.eq_ignore_ascii_case("expect") {
            expect_continue |= value.eq_ignore_ascii_case("100-continue");
        } else if name.eq_ignore_ascii_case("host") {
            if host.is_some() {
                return Err(bad("Header `Host` is given more than once"));
            }
            if !value.is_empty() && !valid_host(value) {
                return Err(bad("Header `Host` is not a valid host"));
            }
            host = Some(value);
        }
        let name = HeaderName::from_str(name)
            .map_err(|_| bad(format!("Header name `{}` is invalid", clip(name))))?;
        let value = HeaderValue::from_str(value)
            .map_err(|_| bad(format!("Header `{name}` has an invalid value")))?;
        fields.push((name, value));
    }
    let framing = match (codings.is_empty(), length) {
        (true, None) => Framing::None,
        (true, Some(n)) => Framing::Length(n),
        (false, Some(_)) => {
            return Err(bad(
                "Content-Length together with Transfer-Encoding is refused",
            ))
        }
        (false, None) if codings.len() == 1 && codings[0] == "chunked" => Framing::Chunked,
        (false, None) if codings.last().map(String::as_str) != Some("chunked") => {
            return Err(bad("Header `Transfer-Encoding` must end with `chunked`"))
        }
        (false, None) => {
            return Err(NoHead::Bad(Error::new(
                Code::NotImplemented,
                format!(
                    "Transfer-Encoding `{}` is not implemented; only `chunked` is",
                    clip(&codings.join(", "))
                ),
            )))
        }
    };
    let authority = host.filter(|h| !h.is_empty()).unwrap_or(local);
    let connect = (method == Method::Connect).then(|| target.to_string());
    let url = if connect.is_some() {
        Url::parse(&format!("http://{local}/"))
    } else if target.starts_with('/') {
        Url::parse(&format!("http://{authority}{target}"))
    } else if target == "*" && method == Method::Options {
        Url::parse(&format!("http://{authority}/"))
    } else if target.len() > 8 && target[..7].eq_ignore_ascii_case("http://")
        || target.len() > 9 && target[..8].eq_ignore_ascii_case("https://")
    {
        Url::parse(target)
    } else {
        return Err(bad(format!(
            "The request target `{}` is not a path",
            clip(target)
        )));
    }
    .map_err(|e| {
        bad(format!(
            "The request target `{}` is invalid: {e}",
            clip(target)
        ))
    })?;
    let mut req = Request::new(method, url);
    req.set_version(Some(version));
    for (name, value) in fields {
        req.append_header(name, value);
    }
    let keep_alive = match version {
        Version::Http1_0 => keep && !close,
        _ => !close,
    };
    Ok(Head {
        req,
        version,
        method,
        keep_alive,
        framing,
        expect_continue: expect_continue && version == Version::Http1_1,
        connect,
    })
}

/// At most 64 characters of client text in a message.
pub(super) fn clip(s: &str) -> String {
    if s.len() <= 64 {
        s.to_string()
    } else {
        let mut end = 64;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &s[..end])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(raw: &str) -> Result<Head, NoHead> {
        let mut headers = [httparse::EMPTY_HEADER; HEADERS_MAX];
        let mut p = httparse::Request::new(&mut headers);
        match p.parse(raw.as_bytes()) {
            Ok(httparse::Status::Complete(_)) => build(&p, "127.0.0.1:1"),
            Err(httparse::Error::Version) => Err(version_error(raw.as_bytes())),
            r => panic!("{r:?}"),
        }
    }

    fn code(r: Result<Head, NoHead>) -> (Code, String) {
        match r {
            Err(NoHead::Bad(e)) => (e.code, e.message),
            Err(NoHead::Gone) => panic!("gone"),
            Ok(h) => panic!("accepted {}", h.req.url()),
        }
    }

    #[test]
    fn framing_and_keep_alive() {
        let h = head("POST /a?b=1 HTTP/1.1\r\nHost: x:8\r\nContent-Length: 12\r\n\r\n")
            .ok()
            .unwrap();
        assert_eq!(h.framing, Framing::Length(12));
        assert!(h.keep_alive);
        assert_eq!(h.req.url().as_str(), "http://x:8/a?b=1");
        let h = head("POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\nConnection: close\r\n\r\n")
            .ok()
            .unwrap();
        assert_eq!(h.framing, Framing::Chunked);
        assert!(!h.keep_alive);
        assert_eq!(h.req.url().as_str(), "http://127.0.0.1:1/");
        let h = head("GET / HTTP/1.0\r\n\r\n").ok().unwrap();
        assert!(!h.keep_alive);
        assert_eq!(h.version, Version::Http1_0);
        let h = head("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")
            .ok()
            .unwrap();
        assert!(h.keep_alive);
    }

    #[test]
    fn refusals_name_the_problem() {
        let (c, m) = code(head(
            "GET / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
        ));
        assert_eq!(c, Code::MalformedRequest);
        assert!(
            m.contains("Content-Length together with Transfer-Encoding"),
            "{m}"
        );
        let (c, m) = code(head("GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"));
        assert_eq!(c, Code::MalformedRequest);
        assert!(m.contains("Content-Length"), "{m}");
        let (c, _) = code(head(
            "GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        ));
        assert_eq!(c, Code::MalformedRequest);
        let (c, m) = code(head("BREW / HTTP/1.1\r\n\r\n"));
        assert_eq!(c, Code::NotImplemented);
        assert!(m.contains("BREW"), "{m}");
        let (c, _) = code(head("GET / HTTP/2.0\r\n\r\n"));
        assert_eq!(c, Code::HttpVersionUnsupported);
        let (c, _) = code(head("GET / HTTQ/1.1\r\n\r\n"));
        assert_eq!(c, Code::MalformedRequest);
        let (c, m) = code(head(
            "GET / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        ));
        assert_eq!(c, Code::NotImplemented);
        assert!(m.contains("gzip"), "{m}");
        let (c, _) = code(head(
            "GET / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
        ));
        assert_eq!(c, Code::MalformedRequest);
        let (c, m) = code(head("GET / HTTP/1.1\r\nX-Name: caf\u{e9}\r\n\r\n"));
        assert_eq!(c, Code::MalformedRequest);
        assert!(m.contains("X-Name"), "{m}");
        let (c, _) = code(head("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"));
        assert_eq!(c, Code::MalformedRequest);
        let (c, _) = code(head("GET nopath HTTP/1.1\r\n\r\n"));
        assert_eq!(c, Code::MalformedRequest);
    }
}
