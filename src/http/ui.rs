//! The console the service serves itself: `/` is the single-page app (the
//! first-boot setup until the controller is initialised, then sign in and
//! the console), `/assets/<hashed name>` its bundles, fonts and images.
//! The files are built by `make ui` and embedded by `build.rs`, each with
//! precompressed gzip and brotli twins chosen by `Accept-Encoding`.

use tide::{Request, Response, StatusCode};

use super::State;

/// One embedded file of the built console.
pub struct Asset {
    pub path: &'static str,
    pub body: &'static [u8],
    pub gzip: Option<&'static [u8]>,
    pub br: Option<&'static [u8]>,
}

include!(concat!(env!("OUT_DIR"), "/ui_assets.rs"));

const CSP: &str = "default-src 'self'; img-src 'self' data:; media-src 'self' blob:; style-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const NOT_BUILT: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>vdi-appliance</title></head><body><h1>The console is not built into this binary</h1><p>Build it with <code>make ui</code> (Node.js and npm fetch its packages), then build the service again (<code>make build</code> does both). The API at <code>/api/</code> works without it.</p></body></html>";

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "ttf" => "font/ttf",
        "png" => "image/png",
        "json" => "application/json",
        _ => "application/octet-stream",
    }
}

/// Whether the client's `Accept-Encoding` admits `coding` (q=0 refuses).
fn accepts(header: &str, coding: &str) -> bool {
    header.split(',').any(|part| {
        let mut it = part.split(';');
        let name = it.next().unwrap_or("").trim();
        let refused = it.any(|p| {
            let p = p.trim();
            p.strip_prefix("q=")
                .and_then(|q| q.trim().parse::<f32>().ok())
                == Some(0.0)
        });
        name.eq_ignore_ascii_case(coding) && !refused
    })
}

fn serve(req: &Request<State>, asset: &Asset, immutable: bool) -> Response {
    let mut r = Response::new(StatusCode::Ok);
    let ae = req
        .header("Accept-Encoding")
        .map(|v| v.as_str().to_string())
        .unwrap_or_default();
    let (body, coding) = match (asset.br, asset.gzip) {
        (Some(b), _) if accepts(&ae, "br") => (b, Some("br")),
        (_, Some(g)) if accepts(&ae, "gzip") => (g, Some("gzip")),
        _ => (asset.body, None),
    };
    if let Some(c) = coding {
        r.insert_header("Content-Encoding", c);
    }
    if asset.br.is_some() || asset.gzip.is_some() {
        r.insert_header("Vary", "Accept-Encoding");
    }
    r.insert_header("Content-Type", content_type(asset.path));
    r.insert_header(
        "Cache-Control",
        if immutable {
            "public, max-age=31536000, immutable"
        } else {
            "no-store"
        },
    );
    r.insert_header("X-Content-Type-Options", "nosniff");
    r.set_body(body);
    r
}

fn find(path: &str) -> Option<&'static Asset> {
    UI_ASSETS.iter().find(|a| a.path == path)
}

/// `/`: the console's page (never cached, so a new build is picked up).
pub async fn index(req: Request<State>) -> tide::Result {
    let mut r = match find("index.html") {
        Some(a) if UI_BUILT => serve(&req, a, false),
        _ => {
            let mut r = Response::new(StatusCode::Ok);
            r.insert_header("Content-Type", "text/html; charset=utf-8");
            r.insert_header("Cache-Control", "no-store");
            r.set_body(NOT_BUILT);
            r
        }
    };
    r.insert_header("Content-Security-Policy", CSP);
    r.insert_header("X-Frame-Options", "DENY");
    r.insert_header("Referrer-Policy", "no-referrer");
    Ok(r)
}

/// `/assets/<file>`: content-hashed names, cached for a year.
pub async fn asset(req: Request<State>) -> tide::Result {
    let name = req.param("file").unwrap_or("");
    Ok(match find(&format!("assets/{name}")) {
        Some(a) => serve(&req, a, true),
        None => Response::new(StatusCode::NotFound),
    })
}

/// Adds the page routes to the app.
pub fn mount(app: &mut tide::Server<State>) {
    app.at("/").get(index);
    app.at("/assets/:file").get(asset);
}

#[cfg(test)]
mod tests {
    use super::accepts;

    #[test]
    fn accept_encoding_is_read_with_its_weights() {
        assert!(accepts("gzip, deflate, br", "br"));
        assert!(accepts("gzip;q=0.5", "gzip"));
        assert!(!accepts("gzip;q=0, br", "gzip"));
        assert!(!accepts("identity", "gzip"));
        assert!(!accepts("", "br"));
        assert!(accepts("BR", "br"));
    }
}
