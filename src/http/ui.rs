//! The web pages the service serves itself: the first-boot setup page at
//! `/` until the controller is initialised, then the console. The files
//! are embedded in the binary (`src/ui/`).

use tide::http::mime;
use tide::{Request, Response, StatusCode};

use super::State;

const SETUP_HTML: &str = include_str!("../ui/setup.html");
const SETUP_JS: &str = include_str!("../ui/setup.js");
const SETUP_CSS: &str = include_str!("../ui/setup.css");
const CONSOLE_HTML: &str = include_str!("../ui/console.html");
const CONSOLE_JS: &str = include_str!("../ui/console.js");

fn page(body: &'static str, kind: mime::Mime) -> Response {
    let mut r = Response::new(StatusCode::Ok);
    r.set_content_type(kind);
    r.insert_header("Cache-Control", "no-store");
    r.insert_header("X-Content-Type-Options", "nosniff");
    r.insert_header(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'",
    );
    r.set_body(body);
    r
}

/// `/`: setup until initialised, the console afterwards.
pub async fn index(req: Request<State>) -> tide::Result {
    let initialised = matches!(req.state().0.controller_status(), Ok(Some(_)));
    Ok(page(
        if initialised {
            CONSOLE_HTML
        } else {
            SETUP_HTML
        },
        mime::HTML,
    ))
}

pub async fn asset(req: Request<State>) -> tide::Result {
    let name = req.param("file").unwrap_or("");
    Ok(match name {
        "setup.js" => page(SETUP_JS, mime::JAVASCRIPT),
        "setup.css" => page(SETUP_CSS, mime::CSS),
        "console.js" => page(CONSOLE_JS, mime::JAVASCRIPT),
        _ => Response::new(StatusCode::NotFound),
    })
}

/// Adds the page routes to the app.
pub fn mount(app: &mut tide::Server<State>) {
    app.at("/").get(index);
    app.at("/ui/:file").get(asset);
}
