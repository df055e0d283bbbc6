//! The read side of one connection: its bounded buffer (request heads and
//! pipelined bytes), the framing of the current request body (Content-Length
//! or chunked), the `100 Continue` it owes, and the body reader handed to
//! the app. Reads time out after a stretch without a byte; a body that ends
//! before its framing says is `UnexpectedEof`, never a clean end.

use std::future::Future;
use std::io;
use std::net::TcpStream;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{ready, Context, Poll};
use std::time::Duration;

use smol::io::{AsyncRead, AsyncWrite};
use smol::{Async, Timer};

use super::{CHUNK_LINE_MAX, HEAD_MAX};

/// The read buffer: holds a whole head (at most `HEAD_MAX`) and the bytes a
/// client pipelined after it.
const BUF_SIZE: usize = 16 * 1024;
/// A caller's buffer at least this large is read into directly.
const DIRECT_MIN: usize = 4096;
const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// How the request body is delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Framing {
    None,
    Length(u64),
    Chunked,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Body {
    Done,
    Length(u64),
    ChunkSize,
    ChunkData(u64),
    ChunkEnd,
    Trailers(usize),
    Failed(io::ErrorKind),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Continue {
    No,
    /// Owed; this many bytes of it written so far.
    Owed(usize),
    Sent,
}

/// The socket with a reusable timer: a read or write that makes no progress
/// for `idle` fails with `TimedOut`.
pub(super) struct Sock {
    pub io: Arc<Async<TcpStream>>,
    timer: Timer,
    armed: bool,
    idle: Duration,
}

impl Sock {
    fn wait(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        if !self.armed {
            self.timer.set_after(self.idle);
            self.armed = true;
        }
        match Pin::new(&mut self.timer).poll(cx) {
            Poll::Ready(_) => {
                self.armed = false;
                Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("no byte for {} ms", self.idle.as_millis()),
                )))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn poll_read(&mut self, cx: &mut Context<'_>, dst: &mut [u8]) -> Poll<io::Result<usize>> {
        match Pin::new(&mut &*self.io).poll_read(cx, dst) {
            Poll::Pending => self.wait(cx),
            r => {
                self.armed = false;
                r
            }
        }
    }

    fn poll_write(&mut self, cx: &mut Context<'_>, src: &[u8]) -> Poll<io::Result<usize>> {
        match Pin::new(&mut &*self.io).poll_write(cx, src) {
            Poll::Pending => self.wait(cx),
            r => {
                self.armed = false;
                r
            }
        }
    }
}

/// What the request body looked like when the app was done with it.
pub(super) struct BodyEnd {
    /// The body was read to its end (or there was none).
    pub complete: bool,
    /// Reading it failed (timeout, truncation, bad framing): the
    /// connection cannot carry another request.
    pub failed: bool,
    /// `100 Continue` was owed and not a byte of it sent: the client may
    /// still be waiting to send the body.
    pub continue_unsent: bool,
    /// Part of `100 Continue` was written; the rest goes before the reply.
    pub continue_rest: &'static [u8],
    /// Bytes left of a Content-Length body.
    pub left: Option<u64>,
}

/// The read state of one connection, shared with the body reader.
pub(super) struct Conn {
    pub sock: Sock,
    buf: Box<[u8]>,
    pos: usize,
    end: usize,
    body: Body,
    cont: Continue,
    /// Bumped when a request is over; a body reader of an older request
    /// fails instead of stealing the next request's bytes.
    gen: u64,
    rate: Rate,
}

/// How fast the current body arrives, from the app's first read of it.
struct Rate {
    min: u64,
    grace: Duration,
    since: Option<std::time::Instant>,
    bytes: u64,
}

impl Rate {
    /// Counts `n` more bytes; an error once the body is too slow.
    fn add(&mut self, n: usize) -> io::Result<()> {
        self.bytes += n as u64;
        let Some(t0) = self.since else { return Ok(()) };
        let took = t0.elapsed();
        if took > self.grace && (self.bytes as f64) < self.min as f64 * took.as_secs_f64() {
            return Err(fail(
                io::ErrorKind::TimedOut,
                &format!(
                    "the body arrives slower than {} bytes/s ({} bytes in {} ms)",
                    self.min,
                    self.bytes,
                    took.as_millis()
                ),
            ));
        }
        Ok(())
    }
}

pub(super) type Shared = Arc<Mutex<Conn>>;

pub(super) fn lock(c: &Mutex<Conn>) -> MutexGuard<'_, Conn> {
    c.lock().unwrap_or_else(|e| e.into_inner())
}

fn fail(kind: io::ErrorKind, msg: &str) -> io::Error {
    io::Error::new(kind, msg.to_string())
}

impl Conn {
    pub fn new(io: Arc<Async<TcpStream>>, limits: &super::Limits) -> Conn {
        Conn {
            sock: Sock {
                io,
                timer: Timer::never(),
                armed: false,
                idle: limits.body_timeout,
            },
            rate: Rate {
                min: limits.body_min_rate,
                grace: limits.body_rate_grace,
                since: None,
                bytes: 0,
            },
            buf: vec![0u8; BUF_SIZE].into_boxed_slice(),
            pos: 0,
            end: 0,
            body: Body::Done,
            cont: Continue::No,
            gen: 0,
        }
    }

