//! Schema conformance checks and plan rules on arbitrary values (see
//! `webide_provider::fuzzing::schema_conformance`): no panic, bounded work.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| webide_provider::fuzzing::schema_conformance(data));
