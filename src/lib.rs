//! Colloque: secure patient–doctor messaging, as a Yew single-page app.
//!
//! - [`app`]: routes and the provider tree;
//! - [`services`]: the only code that touches the network (REST and the WebSocket);
//! - [`hooks`]: shared state (session, messaging) exposed as hooks with intent methods;
//! - [`components`] and [`pages`]: the UI; every string goes through [`i18n`].

pub mod app;
pub mod care;
pub mod components;
pub mod config;
pub mod crypto;
pub mod hooks;
pub mod i18n;
pub mod pages;
pub mod red_flags;
pub mod route;
pub mod router;
pub mod second_build;
pub mod services;
pub mod session;
pub mod shell;
pub mod small_sort;
pub mod templates;
pub mod text;
pub mod time;
pub mod vec_map;
