//! The README's Configuration table against the keys the configuration really accepts: the
//! field names serde itself uses to read `RawSettings`, so a key added to the code and not
//! to the README (or documented and since removed) fails here.

use super::{RawPlan, RawPlatform, RawSettings};
use serde::de::{self, Deserialize, Deserializer, Visitor};
use std::collections::BTreeSet;

/// A deserializer that only records the field names a struct asks for, then gives up.
struct FieldNames<'a>(&'a mut &'static [&'static str]);

impl<'de> Deserializer<'de> for FieldNames<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("not a struct"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = fields;
        Err(de::Error::custom("only the field names were wanted"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// The fields `T`'s derived `Deserialize` accepts.
fn fields<T: for<'de> Deserialize<'de>>() -> &'static [&'static str] {
    let mut names: &'static [&'static str] = &[];
    let _ = T::deserialize(FieldNames(&mut names));
    assert!(
        !names.is_empty(),
        "{} has no fields",
        std::any::type_name::<T>()
    );
    names
}

/// Every key, written as the README writes them: tables keyed by a name the operator
/// chooses get a placeholder (`plans.<name>.profiles`).
fn accepted_keys() -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    for field in fields::<RawSettings>() {
        match *field {
            "plans" => keys.extend(
                fields::<RawPlan>()
                    .iter()
                    .map(|f| format!("plans.<name>.{f}")),
            ),
            "platforms" => keys.extend(fields::<RawPlatform>().iter().map(|f| match *f {
                "endpoints" => "platforms.<key>.endpoints.<name>".to_owned(),
                f => format!("platforms.<key>.{f}"),
            })),
            f => {
                keys.insert(f.to_owned());
            }
        }
    }
    keys
}

/// The first `code` span of a table cell.
fn code(cell: &str) -> Option<&str> {
    cell.split('`').nth(1)
}

/// (key, environment variable) of each row of the README's Configuration table.
fn documented_keys(readme: &str) -> Vec<(String, String)> {
    let section = readme
        .split("\n## Configuration\n")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("the README has a Configuration section");
    section
        .lines()
        .filter(|line| line.starts_with("| `"))
        .map(|row| {
            let cells: Vec<&str> = row.split(" | ").collect();
            let key = code(cells[0]).unwrap_or_else(|| panic!("no key in {row:?}"));
            let env = cells
                .get(1)
                .and_then(|c| code(c))
                .unwrap_or_else(|| panic!("no environment variable in {row:?}"));
            (key.to_owned(), env.to_owned())
        })
        .collect()
}

#[test]
fn the_readme_documents_every_key_and_only_those() {
    let readme = include_str!("../../README.md");
    let documented = documented_keys(readme);
    let accepted = accepted_keys();
    let listed: BTreeSet<String> = documented.iter().map(|(k, _)| k.clone()).collect();
    let missing: Vec<&String> = accepted.difference(&listed).collect();
    let unknown: Vec<&String> = listed.difference(&accepted).collect();
    assert!(
        missing.is_empty(),
        "keys the configuration accepts but the README's Configuration table lacks: {missing:?}"
    );
    assert!(
        unknown.is_empty(),
        "keys the README documents but the configuration does not accept: {unknown:?}"
    );
    assert_eq!(listed.len(), documented.len(), "a key is listed twice");
    for (key, env) in &documented {
        let expected = format!("POSTGATE_{}", key.to_ascii_uppercase().replace('.', "__"));
        assert_eq!(env, &expected, "the environment variable of {key}");
    }
}

#[test]
fn the_checks_see_what_they_check() {
    // A table missing a key, with a wrong variable, or listing one nobody reads is caught.
    let readme = "# x\n\n## Configuration\n\n| Key | Environment |\n|---|---|\n\
                  | `listen` | `POSTGATE_LISTEN` (or `--listen`) | `x` |\n\
                  | `lisen` | `POSTGATE_LISTN` |\n\n## Next\n| `env` | `POSTGATE_ENV` |\n";
    let documented = documented_keys(readme);
    assert_eq!(
        documented,
        [
            ("listen".to_owned(), "POSTGATE_LISTEN".to_owned()),
            ("lisen".to_owned(), "POSTGATE_LISTN".to_owned())
        ]
    );
    let accepted = accepted_keys();
    assert!(accepted.contains("listen"));
    assert!(!accepted.contains("lisen"));
    assert!(accepted.contains("plans.<name>.monthly_posts"));
    assert!(accepted.contains("platforms.<key>.client_secret"));
    assert!(accepted.contains("platforms.<key>.endpoints.<name>"));
}
