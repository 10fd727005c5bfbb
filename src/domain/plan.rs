//! Plans: how many profiles an API account may have, and what happens past the limit.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A quota that is either a number or unlimited. In configuration: an integer or `"unlimited"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "LimitRepr", into = "LimitRepr")]
pub enum Limit {
    Max(u64),
    Unlimited,
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum LimitRepr {
    Number(u64),
    Word(String),
}

impl TryFrom<LimitRepr> for Limit {
    type Error = String;
    fn try_from(r: LimitRepr) -> Result<Self, String> {
        match r {
            LimitRepr::Number(n) => Ok(Limit::Max(n)),
            LimitRepr::Word(w) if w.eq_ignore_ascii_case("unlimited") => Ok(Limit::Unlimited),
            LimitRepr::Word(w) => w
                .parse()
                .map(Limit::Max)
                .map_err(|_| format!("expected a whole number or \"unlimited\", found {w:?}")),
        }
    }
}

impl From<Limit> for LimitRepr {
    fn from(l: Limit) -> Self {
        match l {
            Limit::Max(n) => LimitRepr::Number(n),
            Limit::Unlimited => LimitRepr::Word("unlimited".into()),
        }
    }
}

impl Limit {
    /// Whether one more item fits when `used` are already taken. Counts come from SQL as
    /// `i64`; a negative one cannot happen and counts as none.
    pub fn allows_another(self, used: i64) -> bool {
        match self {
            Limit::Max(n) => u64::try_from(used).map_or(true, |used| used < n),
            Limit::Unlimited => true,
        }
    }

    /// A profile is blocked when its position in creation order (0 = the oldest) is past the
    /// limit: after a downgrade the newest profiles are blocked first, never deleted, and
    /// come back as soon as the limit allows them again.
    pub fn blocks_position(self, position: i64) -> bool {
        !self.allows_another(position)
    }

    /// How many of `total` profiles `blocks_position` blocks.
    pub fn blocked_among(self, total: i64) -> i64 {
        match self {
            Limit::Max(n) => total
                .saturating_sub(i64::try_from(n).unwrap_or(i64::MAX))
                .max(0),
            Limit::Unlimited => 0,
        }
    }

    /// The wire form: a number, or `null` for unlimited.
    pub fn as_json(self) -> serde_json::Value {
        self.max().into()
    }

    /// The maximum, `None` when unlimited (a typed wire form: `null` when unlimited).
    pub fn max(self) -> Option<u64> {
        match self {
            Limit::Max(n) => Some(n),
            Limit::Unlimited => None,
        }
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Limit::Max(n) => write!(f, "{n}"),
            Limit::Unlimited => f.write_str("unlimited"),
        }
    }
}

/// One row of the plan table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The key accounts store and `GET /users` reports (`default`).
    pub name: String,
    /// What `GET /me` reports (`Default`).
    pub display_name: String,
    pub profiles: Limit,
    pub monthly_posts: Limit,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        assert!(Limit::Max(10).allows_another(9));
        assert!(!Limit::Max(10).allows_another(10));
        assert!(Limit::Unlimited.allows_another(i64::MAX));
        assert!(!Limit::Max(2).blocks_position(1));
        assert!(Limit::Max(2).blocks_position(2));
        assert!(Limit::Max(0).blocks_position(0));
    }

    #[test]
    fn blocked_count_matches_positions() {
        for limit in [
            Limit::Max(0),
            Limit::Max(3),
            Limit::Max(10),
            Limit::Unlimited,
        ] {
            for total in 0..15 {
                let by_position = (0..total).filter(|p| limit.blocks_position(*p)).count();
                assert_eq!(
                    limit.blocked_among(total),
                    by_position as i64,
                    "{limit} of {total}"
                );
            }
        }
    }

    #[test]
    fn limit_from_config_text() {
        let parse = |s: &str| serde_json::from_str::<Limit>(s);
        assert_eq!(parse("10").unwrap(), Limit::Max(10));
        assert_eq!(parse("\"Unlimited\"").unwrap(), Limit::Unlimited);
        assert_eq!(parse("\"25\"").unwrap(), Limit::Max(25));
        assert!(parse("\"lots\"").is_err());
        assert!(parse("-1").is_err());
    }
}
