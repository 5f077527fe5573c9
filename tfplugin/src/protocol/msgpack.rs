//! cty's msgpack encoding of values, decoded against a [`Type`].
//!
//! null is msgpack nil; unknown is extension type 0, or 12 for an unknown with
//! refinements (the payload, a map of refinements, is accepted and dropped); numbers come
//! as int, float or decimal string; `dynamic` values are `[json type, value]`.
//! The decoder never panics and never allocates more than the input can fill.

use std::collections::BTreeMap;

use super::types::Type;

/// cty's extension type for an unknown value.
const UNKNOWN_EXT: i8 = 0;
/// cty's extension type for an unknown value with refinements (payload: a msgpack map).
const REFINED_UNKNOWN_EXT: i8 = 12;
use super::value::{Number, Value};

/// Nesting deeper than this is refused (Terraform values are shallow).
const MAX_DEPTH: usize = 64;

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("msgpack: {0}")]
pub struct DecodeError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, DecodeError> {
    Err(DecodeError(msg.into()))
}

/// Decodes `bytes` as a value of type `ty`.
pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, DecodeError> {
    let mut r = Reader { buf: bytes, pos: 0 };
    let v = r.value(ty, 0)?;
    if r.pos != bytes.len() {
        return err(format!("{} trailing bytes", bytes.len() - r.pos));
    }
    Ok(v)
}

/// Encodes `v` as type `ty`.
pub fn encode(v: &Value, ty: &Type) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(64);
    write_value(&mut out, v, ty)?;
    Ok(out)
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

