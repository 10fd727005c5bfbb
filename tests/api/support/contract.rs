//! Every JSON response the tests read through `send` is checked against the schema the
//! OpenAPI document gives for its route, method and status: the document's typed responses
//! are a contract the whole suite holds the server to, not prose.
//!
//! The validator covers the part of JSON Schema that utoipa emits: `type` (one or a list),
//! `properties`, `required`, `items`, `additionalProperties`, `enum`, `$ref`, `oneOf`,
//! `anyOf` and `allOf`. Formats are descriptions, not checked.

use serde_json::Value;
use std::sync::OnceLock;
use utoipa::OpenApi;

fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        serde_json::to_value(postgate::routes::openapi::ApiDoc::openapi()).expect("document")
    })
}

/// Panics when `body`, the answer to `method path` with `status`, breaks its documented
/// schema. Routes and statuses the document does not describe are not checked.
pub fn check(method: &str, path: &str, status: u16, body: &Value) {
    let doc = document();
    let Some(schema) = response_schema(doc, method, path, status) else {
        return;
    };
    let errors = violations(doc, schema, body);
    assert!(
        errors.is_empty(),
        "{method} {path} answered {status} outside its documented schema:\n  {}\nbody: {body}",
        errors.join("\n  ")
    );
}

fn response_schema<'a>(doc: &'a Value, method: &str, path: &str, status: u16) -> Option<&'a Value> {
    let (_, item) = doc["paths"]
        .as_object()?
        .iter()
        .find(|(template, _)| matches_template(template, path))?;
    let response = &item[method.to_lowercase()]["responses"][status.to_string()];
    let response = resolve(doc, response);
    response["content"]["application/json"]
        .get("schema")
        .map(|s| resolve(doc, s))
}

/// `/api/uploadposts/schedule/{job_id}` matches `/api/uploadposts/schedule/abc`.
pub fn matches_template(template: &str, path: &str) -> bool {
    let (t, p): (Vec<_>, Vec<_>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(t, p)| t == p || (t.starts_with('{') && t.ends_with('}') && !p.is_empty()))
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let pointer = reference.trim_start_matches('#');
            resolve(
                doc,
                doc.pointer(pointer).expect("a $ref the document defines"),
            )
        }
        None => schema,
    }
}

fn type_matches(name: &str, value: &Value) -> bool {
    match name {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => true,
    }
}

/// What breaks `schema` (resolved in `doc`) in `value`, one line each.
pub fn violations(doc: &Value, schema: &Value, value: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    validate(doc, schema, value, "$", &mut errors);
    errors
}

fn validate(doc: &Value, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    let schema = resolve(doc, schema);
    let passes = |s: &Value| {
        let mut e = Vec::new();
        validate(doc, s, value, at, &mut e);
        e.is_empty()
    };
    if let Some(all) = schema["allOf"].as_array() {
        for s in all {
            validate(doc, s, value, at, errors);
        }
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(options) = schema[key].as_array() {
            let passing = options.iter().filter(|s| passes(s)).count();
            if passing == 0 || (key == "oneOf" && passing > 1) {
                errors.push(format!(
                    "{at}: {passing} of the {key} options match {value}"
                ));
            }
        }
    }
    match &schema["type"] {
        Value::String(t) if !type_matches(t, value) => {
            errors.push(format!("{at}: {value} is not {t}"));
            return;
        }
        Value::Array(ts)
            if !ts
                .iter()
                .any(|t| type_matches(t.as_str().unwrap_or(""), value)) =>
        {
            errors.push(format!("{at}: {value} is none of {}", schema["type"]));
            return;
        }
        _ => {}
    }
    if let Some(allowed) = schema["enum"].as_array()
        && !allowed.contains(value)
    {
        errors.push(format!("{at}: {value} is not one of {}", schema["enum"]));
    }
    if let Some(object) = value.as_object() {
        for name in schema["required"].as_array().into_iter().flatten() {
            let name = name.as_str().unwrap_or_default();
            if !object.contains_key(name) {
                errors.push(format!("{at}: `{name}` is missing"));
            }
        }
        let properties = schema["properties"].as_object();
        for (name, v) in object {
            let path = format!("{at}.{name}");
            match properties.and_then(|p| p.get(name)) {
                Some(s) => validate(doc, s, v, &path, errors),
                None => match &schema["additionalProperties"] {
                    Value::Bool(false) => errors.push(format!("{path} is not documented")),
                    s @ Value::Object(_) => validate(doc, s, v, &path, errors),
                    _ => {}
                },
            }
        }
    }
    if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
        for (i, v) in array.iter().enumerate() {
            validate(doc, items, v, &format!("{at}[{i}]"), errors);
        }
    }
}