    pub fn buffered(&self) -> &[u8] {
        &self.buf[self.pos..self.end]
    }

    pub fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.end);
        if self.pos == self.end {
            self.pos = 0;
            self.end = 0;
        }
    }

    /// Reads more bytes into the buffer without a timeout of its own (the
    /// head reader keeps an absolute deadline). `Ok(0)` is the peer's end.
    pub fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        if !self.make_room() {
            return Poll::Ready(Err(fail(io::ErrorKind::InvalidData, "read buffer full")));
        }
        let n = ready!(Pin::new(&mut &*self.sock.io).poll_read(cx, &mut self.buf[self.end..]))?;
        self.end += n;
        Poll::Ready(Ok(n))
    }

    /// `poll_fill` with the body timeout.
    fn poll_fill_timed(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        if !self.make_room() {
            return Poll::Ready(Err(fail(io::ErrorKind::InvalidData, "read buffer full")));
        }
        let n = ready!(self.sock.poll_read(cx, &mut self.buf[self.end..]))?;
        self.end += n;
        Poll::Ready(Ok(n))
    }

    /// Moves buffered bytes to the front when the tail is full; false if
    /// the buffer is full of unconsumed bytes (the callers' limits are
    /// smaller, so this does not happen).
    fn make_room(&mut self) -> bool {
        if self.end == self.buf.len() && self.pos > 0 {
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
        }
        self.end < self.buf.len()
    }

    /// Sets up the body of the request whose head was just read; returns
    /// the generation its reader must carry.
    pub fn start_body(&mut self, framing: Framing, expect_continue: bool) -> u64 {
        self.body = match framing {
            Framing::None | Framing::Length(0) => Body::Done,
            Framing::Length(n) => Body::Length(n),
            Framing::Chunked => Body::ChunkSize,
        };
        self.rate.since = None;
        self.rate.bytes = 0;
        self.cont = if expect_continue && self.body != Body::Done {
            Continue::Owed(0)
        } else {
            Continue::No
        };
        self.gen
    }

    /// The app answered: readers of this request stop working; says how
    /// far the body got.
    pub fn finish(&mut self) -> BodyEnd {
        self.gen += 1;
        let (continue_unsent, continue_rest) = match self.cont {
            Continue::Owed(0) => (true, &CONTINUE[..0]),
            Continue::Owed(n) => (false, &CONTINUE[n..]),
            _ => (false, &CONTINUE[..0]),
        };
        if !continue_rest.is_empty() {
            self.cont = Continue::Sent;
        }
        BodyEnd {
            complete: self.body == Body::Done,
            failed: matches!(self.body, Body::Failed(_)),
            continue_unsent,
            continue_rest,
            left: match self.body {
                Body::Length(n) => Some(n),
                _ => None,
            },
        }
    }

    fn set_failed(&mut self, e: io::Error) -> Poll<io::Result<usize>> {
        self.body = Body::Failed(e.kind());
        Poll::Ready(Err(e))
    }

    /// Reads body bytes into `out`; `Ok(0)` only at the body's real end.
    pub fn poll_body(&mut self, cx: &mut Context<'_>, out: &mut [u8]) -> Poll<io::Result<usize>> {
        if out.is_empty() {
            return Poll::Ready(Ok(0));
        }
        self.rate.since.get_or_insert_with(std::time::Instant::now);
        while let Continue::Owed(n) = self.cont {
            match ready!(self.sock.poll_write(cx, &CONTINUE[n..])) {
                Ok(0) => return self.set_failed(fail(io::ErrorKind::WriteZero, "peer gone")),
                Ok(w) if n + w == CONTINUE.len() => self.cont = Continue::Sent,
                Ok(w) => self.cont = Continue::Owed(n + w),
                Err(e) => return self.set_failed(e),
            }
        }
        loop {
            match self.body {
                Body::Done => return Poll::Ready(Ok(0)),
                Body::Failed(kind) => {
                    return Poll::Ready(Err(fail(kind, "the request body already failed")))
                }
                Body::Length(left) => {
                    let n = ready!(self.poll_data(cx, out, left))?;
                    if let Err(e) = self.rate.add(n) {
                        return self.set_failed(e);
                    }
                    self.body = if n as u64 == left {
                        Body::Done
                    } else {
                        Body::Length(left - n as u64)
                    };
                    return Poll::Ready(Ok(n));
                }
                Body::ChunkData(left) => {
                    let n = ready!(self.poll_data(cx, out, left))?;
                    if let Err(e) = self.rate.add(n) {
                        return self.set_failed(e);
                    }
                    self.body = if n as u64 == left {
                        Body::ChunkEnd
                    } else {
                        Body::ChunkData(left - n as u64)
                    };
                    return Poll::Ready(Ok(n));
                }
                Body::ChunkSize => {
                    let line = ready!(self.poll_line(cx))?;
                    let size = match parse_chunk_size(&self.buf[self.pos..self.pos + line]) {
                        Some(s) => s,
                        None => {
                            return self.set_failed(fail(
                                io::ErrorKind::InvalidData,
                                "bad chunk size line in the chunked body",
                            ))
                        }
                    };
                    self.consume(line);
                    self.body = if size == 0 {
                        Body::Trailers(0)
                    } else {
                        Body::ChunkData(size)
                    };
                }
                Body::ChunkEnd => {
                    let line = ready!(self.poll_line(cx))?;
                    if !matches!(&self.buf[self.pos..self.pos + line], b"\r\n" | b"\n") {
                        return self.set_failed(fail(
                            io::ErrorKind::InvalidData,
                            "a chunk is longer than its size line says",
                        ));
                    }
                    self.consume(line);
                    self.body = Body::ChunkSize;
                }
                Body::Trailers(seen) => {
                    // Trailer fields are read and ignored, within the head limit.
                    let line = ready!(self.poll_line(cx))?;
                    let blank = matches!(&self.buf[self.pos..self.pos + line], b"\r\n" | b"\n");
                    self.consume(line);
                    if blank {
                        self.body = Body::Done;
                    } else if seen + line > HEAD_MAX {
                        return self.set_failed(fail(
                            io::ErrorKind::InvalidData,
                            "the chunked body's trailer is too large",
                        ));
                    } else {
                        self.body = Body::Trailers(seen + line);
                    }
                }
            }
        }
    }

    /// Up to `left` bytes of data: from the buffer, or straight from the
    /// socket into `out` when the buffer is empty and `out` is large.
    fn poll_data(
        &mut self,
        cx: &mut Context<'_>,
        out: &mut [u8],
        left: u64,
    ) -> Poll<io::Result<usize>> {
        let max = out.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        loop {
            let have = self.end - self.pos;
            if have > 0 {
                let n = have.min(max);
                out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
                self.consume(n);
                return Poll::Ready(Ok(n));
            }
            let eof = || {
                fail(
                    io::ErrorKind::UnexpectedEof,
                    "the client closed the connection before the end of the body",
                )
            };
            if max >= DIRECT_MIN {
                return match ready!(self.sock.poll_read(cx, &mut out[..max])) {
                    Ok(0) => self.set_failed(eof()),
                    Ok(n) => Poll::Ready(Ok(n)),
                    Err(e) => self.set_failed(e),
                };
            }
            match ready!(self.poll_fill_timed(cx)) {
                Ok(0) => return self.set_failed(eof()),
                Ok(_) => {}
                Err(e) => return self.set_failed(e),
            }
        }
    }

    /// Waits until the buffer holds a whole line (within `CHUNK_LINE_MAX`);
    /// its length with the newline.
    fn poll_line(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        loop {
            let have = &self.buf[self.pos..self.end];
            if let Some(i) = memchr::memchr(b'\n', have) {
                return Poll::Ready(Ok(i + 1));
            }
            if have.len() >= CHUNK_LINE_MAX {
                return self.set_failed(fail(
                    io::ErrorKind::InvalidData,
                    "a line of the chunked body is too long",
                ));
            }
            match ready!(self.poll_fill_timed(cx)) {
                Ok(0) => {
                    return self.set_failed(fail(
                        io::ErrorKind::UnexpectedEof,
                        "the client closed the connection before the last chunk",
                    ))
                }
                Ok(_) => {}
                Err(e) => return self.set_failed(e),
            }
        }
    }
}

