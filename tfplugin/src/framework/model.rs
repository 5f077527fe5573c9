//! Typed resource models: a resource's plan/state as a `#[derive(Serialize, Deserialize)]`
//! struct instead of `plan.get("name")` look-ups (the idea of terraform-plugin-framework's
//! `tfsdk` tags and the `tf-provider` crate's serde-typed state).
//!
//! - [`from_value`] reads a model from a plan or state: null and unknown both become `None`
//!   for `Option` fields; a model field the object lacks is an error naming it.
//! - [`to_value`] builds the object back with every schema attribute, panicking when the
//!   model has a field the schema lacks or lacks a schema attribute (a programming error
//!   that each resource's unit test [`assert_model`] catches before it ships).
//! - [`body`] and [`answer`] turn request/answer DTOs into JSON and back.

use serde::de::{self, DeserializeOwned, Visitor};
use serde::Serialize;
use serde_json::Value as Json;

use crate::protocol::diagnostics::Diagnostics;
use crate::protocol::json::{from_json, to_json};
use crate::protocol::schema::{Block, Schema};
use crate::protocol::value::Value;

/// Reads model `M` from a plan, state or configuration object.
pub fn from_value<M: DeserializeOwned>(v: &Value) -> Result<M, Diagnostics> {
    if let (Value::Object(m), Some(fields)) = (v, field_names::<M>()) {
        if let Some(f) = fields.iter().find(|f| !m.contains_key(**f)) {
            return Err(internal(format!(
                "model {} has a field {f:?} that the object does not have",
                std::any::type_name::<M>()
            )));
        }
    }
    serde_json::from_value(to_json(v)).map_err(|e| {
        internal(format!(
            "cannot read {} from the plan or state: {e}",
            std::any::type_name::<M>()
        ))
    })
}

/// The object of `schema` holding model `m`: every attribute and nested block of the schema
/// must be a field of the model and the other way round.
///
/// # Panics
/// When the model and the schema disagree on the names, or a field does not fit the
/// attribute's type: a programming error, caught by [`assert_model`] in unit tests.
pub fn to_value<M: Serialize>(m: &M, schema: &Schema) -> Value {
    block_value(m, &schema.block)
}

/// [`to_value`] for a block (a nested block's model).
pub fn block_value<M: Serialize>(m: &M, block: &Block) -> Value {
    let name = std::any::type_name::<M>();
    let json = serde_json::to_value(m).unwrap_or_else(|e| panic!("{name}: {e}"));
    let Json::Object(o) = &json else {
        panic!("{name} does not serialize to an object");
    };
    let names = schema_names(block);
    if let Some(k) = o.keys().find(|k| !names.contains(&k.as_str())) {
        panic!("{name} has a field {k:?} that the schema does not have");
    }
    if let Some(k) = names.iter().find(|k| !o.contains_key(**k)) {
        panic!("{name} has no field for the schema's attribute {k:?}");
    }
    from_json(&json, &block.implied_type()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// A request body DTO as JSON.
pub fn body<T: Serialize>(dto: &T) -> Json {
    serde_json::to_value(dto).unwrap_or_else(|e| panic!("{}: {e}", std::any::type_name::<T>()))
}

/// An API answer read as DTO `T`; `what` names it in the error ("Gitea user").
pub fn answer<T: DeserializeOwned>(what: &str, j: &Json) -> Result<T, Diagnostics> {
    T::deserialize(j).map_err(|e| {
        Diagnostics::error(
            format!("Unexpected answer for {what}"),
            format!("the answer does not have the documented shape: {e}"),
        )
    })
}

/// Test helper: the model's fields are exactly the schema's attributes and nested blocks.
///
/// # Panics
/// Naming the first field or attribute that has no counterpart.
pub fn assert_model<M: DeserializeOwned>(schema: &Schema) {
    let name = std::any::type_name::<M>();
    let fields = field_names::<M>().unwrap_or_else(|| panic!("{name} is not a struct"));
    let names = schema_names(&schema.block);
    for f in fields {
        assert!(
            names.contains(f),
            "{name} has a field {f:?} the schema lacks"
        );
    }
    for a in &names {
        assert!(
            fields.contains(a),
            "{name} has no field for the schema's attribute {a:?}"
        );
    }
}

fn schema_names(block: &Block) -> Vec<&str> {
    block
        .attributes
        .iter()
        .map(|a| a.name.as_str())
        .chain(block.blocks.iter().map(|b| b.name.as_str()))
        .collect()
}

fn internal(detail: String) -> Diagnostics {
    Diagnostics::error("Provider error: model and schema disagree", detail)
}

/// The field names serde derives for struct `M` (after renames), `None` for other types:
/// asked from `M::deserialize` through a deserializer that only records them.
pub fn field_names<M: DeserializeOwned>() -> Option<&'static [&'static str]> {
    let mut names = FieldNames(None);
    let _ = M::deserialize(&mut names);
    names.0
}

struct FieldNames(Option<&'static [&'static str]>);

