//! Terraform values (cty) as the provider sees them: known, null or unknown.

use std::collections::BTreeMap;
use std::fmt;

/// A number kept as its exact decimal text, so big or precise numbers survive
/// a round trip through the provider unchanged.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Number(String);

impl Number {
    /// Parses decimal text (`"12"`, `"-1.5"`, `"1e3"`); `None` when it is not a finite number.
    pub fn parse(text: &str) -> Option<Number> {
        let t = text.trim();
        if t.is_empty() || t.eq_ignore_ascii_case("nan") || t.to_ascii_lowercase().contains("inf") {
            return None;
        }
        if let Ok(i) = t.parse::<i64>() {
            return Some(Number(i.to_string()));
        }
        let f: f64 = t.parse().ok()?;
        if !f.is_finite() {
            return None;
        }
        // Keep the original digits when f64 cannot hold them exactly.
        if Number::from_f64(f).map(|n| n.0 == t).unwrap_or(false) || !looks_plain(t) {
            Number::from_f64(f)
        } else {
            Some(Number(t.to_string()))
        }
    }

    /// Decimal text (`-12.5e3`) whatever its magnitude, e.g. `1e400`, which no f64 holds:
    /// kept as text so validation can name the attribute ([`Number::in_range`]) instead of
    /// the decoder failing without one. `None` when it is not decimal text.
    pub fn parse_decimal(text: &str) -> Option<Number> {
        let t = text.trim();
        let (mantissa, exp) = match t.find(['e', 'E']) {
            Some(i) => (&t[..i], Some(&t[i + 1..])),
            None => (t, None),
        };
        let m = mantissa.strip_prefix(['-', '+']).unwrap_or(mantissa);
        let (int, frac) = m.split_once('.').unwrap_or((m, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        let exp_ok = exp.is_none_or(|e| {
            let e = e.strip_prefix(['-', '+']).unwrap_or(e);
            !e.is_empty() && digits(e)
        });
        (!(int.is_empty() && frac.is_empty()) && digits(int) && digits(frac) && exp_ok)
            .then(|| Number(t.to_string()))
    }

    /// Whether the number fits a finite f64 (what every API here takes).
    pub fn in_range(&self) -> bool {
        self.as_f64().is_some_and(f64::is_finite)
    }

    pub fn from_i64(i: i64) -> Number {
        Number(i.to_string())
    }

    /// `None` for NaN and infinities, which Terraform numbers cannot hold.
    pub fn from_f64(f: f64) -> Option<Number> {
        if !f.is_finite() {
            return None;
        }
        if f.fract() == 0.0 && f.abs() < 9.0e15 {
            return Some(Number((f as i64).to_string()));
        }
        Some(Number(format!("{f}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn as_i64(&self) -> Option<i64> {
        self.0.parse().ok()
    }

    pub fn as_f64(&self) -> Option<f64> {
        self.0.parse().ok()
    }

    /// True when the text is exactly what an f64 prints for itself (no precision lost).
    pub fn fits_f64(&self) -> bool {
        self.as_f64()
            .and_then(Number::from_f64)
            .map(|n| n == *self)
            .unwrap_or(false)
    }
}

fn looks_plain(t: &str) -> bool {
    t.bytes()
        .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A cty value. Objects and maps are both keyed maps; sets are kept as
/// de-duplicated vectors in the order received.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Unknown,
    Bool(bool),
    Number(Number),
    String(String),
    List(Vec<Value>),
    Set(Vec<Value>),
    Tuple(Vec<Value>),
    Map(BTreeMap<String, Value>),
    Object(BTreeMap<String, Value>),
}

impl Value {
    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }
    pub fn int(i: i64) -> Value {
        Value::Number(Number::from_i64(i))
    }
    /// A float; NaN/infinity become null (Terraform cannot represent them).
    pub fn float(f: f64) -> Value {
        Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null)
    }
    pub fn opt_string(s: Option<impl Into<String>>) -> Value {
        s.map(|s| Value::String(s.into())).unwrap_or(Value::Null)
    }
    pub fn opt_int(i: Option<i64>) -> Value {
        i.map(Value::int).unwrap_or(Value::Null)
    }
    pub fn opt_float(f: Option<f64>) -> Value {
        f.map(Value::float).unwrap_or(Value::Null)
    }
    pub fn opt_bool(b: Option<bool>) -> Value {
        b.map(Value::Bool).unwrap_or(Value::Null)
    }
    pub fn string_list<I: IntoIterator<Item = S>, S: Into<String>>(items: I) -> Value {
        Value::List(items.into_iter().map(|s| Value::String(s.into())).collect())
    }
    pub fn string_set<I: IntoIterator<Item = S>, S: Into<String>>(items: I) -> Value {
        let mut v: Vec<Value> = Vec::new();
        for s in items {
            let s = Value::String(s.into());
            if !v.contains(&s) {
                v.push(s);
            }
        }
        Value::Set(v)
    }
    pub fn string_map<I: IntoIterator<Item = (K, S)>, K: Into<String>, S: Into<String>>(
        items: I,
    ) -> Value {
        Value::Map(
            items
                .into_iter()
                .map(|(k, s)| (k.into(), Value::String(s.into())))
                .collect(),
        )
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown)
    }
    /// Known all the way down (no unknown anywhere inside).
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown => false,
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => {
                v.iter().all(Value::is_wholly_known)
            }
            Value::Map(m) | Value::Object(m) => m.values().all(Value::is_wholly_known),
            _ => true,
        }
    }

