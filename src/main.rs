//! Entry point of the Colloque single-page app. Everything lives in the library so tests can
//! import it.

// Talc instead of the standard library's dlmalloc: the same allocation, in fewer bytes of wasm
// (measured in `cargo xtask build`, see the README's bundle figures).
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

fn main() {
    #[cfg(feature = "second-build")]
    colloque::second_build::arrived();
    // Into index.html's `#app`, not the body: Yew empties the element it mounts into, and the
    // body also holds the static first screen that the app takes over once it has rendered
    // (`colloque::shell`).
    let root = web_sys::window()
        .and_then(|window| window.document())
        .and_then(|document| document.get_element_by_id("app"))
        .expect("index.html has an element #app");
    yew::Renderer::<colloque::app::App>::with_root(root).render();
    colloque::services::push::register_worker();
}