impl<'de> de::Deserializer<'de> for &mut FieldNames {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("not a struct"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0 = Some(fields);
        Err(de::Error::custom("field names recorded"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::schema::{Attribute, Block};
    use serde::Deserialize;

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    struct Model {
        id: Option<i64>,
        name: String,
        admin: bool,
        tags: Vec<String>,
    }

    fn schema() -> Schema {
        Schema::new(
            0,
            Block::new("t")
                .attr(Attribute::number("id").computed())
                .attr(Attribute::string("name").required())
                .attr(Attribute::bool("admin").default(false))
                .attr(Attribute::string_set("tags").optional()),
        )
    }

    fn object(id: Value) -> Value {
        let mut v = schema().block.null_object();
        v.set("id", id);
        v.set("name", Value::string("a"));
        v.set("admin", Value::Bool(true));
        v.set("tags", Value::string_set(["x"]));
        v
    }

    #[test]
    fn null_and_unknown_read_as_none() {
        for id in [Value::Null, Value::Unknown] {
            let m: Model = from_value(&object(id)).unwrap();
            assert_eq!(m.id, None);
            assert_eq!(m.name, "a");
        }
        let m: Model = from_value(&object(Value::int(7))).unwrap();
        assert_eq!(m.id, Some(7));
    }

    #[test]
    fn round_trip_keeps_the_schema_types() {
        let v = object(Value::int(7));
        let m: Model = from_value(&v).unwrap();
        assert_eq!(to_value(&m, &schema()), v);
        assert_model::<Model>(&schema());
    }

    #[test]
    fn a_field_the_object_lacks_is_an_error() {
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct Misspelt {
            nmae: Option<String>,
        }
        let e = from_value::<Misspelt>(&object(Value::Null)).unwrap_err();
        assert!(format!("{e:?}").contains("nmae"), "{e:?}");
    }

    #[test]
    #[should_panic(expected = "\"nmae\"")]
    fn to_value_refuses_a_field_the_schema_lacks() {
        #[derive(Serialize)]
        struct Misspelt {
            id: Option<i64>,
            nmae: String,
            admin: bool,
            tags: Vec<String>,
        }
        let m = Misspelt {
            id: None,
            nmae: "a".into(),
            admin: false,
            tags: vec![],
        };
        to_value(&m, &schema());
    }

    #[test]
    #[should_panic(expected = "\"tags\"")]
    fn to_value_refuses_a_missing_attribute() {
        #[derive(Serialize)]
        struct Partial {
            id: Option<i64>,
            name: String,
            admin: bool,
        }
        to_value(
            &Partial {
                id: None,
                name: "a".into(),
                admin: false,
            },
            &schema(),
        );
    }

    #[test]
    #[should_panic(expected = "\"tags\"")]
    fn assert_model_names_the_missing_field() {
        #[derive(Deserialize)]
        #[allow(dead_code)]
        struct Partial {
            id: Option<i64>,
            name: String,
            admin: bool,
        }
        assert_model::<Partial>(&schema());
    }

    #[test]
    fn unknown_in_a_required_field_is_an_error_not_a_default() {
        let mut v = object(Value::Null);
        v.set("name", Value::Unknown);
        assert!(from_value::<Model>(&v).is_err());
    }
}
