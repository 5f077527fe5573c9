//! Any bytes, decoded against a schema-like type and as `dynamic`: errors
//! are fine, panics and unbounded allocation are not. What decodes must
//! re-encode and decode to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use webide_provider::protocol::msgpack::{decode, encode};
use webide_provider::protocol::types::Type;

fuzz_target!(|data: &[u8]| {
    let types = [
        Type::Dynamic,
        Type::object([
            ("id", Type::String),
            ("n", Type::Number),
            ("b", Type::Bool),
            ("l", Type::list(Type::String)),
            ("s", Type::set(Type::Number)),
            ("m", Type::map(Type::String)),
            ("o", Type::list(Type::object([("x", Type::String)]))),
        ]),
    ];
    for ty in &types {
        if let Ok(v) = decode(data, ty) {
            let bytes = encode(&v, ty).expect("a decoded value re-encodes");
            assert_eq!(decode(&bytes, ty).expect("re-decodes"), v);
        }
    }
});