    /// Attribute of an object (or entry of a map); `Null` when absent.
    ///
    /// An object (a schema-typed value) without the attribute is a programming
    /// error, a misspelt name: debug builds panic so tests catch it; release
    /// builds answer null. Maps answer null for a missing key.
    pub fn get(&self, name: &str) -> &Value {
        static NULL: Value = Value::Null;
        match self {
            Value::Object(m) => match m.get(name) {
                Some(v) => v,
                None => {
                    debug_assert!(
                        m.is_empty(),
                        "no attribute {name:?} in object with {:?}",
                        m.keys().collect::<Vec<_>>()
                    );
                    &NULL
                }
            },
            Value::Map(m) => m.get(name).unwrap_or(&NULL),
            _ => &NULL,
        }
    }

    /// Sets an attribute of an object; no-op on other values.
    pub fn set(&mut self, name: &str, v: Value) {
        if let Value::Object(m) | Value::Map(m) = self {
            m.insert(name.to_string(), v);
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(n) => n.as_i64(),
            _ => None,
        }
    }
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => n.as_f64(),
            _ => None,
        }
    }
    /// Elements of a list, set or tuple.
    pub fn elements(&self) -> &[Value] {
        match self {
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => v,
            _ => &[],
        }
    }
    /// Known string elements of a list or set.
    pub fn string_elements(&self) -> Vec<String> {
        self.elements()
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    }
    /// Known string entries of a map.
    pub fn string_entries(&self) -> BTreeMap<String, String> {
        match self {
            Value::Map(m) | Value::Object(m) => m
                .iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect(),
            _ => BTreeMap::new(),
        }
    }

    /// Semantic equality: sets compare without order.
    pub fn equals(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Set(a), Value::Set(b)) => {
                a.len() == b.len() && a.iter().all(|x| b.iter().any(|y| x.equals(y)))
            }
            (Value::List(a), Value::List(b)) | (Value::Tuple(a), Value::Tuple(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.equals(y))
            }
            (Value::Map(a), Value::Map(b)) | (Value::Object(a), Value::Object(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .all(|(k, x)| b.get(k).map(|y| x.equals(y)).unwrap_or(false))
            }
            _ => self == other,
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_string())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::int(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_their_digits() {
        assert_eq!(Number::parse("12").unwrap().as_str(), "12");
        assert_eq!(Number::parse("10.5").unwrap().as_str(), "10.5");
        assert_eq!(
            Number::parse("123456789012345678901234567890")
                .unwrap()
                .as_str(),
            "123456789012345678901234567890"
        );
        assert_eq!(
            Number::parse("0.1000000000000000000001").unwrap().as_str(),
            "0.1000000000000000000001"
        );
        assert!(Number::parse("NaN").is_none());
        assert!(Number::parse("inf").is_none());
        assert!(Number::parse("abc").is_none());
        assert_eq!(Number::from_f64(3.0).unwrap().as_str(), "3");
        assert!(Number::parse("10.5").unwrap().fits_f64());
        assert!(!Number::parse("123456789012345678901234567890")
            .unwrap()
            .fits_f64());
    }

    #[test]
    fn set_equality_ignores_order() {
        let a = Value::string_set(["a", "b"]);
        let b = Value::string_set(["b", "a"]);
        assert!(a.equals(&b));
        assert!(!Value::string_list(["a", "b"]).equals(&Value::string_list(["b", "a"])));
    }
}
