//! Stored-state JSON of any shape converted against a schema type: no panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use webide_provider::protocol::json::from_json;
use webide_provider::protocol::types::Type;

fuzz_target!(|data: &[u8]| {
    let Ok(j) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    let ty = Type::object([
        ("id", Type::String),
        ("n", Type::Number),
        ("l", Type::list(Type::String)),
        ("m", Type::map(Type::String)),
        ("d", Type::Dynamic),
    ]);
    let _ = from_json(&j, &ty);
});
