//! The game's web page and the browser client it loads, compiled into the binary.

use nano_examples::web_page::{CSS, HTML, JAVASCRIPT, JS_CLIENT, PageFile};

/// The page's own files.
const FILES: [PageFile; 3] = [
    PageFile {
        path: "/",
        body: include_str!("web/index.html"),
        content_type: HTML,
    },
    PageFile {
        path: "/style.css",
        body: include_str!("web/style.css"),
        content_type: CSS,
    },
    PageFile {
        path: "/app.js",
        body: include_str!("web/app.js"),
        content_type: JAVASCRIPT,
    },
];

/// Everything the page needs: its files and nano-rs's JS client.
pub(crate) fn files() -> Vec<PageFile> {
    FILES.into_iter().chain(JS_CLIENT).collect()
}
