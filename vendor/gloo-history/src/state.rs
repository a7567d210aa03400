use std::any::Any;
use std::collections::HashMap;
use std::rc::Rc;

use js_sys::{Object, Reflect};
use wasm_bindgen::JsValue;

use crate::utils::get_id;

/// A constant to prevent state collision.
const KIND: &str = "gloo_history_state";

/// The state used by browser history to store history id.
///
/// Colloque's patch: stored as the same `{"id": …, "kind": "gloo_history_state"}` object that
/// serde-wasm-bindgen wrote, but read and written through `Reflect`. serde-wasm-bindgen's
/// error messages kept the formatting of floating-point numbers in the wasm bundle.
#[derive(Debug, Clone)]
pub(crate) struct HistoryState {
    id: u32,
}

impl HistoryState {
    pub fn new() -> HistoryState {
        Self { id: get_id() }
    }

    pub fn id(&self) -> u32 {
        self.id
    }

    /// The state object to give `history.pushState`.
    pub fn to_js(&self) -> JsValue {
        let object = Object::new();
        // Setting a plain property on a fresh object cannot fail.
        let _ = Reflect::set(&object, &"id".into(), &JsValue::from(self.id));
        let _ = Reflect::set(&object, &"kind".into(), &KIND.into());
        object.into()
    }

    /// The state of a history entry, if one of ours wrote it.
    pub fn from_js(value: &JsValue) -> Option<HistoryState> {
        if !value.is_object() {
            return None;
        }
        let kind = Reflect::get(value, &"kind".into()).ok()?;
        if kind.as_string().as_deref() != Some(KIND) {
            return None;
        }
        let id = Reflect::get(value, &"id".into()).ok()?.as_f64()?;
        let whole = id >= 0.0 && id <= f64::from(u32::MAX) && id.fract() == 0.0;
        whole.then(|| HistoryState { id: id as u32 })
    }
}

pub(crate) type StateMap = HashMap<u32, Rc<dyn Any>>;
