//! Entry points shared by the fuzz targets (`fuzz/`) and the randomized unit tests that run the
//! same code in every `cargo test`: decoders and the schema conformance checks must never panic
//! and must do work bounded by the input.

use crate::framework::{plan, Provider};
use crate::protocol::diagnostics::{AttrPath, Diagnostics};
use crate::protocol::msgpack::decode;
use crate::provider::WebideProvider;

/// The input is split into three msgpack documents (prior state, proposed state, config)
/// decoded against the implied type of a webide resource schema (the first byte picks it);
/// whatever decodes goes through attribute validation and the generic plan rules.
pub fn schema_conformance(data: &[u8]) {
    if data.len() < 3 {
        return;
    }
    let resources = WebideProvider.resources();
    let r = &resources[data[0] as usize % resources.len()];
    let schema = r.schema();
    let ty = schema.block.implied_type();
    let rest = &data[3..];
    let a = (data[1] as usize).min(rest.len());
    let b = (a + data[2] as usize).min(rest.len());
    let parts = [&rest[..a], &rest[a..b], &rest[b..]];
    let values: Vec<_> = parts.iter().filter_map(|p| decode(p, &ty).ok()).collect();
    for v in &values {
        let mut diags = Diagnostics::new();
        schema.block.validate(v, &AttrPath::default(), &mut diags);
    }
    if let [prior, proposed, config] = values.as_slice() {
        let _ = plan::plan(&schema.block, prior, proposed, config);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::msgpack::encode;
    use rand::{Rng, SeedableRng};

    /// Valid documents (null objects of every schema), then random mutations of them.
    #[test]
    fn schema_conformance_survives_mutated_inputs() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let resources = WebideProvider.resources();
        for (i, r) in resources.iter().enumerate() {
            let s = r.schema();
            let doc = encode(&s.block.null_object(), &s.block.implied_type()).unwrap();
            let n = doc.len().min(255) as u8;
            let mut base = vec![i as u8, n, n];
            for _ in 0..3 {
                base.extend_from_slice(&doc);
            }
            schema_conformance(&base);
            for _ in 0..300 {
                let mut m = base.clone();
                for _ in 0..rng.gen_range(1..8) {
                    let at = rng.gen_range(0..m.len());
                    match rng.gen_range(0..3) {
                        0 => m[at] = rng.gen(),
                        1 => m.insert(at, rng.gen()),
                        _ => {
                            m.remove(at);
                        }
                    }
                    if m.len() < 3 {
                        m.extend_from_slice(&[0, 0, 0]);
                    }
                }
                schema_conformance(&m);
            }
        }
    }
}