/// What a msgpack item header says.
enum Head {
    Nil,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str(usize),
    Bin(usize),
    Array(usize),
    Map(usize),
    Ext(i8, usize),
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(n).filter(|e| *e <= self.buf.len());
        match end {
            Some(end) => {
                let s = &self.buf[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            None => err("unexpected end of input"),
        }
    }
    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }
    fn be<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }
    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn head(&mut self) -> Result<Head, DecodeError> {
        let m = self.u8()?;
        Ok(match m {
            0x00..=0x7f => Head::Int(m as i64),
            0x80..=0x8f => Head::Map((m & 0x0f) as usize),
            0x90..=0x9f => Head::Array((m & 0x0f) as usize),
            0xa0..=0xbf => Head::Str((m & 0x1f) as usize),
            0xc0 => Head::Nil,
            0xc2 => Head::Bool(false),
            0xc3 => Head::Bool(true),
            0xc4 => Head::Bin(self.u8()? as usize),
            0xc5 => Head::Bin(u16::from_be_bytes(self.be()?) as usize),
            0xc6 => Head::Bin(u32::from_be_bytes(self.be()?) as usize),
            0xc7 => {
                let n = self.u8()? as usize;
                Head::Ext(self.u8()? as i8, n)
            }
            0xc8 => {
                let n = u16::from_be_bytes(self.be()?) as usize;
                Head::Ext(self.u8()? as i8, n)
            }
            0xc9 => {
                let n = u32::from_be_bytes(self.be()?) as usize;
                Head::Ext(self.u8()? as i8, n)
            }
            0xca => Head::Float(f32::from_be_bytes(self.be()?) as f64),
            0xcb => Head::Float(f64::from_be_bytes(self.be()?)),
            0xcc => Head::Uint(self.u8()? as u64),
            0xcd => Head::Uint(u16::from_be_bytes(self.be()?) as u64),
            0xce => Head::Uint(u32::from_be_bytes(self.be()?) as u64),
            0xcf => Head::Uint(u64::from_be_bytes(self.be()?)),
            0xd0 => Head::Int(i8::from_be_bytes(self.be()?) as i64),
            0xd1 => Head::Int(i16::from_be_bytes(self.be()?) as i64),
            0xd2 => Head::Int(i32::from_be_bytes(self.be()?) as i64),
            0xd3 => Head::Int(i64::from_be_bytes(self.be()?)),
            0xd4 => Head::Ext(self.u8()? as i8, 1),
            0xd5 => Head::Ext(self.u8()? as i8, 2),
            0xd6 => Head::Ext(self.u8()? as i8, 4),
            0xd7 => Head::Ext(self.u8()? as i8, 8),
            0xd8 => Head::Ext(self.u8()? as i8, 16),
            0xd9 => Head::Str(self.u8()? as usize),
            0xda => Head::Str(u16::from_be_bytes(self.be()?) as usize),
            0xdb => Head::Str(u32::from_be_bytes(self.be()?) as usize),
            0xdc => Head::Array(u16::from_be_bytes(self.be()?) as usize),
            0xdd => Head::Array(u32::from_be_bytes(self.be()?) as usize),
            0xde => Head::Map(u16::from_be_bytes(self.be()?) as usize),
            0xdf => Head::Map(u32::from_be_bytes(self.be()?) as usize),
            0xe0..=0xff => Head::Int(m as i8 as i64),
            0xc1 => return err("reserved marker 0xc1"),
        })
    }

    fn string(&mut self, n: usize) -> Result<String, DecodeError> {
        let b = self.take(n)?;
        String::from_utf8(b.to_vec()).map_err(|_| DecodeError("string is not UTF-8".into()))
    }

    /// Reads a string item (map keys, dynamic type tags).
    fn key(&mut self) -> Result<String, DecodeError> {
        match self.head()? {
            Head::Str(n) | Head::Bin(n) => self.string(n),
            _ => err("expected a string key"),
        }
    }

    /// Guards element counts against the bytes left (each element needs >= 1 byte).
    fn count(&self, n: usize, per: usize) -> Result<usize, DecodeError> {
        if n.saturating_mul(per) > self.remaining() {
            return err(format!("length {n} exceeds the input"));
        }
        Ok(n)
    }

    fn value(&mut self, ty: &Type, depth: usize) -> Result<Value, DecodeError> {
        if depth > MAX_DEPTH {
            return err("value nested too deeply");
        }
        let head = self.head()?;
        match head {
            Head::Nil => return Ok(Value::Null),
            // 0: unknown; 12: unknown with refinements (Terraform >= 1.6 sends
            // it, e.g. for `count.index`-derived strings known to be non-null).
            Head::Ext(UNKNOWN_EXT | REFINED_UNKNOWN_EXT, n) => {
                self.take(n)?;
                return Ok(Value::Unknown);
            }
            Head::Ext(t, _) => return err(format!("unexpected extension type {t}")),
            _ => {}
        }
        match ty {
            Type::Dynamic => {
                let Head::Array(2) = head else {
                    return err("dynamic value must be a [type, value] pair");
                };
                let tag = match self.head()? {
                    Head::Str(n) | Head::Bin(n) => self.take(n)?,
                    _ => return err("dynamic type tag must be bytes"),
                };
                let tj: serde_json::Value = serde_json::from_slice(tag)
                    .map_err(|e| DecodeError(format!("dynamic type tag: {e}")))?;
                let inner = Type::from_json(&tj).map_err(DecodeError)?;
                if inner == Type::Dynamic {
                    return err("dynamic value may not be of dynamic type");
                }
                self.value(&inner, depth + 1)
            }
            Type::Bool => match head {
                Head::Bool(b) => Ok(Value::Bool(b)),
                _ => err("expected bool"),
            },
            Type::Number => match head {
                Head::Int(i) => Ok(Value::Number(Number::from_i64(i))),
                Head::Uint(u) => Ok(Value::Number(
                    Number::parse(&u.to_string()).ok_or(DecodeError("bad number".into()))?,
                )),
                Head::Float(f) => Number::from_f64(f)
                    .map(Value::Number)
                    .ok_or(DecodeError("number is not finite".into())),
                Head::Str(n) => {
                    let s = self.string(n)?;
                    // Out-of-range decimals (1e400) decode, so validation can name the
                    // attribute; the text itself is never repeated whole in a message.
                    Number::parse(&s)
                        .or_else(|| Number::parse_decimal(&s))
                        .map(Value::Number)
                        .ok_or_else(|| {
                            let head: String = s.chars().take(24).collect();
                            let more = if s.chars().count() > 24 { "..." } else { "" };
                            DecodeError(format!("{head:?}{more} is not a number"))
                        })
                }
                _ => err("expected number"),
            },
            Type::String => match head {
                Head::Str(n) | Head::Bin(n) => Ok(Value::String(self.string(n)?)),
                _ => err("expected string"),
            },
            Type::List(et) | Type::Set(et) => {
                let Head::Array(n) = head else {
                    return err("expected array");
                };
                let n = self.count(n, 1)?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.value(et, depth + 1)?);
                }
                Ok(if matches!(ty, Type::Set(_)) {
                    Value::Set(items)
                } else {
                    Value::List(items)
                })
            }
            Type::Tuple(ets) => {
                let Head::Array(n) = head else {
                    return err("expected array");
                };
                if n != ets.len() {
                    return err(format!("tuple needs {} elements, got {n}", ets.len()));
                }
                let items = ets
                    .iter()
                    .map(|et| self.value(et, depth + 1))
                    .collect::<Result<_, _>>()?;
                Ok(Value::Tuple(items))
            }
            Type::Map(et) => {
                let Head::Map(n) = head else {
                    return err("expected map");
                };
                let n = self.count(n, 2)?;
                let mut m = BTreeMap::new();
                for _ in 0..n {
                    let k = self.key()?;
                    let v = self.value(et, depth + 1)?;
                    m.insert(k, v);
                }
                Ok(Value::Map(m))
            }
            Type::Object(attrs) => {
                let Head::Map(n) = head else {
                    return err("expected object");
                };
                let n = self.count(n, 2)?;
                let mut m = BTreeMap::new();
                for _ in 0..n {
                    let k = self.key()?;
                    let Some(at) = attrs.get(&k) else {
                        return err(format!("unsupported attribute {k:?}"));
                    };
                    let v = self.value(at, depth + 1)?;
                    m.insert(k, v);
                }
                // Attributes left out are null.
                for name in attrs.keys() {
                    m.entry(name.clone()).or_insert(Value::Null);
                }
                Ok(Value::Object(m))
            }
        }
    }
}

