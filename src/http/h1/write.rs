//! Responses on the wire: the status line, the app's headers, `Date`,
//! framing (Content-Length when the length is known, else chunked for
//! HTTP/1.1 or the connection's end for HTTP/1.0), no body for HEAD, and
//! every write bounded by the write timeout.

use std::cell::RefCell;
use std::future::Future;
use std::io::{self, Write as _};
use std::net::TcpStream;
use std::pin::Pin;
use std::task::Poll;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use smol::future::poll_fn;
use smol::io::{AsyncReadExt, AsyncWriteExt};
use smol::{Async, Timer};
use tide::http::Response;

/// Bytes gathered before a write.
const CHUNK: usize = 64 * 1024;

/// The socket side that writes replies.
pub(super) struct Writer<'a> {
    pub io: &'a Async<TcpStream>,
    pub timer: &'a mut Timer,
    pub timeout: Duration,
}

impl Writer<'_> {
    /// Writes all of `buf`, failing with `TimedOut` if the peer takes no
    /// bytes for the write timeout.
    pub async fn send(&mut self, buf: &[u8]) -> io::Result<()> {
        if buf.is_empty() {
            return Ok(());
        }
        let mut io = self.io;
        let mut sent = 0;
        while sent < buf.len() {
            self.timer.set_after(self.timeout);
            let timer = &mut *self.timer;
            let write = io.write(&buf[sent..]);
            let timeout = poll_fn(|cx| match Pin::new(&mut *timer).poll(cx) {
                Poll::Ready(_) => Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the client takes no bytes",
                ))),
                Poll::Pending => Poll::Pending,
            });
            match smol::future::or(write, timeout).await? {
                0 => return Err(io::ErrorKind::WriteZero.into()),
                n => sent += n,
            }
        }
        Ok(())
    }

    /// Writes `res` (after `prefix`, the rest of a `100 Continue`). Returns
    /// whether the connection may carry another request: not when `keep`
    /// is false, the app said `Connection: close`, or the body's end is the
    /// connection's end.
    pub async fn response(
        &mut self,
        mut res: Response,
        prefix: &[u8],
        head_only: bool,
        http10: bool,
        keep: bool,
    ) -> io::Result<bool> {
        let status = res.status();
        let code = status as u16;
        let bodyless = code < 200 || code == 204 || code == 304;
        let mut body = res.take_body();
        let len = body.len();
        let mut keep = keep
            && !res
                .header("connection")
                .is_some_and(|v| v.iter().any(|v| v.as_str().eq_ignore_ascii_case("close")));
        let chunked = !bodyless && len.is_none() && !http10;
        if !bodyless && len.is_none() && http10 {
            keep = false;
        }
        let small = if head_only || bodyless {
            0
        } else {
            len.unwrap_or(CHUNK).min(CHUNK)
        };
        let mut out = Vec::with_capacity(prefix.len() + 256 + small);
        out.extend_from_slice(prefix);
        write!(out, "HTTP/1.1 {code} {}\r\n", status.canonical_reason())?;
        for (name, values) in res.iter() {
            let n = name.as_str();
            if matches!(
                n,
                "content-length" | "transfer-encoding" | "connection" | "date"
            ) {
                continue;
            }
            for v in values.iter() {
                // A line break in a value would start a header of its own.
                let v = v.as_str();
                if v.contains(['\r', '\n']) {
                    write!(out, "{n}: {}\r\n", v.replace(['\r', '\n'], " "))?;
                } else {
                    write!(out, "{n}: {v}\r\n")?;
                }
            }
        }
        with_date(|d| out.extend_from_slice(d));
        if !bodyless {
            match len {
                Some(l) => write!(out, "content-length: {l}\r\n")?,
                None if chunked => out.extend_from_slice(b"transfer-encoding: chunked\r\n"),
                None => {}
            }
        }
        if !keep {
            out.extend_from_slice(b"connection: close\r\n");
        } else if http10 {
            out.extend_from_slice(b"connection: keep-alive\r\n");
        }
        out.extend_from_slice(b"\r\n");
        if head_only || bodyless {
            self.send(&out).await?;
            return Ok(keep);
        }
        match len {
            Some(total) => {
                let mut left = total;
                while left > 0 {
                    let n = fill(&mut body, &mut out, left.min(CHUNK)).await?;
                    if n == 0 {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "the reply body is shorter than its length",
                        ));
                    }
                    left -= n;
                    if out.len() >= CHUNK || left == 0 {
                        self.send(&out).await?;
                        out.clear();
                    }
                }
                self.send(&out).await?;
            }
            None => loop {
                let mut data = Vec::new();
                let n = fill(&mut body, &mut data, CHUNK).await?;
                if chunked && n > 0 {
                    write!(out, "{n:x}\r\n")?;
                    out.extend_from_slice(&data);
                    out.extend_from_slice(b"\r\n");
                } else if n > 0 {
                    out.extend_from_slice(&data);
                } else if chunked {
                    out.extend_from_slice(b"0\r\n\r\n");
                }
                if n == 0 || out.len() >= CHUNK {
                    self.send(&out).await?;
                    out.clear();
                }
                if n == 0 {
                    break;
                }
            },
        }
        Ok(keep)
    }
}

/// Reads up to `max` bytes of `body` onto the end of `out`; 0 at its end.
async fn fill(body: &mut tide::http::Body, out: &mut Vec<u8>, max: usize) -> io::Result<usize> {
    let start = out.len();
    out.resize(start + max, 0);
    let r = body.read(&mut out[start..]).await;
    let n = *r.as_ref().unwrap_or(&0);
    out.truncate(start + n);
    r
}

thread_local! {
    static DATE: RefCell<(u64, Vec<u8>)> = const { RefCell::new((u64::MAX, Vec::new())) };
}

/// Hands `f` the `date: …\r\n` line of the current second.
fn with_date(f: impl FnOnce(&[u8])) {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    DATE.with(|d| {
        let mut d = d.borrow_mut();
        if d.0 != secs {
            *d = (secs, format!("date: {}\r\n", http_date(secs)).into_bytes());
        }
        f(&d.1)
    })
}

/// `Sun, 06 Nov 1994 08:49:37 GMT` for seconds since the epoch.
fn http_date(secs: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = secs / 86400;
    let rem = secs % 86400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        DAYS[(days % 7) as usize],
        day,
        MONTHS[(month - 1) as usize],
        year,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::http_date;

    #[test]
    fn dates_are_imf_fixdate() {
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(http_date(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT");
        assert_eq!(http_date(1_709_251_199), "Thu, 29 Feb 2024 23:59:59 GMT");
    }
}
