//! Names that travel as text — in JSON, in headers and in TEXT columns — as enums.

/// An enum whose variants each have one wire name: `as_str`, `parse`, `ALL`, `Display` and
/// serde all use that name, so adding a variant is one line.
macro_rules! wire_names {
    ($(#[$meta:meta])* pub enum $name:ident {
        $($(#[$vmeta:meta])* $variant:ident = $wire:literal,)+
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $wire)] #[schema(rename = $wire)] $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire,)+
                }
            }

            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($wire => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub(crate) use wire_names;

/// Every variant's wire name parses back to it and serializes as itself (the JSON string).
#[cfg(test)]
pub fn assert_round_trips<T>(all: &[T], as_str: fn(T) -> &'static str, parse: fn(&str) -> Option<T>)
where
    T: Copy + PartialEq + std::fmt::Debug + serde::Serialize + serde::de::DeserializeOwned,
{
    for &v in all {
        let wire = as_str(v);
        assert_eq!(parse(wire), Some(v), "{wire}");
        assert_eq!(serde_json::to_value(v).unwrap(), serde_json::json!(wire));
        assert_eq!(
            serde_json::from_value::<T>(serde_json::json!(wire)).unwrap(),
            v
        );
    }
    assert_eq!(parse("nope"), None);
}