/// The hex size at the start of a chunk-size line (extensions ignored).
fn parse_chunk_size(line: &[u8]) -> Option<u64> {
    let line = line.strip_suffix(b"\n")?;
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let end = line
        .iter()
        .position(|b| *b == b';' || *b == b' ' || *b == b'\t')
        .unwrap_or(line.len());
    let digits = &line[..end];
    if digits.is_empty() || digits.len() > 15 {
        return None;
    }
    let mut size = 0u64;
    for d in digits {
        size = size * 16 + (*d as char).to_digit(16)? as u64;
    }
    Some(size)
}

/// The request body the app reads: one request's view of the connection.
pub(super) struct BodyReader {
    pub conn: Shared,
    pub gen: u64,
}

impl AsyncRead for BodyReader {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut c = lock(&self.conn);
        if c.gen != self.gen {
            return Poll::Ready(Err(fail(
                io::ErrorKind::Other,
                "the request is over; its body can no longer be read",
            )));
        }
        c.poll_body(cx, out)
    }
}

#[cfg(test)]
mod tests {
    use super::parse_chunk_size;

    #[test]
    fn chunk_size_lines() {
        assert_eq!(parse_chunk_size(b"1a\r\n"), Some(26));
        assert_eq!(parse_chunk_size(b"0\r\n"), Some(0));
        assert_eq!(parse_chunk_size(b"FF;name=v\r\n"), Some(255));
        assert_eq!(parse_chunk_size(b"10\n"), Some(16));
        assert_eq!(parse_chunk_size(b"\r\n"), None);
        assert_eq!(parse_chunk_size(b"x1\r\n"), None);
        assert_eq!(parse_chunk_size(b"1234567890abcdef\r\n"), None);
        assert_eq!(parse_chunk_size(b"10"), None);
    }
}
