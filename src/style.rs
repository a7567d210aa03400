//! The app's global look: calm colours with WCAG AA contrast (body text ≈ 14:1, links and
//! buttons ≥ 4.5:1), a visible focus ring on every control, and a layout that holds from
//! 360 px phones to desktops. Component-specific layout uses `use_style!` next to its markup.
//! No `style="…"` attributes anywhere: the CSP forbids inline styles, so every rule lives here
//! or in a `use_style!`, and reaches the page through [`crate::style_bridge`].

use stylist::css;
use stylist::yew::Global;
use yew::prelude::*;

/// Installs the global style sheet (a plain function: it has no state of its own).
pub fn global_styles() -> Html {
    html! {
        <Global css={css!(r#"
            --ink: #1c2530;
            --muted: #4a5563;
            --line: #cfd6de;
            --paper: #ffffff;
            --ground: #f3f5f8;
            --accent: #0a57a3;
            --accent-ink: #ffffff;
            --accent-soft: #e3eef9;
            --alert: #a1261b;
            --alert-soft: #fbeae8;
            --ok: #1d6b3a;
            --focus: #d4480b;

            font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
            font-size: 100%;
            line-height: 1.5;
            color: var(--ink);
            background: var(--ground);

            body { margin: 0; }
            *, *::before, *::after { box-sizing: border-box; }
            a { color: var(--accent); }
            h1 { font-size: 1.5rem; margin: 0 0 1rem; }
            h2 { font-size: 1.2rem; margin: 0 0 .75rem; }

            :focus-visible {
                outline: 3px solid var(--focus);
                outline-offset: 2px;
            }

            button, .button {
                font: inherit;
                min-height: 2.5rem;
                padding: .4rem .9rem;
                border-radius: .5rem;
                border: 1px solid var(--accent);
                background: var(--accent);
                color: var(--accent-ink);
                cursor: pointer;
                display: inline-flex;
                align-items: center;
                gap: .4rem;
                text-decoration: none;
            }
            button.secondary, .button.secondary {
                background: var(--paper);
                color: var(--accent);
            }
            button:disabled {
                opacity: .6;
                cursor: not-allowed;
            }
            input, textarea {
                font: inherit;
                color: var(--ink);
                background: var(--paper);
                border: 1px solid var(--muted);
                border-radius: .4rem;
                padding: .5rem .6rem;
                width: 100%;
            }
            label { font-weight: 600; }

            .visually-hidden {
                position: absolute !important;
                width: 1px; height: 1px;
                padding: 0; margin: -1px;
                overflow: hidden;
                clip: rect(0, 0, 0, 0);
                white-space: nowrap;
                border: 0;
            }
            .skip-link {
                position: absolute;
                left: -999px;
                top: .5rem;
                background: var(--paper);
                padding: .5rem;
                z-index: 10;
            }
            .skip-link:focus { left: .5rem; }

            .app-header {
                background: var(--paper);
                border-bottom: 1px solid var(--line);
                padding: .5rem .75rem;
                display: flex;
                flex-wrap: wrap;
                align-items: center;
                gap: .5rem .75rem;
            }
            .brand {
                font-weight: 700;
                font-size: 1.15rem;
                color: var(--ink);
                text-decoration: none;
                margin-right: auto;
            }
            .app-nav ul {
                list-style: none;
                display: flex;
                flex-wrap: wrap;
                gap: .25rem .9rem;
                margin: 0;
                padding: 0;
            }
            .app-nav a[aria-current="page"] { font-weight: 700; }
            .menu-tools {
                display: flex;
                flex-wrap: wrap;
                align-items: center;
                gap: .5rem;
            }
            .menu-toggle {
                min-width: 2.75rem;
                min-height: 2.75rem;
                padding: .5rem;
                display: inline-flex;
                align-items: center;
                justify-content: center;
            }
            .menu-icon, .menu-icon::before, .menu-icon::after {
                display: block;
                width: 1.25rem;
                height: 2px;
                border-radius: 1px;
                background: currentColor;
            }
            .menu-icon { position: relative; }
            .menu-icon::before, .menu-icon::after { content: ""; position: absolute; left: 0; }
            .menu-icon::before { top: -6px; }
            .menu-icon::after { top: 6px; }
            .app-header .folded { display: none; }
            .app-nav, #app-menu-tools { flex-basis: 100%; }
            .app-nav ul { flex-direction: column; gap: 0; }
            .app-nav a { display: block; padding: .6rem .25rem; }
            .connection[data-state="online"] .connection-text {
                position: absolute;
                width: 1px; height: 1px;
                margin: -1px;
                overflow: hidden;
                clip: rect(0, 0, 0, 0);
                white-space: nowrap;
            }
            .connection:not([data-state="online"]) { order: 1; flex-basis: 100%; }
            @media (min-width: 48rem) {
                .app-header { padding: .5rem 1rem; gap: .5rem 1rem; }
                .brand { margin-right: 0; }
                .menu-toggle { display: none; }
                .app-nav.folded { display: block; }
                .menu-tools.folded { display: flex; }
                .menu-tools { margin-left: auto; }
                .app-nav, #app-menu-tools { flex-basis: auto; }
                .app-nav ul { flex-direction: row; gap: .25rem .9rem; }
                .app-nav a { display: inline; padding: 0; }
                .connection[data-state="online"] .connection-text {
                    position: static;
                    width: auto; height: auto;
                    margin: 0;
                    overflow: visible;
                    clip: auto;
                    white-space: normal;
                }
                .connection:not([data-state="online"]) { order: 0; flex-basis: auto; }
            }
            main {
                max-width: 72rem;
                margin: 0 auto;
                padding: 1rem;
            }

            .card {
                background: var(--paper);
                border: 1px solid var(--line);
                border-radius: .75rem;
                padding: 1rem;
                display: flex;
                flex-direction: column;
                gap: .5rem;
            }
            .card h3 { margin: 0; font-size: 1.05rem; }
            .card p { margin: 0; }
            .card-grid {
                list-style: none;
                padding: 0;
                margin: 0 0 1.5rem;
                display: grid;
                gap: 1rem;
                grid-template-columns: repeat(auto-fill, minmax(16rem, 1fr));
            }
            .muted { color: var(--muted); }

            .badge {
                display: inline-block;
                min-width: 1.5rem;
                padding: 0 .4rem;
                border-radius: 999px;
                background: var(--alert);
                color: #fff;
                font-size: .85rem;
                font-weight: 700;
                text-align: center;
                line-height: 1.5rem;
            }
            .badge.zero { background: transparent; color: var(--muted); font-weight: 400; }
            .messaging-button .badge { background: #fff; color: var(--alert); }
            .messaging-button.secondary .badge { background: var(--alert); color: #fff; }

            .notice {
                border-left: 4px solid var(--alert);
                background: var(--alert-soft);
                padding: .6rem .9rem;
                border-radius: .4rem;
                margin: 0 0 1rem;
            }
            .error-view {
                border: 1px solid var(--alert);
                background: var(--alert-soft);
                padding: 1rem;
                border-radius: .5rem;
            }
            .error-view p { margin: 0 0 .5rem; }
            .connection {
                font-size: .85rem;
                display: inline-flex;
                align-items: center;
                gap: .35rem;
            }
            .connection::before {
                content: "";
                width: .6rem; height: .6rem;
                border-radius: 50%;
                background: var(--muted);
            }
            .connection[data-state="online"]::before { background: var(--ok); }
            .connection[data-state="offline"]::before { background: var(--alert); }

            .dialog-backdrop {
                position: fixed;
                inset: 0;
                z-index: 100;
                display: flex;
                align-items: center;
                justify-content: center;
                padding: 1rem;
                background: rgba(28, 37, 48, .6);
            }
            .dialog {
                background: var(--paper);
                border-radius: .75rem;
                padding: 1.25rem;
                max-width: 28rem;
                display: flex;
                flex-direction: column;
                gap: .75rem;
            }
            .dialog h2, .dialog p { margin: 0; }
            .dialog-actions { display: flex; flex-wrap: wrap; gap: .5rem; }
            .dialog-text { display: flex; flex-direction: column; gap: .5rem; }
            .dialog-note { color: var(--alert); font-weight: 600; }
        "#)} />
    }
}
