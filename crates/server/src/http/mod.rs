//! The HTTP layers around the routes, assembled by [`crate::startup`]: the security headers
//! of every response, CORS, and the web app's static files.

pub(crate) mod cors;
pub(crate) mod security_headers;
pub(crate) mod static_files;