fn write_len(
    out: &mut Vec<u8>,
    n: usize,
    fix: u8,
    fix_max: usize,
    m8: Option<u8>,
    m16: u8,
    m32: u8,
) {
    if n <= fix_max {
        out.push(fix | n as u8);
    } else if let (Some(m), true) = (m8, n <= u8::MAX as usize) {
        out.push(m);
        out.push(n as u8);
    } else if n <= u16::MAX as usize {
        out.push(m16);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(m32);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    write_len(out, s.len(), 0xa0, 31, Some(0xd9), 0xda, 0xdb);
    out.extend_from_slice(s.as_bytes());
}

fn write_int(out: &mut Vec<u8>, i: i64) {
    if (0..=0x7f).contains(&i) {
        out.push(i as u8);
    } else if (-32..0).contains(&i) {
        out.push(i as i8 as u8);
    } else if i8::try_from(i).is_ok() {
        out.push(0xd0);
        out.push(i as i8 as u8);
    } else if i16::try_from(i).is_ok() {
        out.push(0xd1);
        out.extend_from_slice(&(i as i16).to_be_bytes());
    } else if i32::try_from(i).is_ok() {
        out.push(0xd2);
        out.extend_from_slice(&(i as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&i.to_be_bytes());
    }
}

fn write_value(out: &mut Vec<u8>, v: &Value, ty: &Type) -> Result<(), String> {
    match v {
        Value::Null => {
            out.push(0xc0);
            return Ok(());
        }
        Value::Unknown => {
            out.extend_from_slice(&[0xd4, 0, 0]);
            return Ok(());
        }
        _ => {}
    }
    match (ty, v) {
        (Type::Dynamic, _) => {
            let inner = type_of(v);
            out.push(0x92);
            write_str(out, &inner.to_json().to_string());
            write_value(out, v, &inner)
        }
        (Type::Bool, Value::Bool(b)) => {
            out.push(if *b { 0xc3 } else { 0xc2 });
            Ok(())
        }
        (Type::Number, Value::Number(n)) => {
            if let Some(i) = n.as_i64() {
                write_int(out, i);
            } else if n.fits_f64() {
                out.push(0xcb);
                out.extend_from_slice(&n.as_f64().unwrap_or_default().to_be_bytes());
            } else {
                write_str(out, n.as_str());
            }
            Ok(())
        }
        (Type::String, Value::String(s)) => {
            write_str(out, s);
            Ok(())
        }
        (Type::List(et), Value::List(items)) | (Type::Set(et), Value::Set(items)) => {
            write_len(out, items.len(), 0x90, 15, None, 0xdc, 0xdd);
            items.iter().try_for_each(|i| write_value(out, i, et))
        }
        // Tolerate a list where a set is declared and vice versa (same wire form).
        (Type::List(et), Value::Set(items)) | (Type::Set(et), Value::List(items)) => {
            write_len(out, items.len(), 0x90, 15, None, 0xdc, 0xdd);
            items.iter().try_for_each(|i| write_value(out, i, et))
        }
        (Type::Tuple(ets), Value::Tuple(items)) if ets.len() == items.len() => {
            write_len(out, items.len(), 0x90, 15, None, 0xdc, 0xdd);
            items
                .iter()
                .zip(ets)
                .try_for_each(|(i, t)| write_value(out, i, t))
        }
        (Type::Map(et), Value::Map(m)) | (Type::Map(et), Value::Object(m)) => {
            write_len(out, m.len(), 0x80, 15, None, 0xde, 0xdf);
            for (k, item) in m {
                write_str(out, k);
                write_value(out, item, et)?;
            }
            Ok(())
        }
        (Type::Object(attrs), Value::Object(m)) => {
            if let Some(extra) = m.keys().find(|k| !attrs.contains_key(*k)) {
                return Err(format!("attribute {extra:?} is not in the schema"));
            }
            write_len(out, attrs.len(), 0x80, 15, None, 0xde, 0xdf);
            for (k, at) in attrs {
                write_str(out, k);
                write_value(out, m.get(k).unwrap_or(&Value::Null), at)?;
            }
            Ok(())
        }
        (t, v) => Err(format!("cannot encode {v:?} as {t}")),
    }
}

/// The type a known value carries, for `dynamic` attributes.
pub fn type_of(v: &Value) -> Type {
    match v {
        Value::Bool(_) => Type::Bool,
        Value::Number(_) => Type::Number,
        Value::String(_) | Value::Null | Value::Unknown => Type::String,
        Value::List(items) => Type::list(items.first().map(type_of).unwrap_or(Type::String)),
        Value::Set(items) => Type::set(items.first().map(type_of).unwrap_or(Type::String)),
        Value::Tuple(items) => Type::Tuple(items.iter().map(type_of).collect()),
        Value::Map(m) => Type::map(m.values().next().map(type_of).unwrap_or(Type::String)),
        Value::Object(m) => Type::Object(m.iter().map(|(k, v)| (k.clone(), type_of(v))).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj_type() -> Type {
        Type::object([
            ("id", Type::String),
            ("count", Type::Number),
            ("enabled", Type::Bool),
            ("tags", Type::set(Type::String)),
            ("models", Type::list(Type::String)),
            ("metadata", Type::map(Type::String)),
            (
                "limits",
                Type::list(Type::object([
                    ("name", Type::String),
                    ("max", Type::Number),
                ])),
            ),
        ])
    }

    fn sample() -> Value {
        let mut limit = BTreeMap::new();
        limit.insert("name".to_string(), Value::string("tpm"));
        limit.insert(
            "max".to_string(),
            Value::Number(Number::parse("123456789012345678901234567890.5").unwrap()),
        );
        let mut m = BTreeMap::new();
        m.insert("id".into(), Value::string("x".repeat(300)));
        m.insert("count".into(), Value::int(-40000));
        m.insert("enabled".into(), Value::Bool(true));
        m.insert("tags".into(), Value::string_set(["a", "b"]));
        m.insert("models".into(), Value::Unknown);
        m.insert(
            "metadata".into(),
            Value::string_map([("enforcement_level", "strict")]),
        );
        m.insert(
            "limits".into(),
            Value::List(vec![Value::Object(limit), Value::Null]),
        );
        Value::Object(m)
    }

    #[test]
    fn round_trip_object() {
        let ty = obj_type();
        let v = sample();
        let bytes = encode(&v, &ty).unwrap();
        assert_eq!(decode(&bytes, &ty).unwrap(), v);
    }

    #[test]
    fn numbers_of_every_width() {
        for n in [
            0i64,
            1,
            127,
            128,
            -1,
            -32,
            -33,
            -128,
            -129,
            255,
            256,
            65535,
            65536,
            -32769,
            i64::MAX,
            i64::MIN,
        ] {
            let v = Value::int(n);
            assert_eq!(
                decode(&encode(&v, &Type::Number).unwrap(), &Type::Number).unwrap(),
                v,
                "{n}"
            );
        }
        let f = Value::float(0.1);
        assert_eq!(encode(&f, &Type::Number).unwrap()[0], 0xcb);
        assert_eq!(
            decode(&encode(&f, &Type::Number).unwrap(), &Type::Number).unwrap(),
            f
        );
        // uint64 above i64::MAX keeps its digits
        let mut b = vec![0xcf];
        b.extend_from_slice(&u64::MAX.to_be_bytes());
        assert_eq!(
            decode(&b, &Type::Number).unwrap().as_f64(),
            Some(u64::MAX as f64)
        );
        assert_eq!(
            decode(&b, &Type::Number).unwrap(),
            Value::Number(Number::parse("18446744073709551615").unwrap())
        );
    }

    #[test]
    fn out_of_range_numbers_decode_for_validation() {
        let huge = format!("1{}", "0".repeat(400));
        for text in ["1e400", "-1e400", huge.as_str()] {
            let bytes = encode(&Value::string(text), &Type::String).unwrap();
            let v = decode(&bytes, &Type::Number).unwrap();
            let Value::Number(n) = v else { panic!() };
            assert!(!n.in_range(), "{text}");
        }
        let bad = format!("x{}", "9".repeat(400));
        let bytes = encode(&Value::string(&bad), &Type::String).unwrap();
        let e = decode(&bytes, &Type::Number).unwrap_err().to_string();
        assert!(e.len() < 80, "no 400 digits in {e}");
    }

    #[test]
    fn big_numbers_travel_as_strings() {
        let big = Value::Number(Number::parse("98765432109876543210987654321").unwrap());
        let bytes = encode(&big, &Type::Number).unwrap();
        assert_eq!(bytes[0] & 0xe0, 0xa0, "encoded as a msgpack string");
        assert_eq!(decode(&bytes, &Type::Number).unwrap(), big);
    }

    #[test]
    fn refined_unknown_extension_12() {
        // fixext1/ext8 type 12 with a map of refinements {1: true} (not null)
        let bytes = [0xc7, 3, 12, 0x81, 0x01, 0xc3];
        assert_eq!(decode(&bytes, &Type::String).unwrap(), Value::Unknown);
        assert!(
            decode(&[0xd4, 7, 0], &Type::String).is_err(),
            "other extension types are refused"
        );
    }

    #[test]
    fn unknown_with_refinement_payload() {
        // ext8 type 0 with a 3-byte refinement payload, as newer clients send
        let bytes = [0xc7, 3, 0, 0x81, 0x01, 0xc3];
        assert_eq!(decode(&bytes, &Type::String).unwrap(), Value::Unknown);
        assert_eq!(
            decode(&[0xd4, 0, 0], &Type::list(Type::String)).unwrap(),
            Value::Unknown
        );
    }

    #[test]
    fn missing_attributes_are_null_and_extra_ones_refused() {
        let ty = Type::object([("a", Type::String), ("b", Type::String)]);
        let v = decode(&[0x81, 0xa1, b'a', 0xa1, b'x'], &ty).unwrap();
        assert_eq!(v.get("b"), &Value::Null);
        assert!(decode(&[0x81, 0xa1, b'z', 0xa1, b'x'], &ty).is_err());
    }

    #[test]
    fn dynamic_values() {
        let v = Value::string_list(["a"]);
        let bytes = encode(&v, &Type::Dynamic).unwrap();
        assert_eq!(decode(&bytes, &Type::Dynamic).unwrap(), v);
    }

    #[test]
    fn hostile_input_is_an_error_not_a_panic() {
        let ty = obj_type();
        // Claims 2^32-1 entries with no data.
        assert!(decode(&[0xdf, 0xff, 0xff, 0xff, 0xff], &ty).is_err());
        assert!(decode(&[0xdd, 0xff, 0xff, 0xff, 0xff], &Type::list(Type::String)).is_err());
        assert!(decode(&[0xdb, 0xff, 0xff, 0xff, 0xff], &Type::String).is_err());
        assert!(decode(&[0xc1], &Type::String).is_err());
        assert!(decode(&[], &Type::String).is_err());
        assert!(
            decode(&[0xa1, 0xff], &Type::String).is_err(),
            "invalid utf-8"
        );
        assert!(
            decode(&[0xc0, 0xc0], &Type::String).is_err(),
            "trailing bytes"
        );
        // A dynamic value whose type nests lists 100 deep.
        let tag = format!("{}\"string\"{}", "[\"list\",".repeat(100), "]".repeat(100));
        let mut deep = vec![0x92, 0xda];
        deep.extend_from_slice(&(tag.len() as u16).to_be_bytes());
        deep.extend_from_slice(tag.as_bytes());
        deep.extend(std::iter::repeat(0x91).take(100));
        deep.push(0xa0);
        assert!(decode(&deep, &Type::Dynamic).is_err());
    }

    #[test]
    fn random_and_mutated_inputs_never_panic() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let ty = obj_type();
        let valid = encode(&sample(), &ty).unwrap();
        let mut decoded = 0;
        for _ in 0..20_000 {
            let mut b = valid.clone();
            for _ in 0..rng.gen_range(1..4) {
                let i = rng.gen_range(0..b.len());
                b[i] = rng.gen();
            }
            b.truncate(rng.gen_range(0..=b.len()));
            if let Ok(v) = decode(&b, &ty) {
                decoded += 1;
                let again = encode(&v, &ty).expect("decoded values re-encode");
                assert_eq!(decode(&again, &ty).unwrap(), v);
            }
            let noise: Vec<u8> = (0..rng.gen_range(0..64)).map(|_| rng.gen()).collect();
            let _ = decode(&noise, &Type::Dynamic);
            let _ = decode(&noise, &ty);
        }
        assert!(decoded > 0, "some mutations stay valid");
    }
}
