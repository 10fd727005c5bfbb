//! The emulator's fake accounts: three per platform, with ids in each platform's own style,
//! and the Pages, organizations, boards and locations they manage.

use crate::domain::Platform;

pub struct Person {
    pub name: &'static str,
    pub handle: &'static str,
}

pub const PEOPLE: [Person; 3] = [
    Person {
        name: "Alex Rivera",
        handle: "alex.rivera",
    },
    Person {
        name: "Sam Chen",
        handle: "samchen",
    },
    Person {
        name: "Brand Studio",
        handle: "brandstudio",
    },
];

/// The platform's id for person `n`, shaped like the real thing.
pub fn platform_id(platform: Platform, n: usize) -> String {
    let n1 = n + 1;
    match platform {
        Platform::Tiktok => format!("-000{n1}sandboxOpenId{n1}AbCdEf"),
        Platform::Instagram => format!("1784140000000000{n1}"),
        Platform::Facebook => format!("1000000000000{n1}"),
        Platform::Threads => format!("2600000000000000{n1}"),
        Platform::Linkedin => format!("sandboxSub{n1}xYz"),
        Platform::Youtube => format!("UCsandboxChannel000000{n1}"),
        Platform::GoogleBusiness => format!("10000000000000000000{n1}"),
        Platform::X => format!("150000000000000000{n1}"),
        Platform::Pinterest => format!("54900000000000000{n1}"),
        Platform::Reddit => format!("sbx{n1}"),
        Platform::Bluesky => format!("did:plc:sandbox{n1}aaaaaaaaaaaaaaaa"),
    }
}

pub fn handle(platform: Platform, n: usize) -> String {
    let h = PEOPLE[n].handle;
    match platform {
        Platform::Bluesky => format!("{}.bsky.social", h.replace('.', "-")),
        Platform::Youtube => format!("@{}", h.replace('.', "")),
        Platform::GoogleBusiness => format!("{}@example.com", h.replace('.', "")),
        _ => h.to_owned(),
    }
}

/// Pages / organizations / boards / locations of person `n`: (id, name, detail). The third
/// person has none, to exercise "no pages".
pub fn targets(platform: Platform, n: usize) -> Vec<(String, String, Option<&'static str>)> {
    if n == 2 {
        return Vec::new();
    }
    let name = PEOPLE[n].name;
    let n1 = n + 1;
    match platform {
        Platform::Facebook => vec![
            (
                format!("10987654321000{n1}1"),
                format!("{name}'s Bakery"),
                None,
            ),
            (
                format!("10987654321000{n1}2"),
                format!("{name} Photography"),
                None,
            ),
        ],
        Platform::Linkedin => vec![
            (
                format!("urn:li:organization:1234{n1}1"),
                format!("{name} Consulting"),
                Some("consulting"),
            ),
            (
                format!("urn:li:organization:1234{n1}2"),
                format!("{name} Labs"),
                Some("labs"),
            ),
        ],
        Platform::Pinterest => vec![
            (
                format!("98765432109876{n1}01"),
                "Summer Recipes".to_owned(),
                Some("PUBLIC"),
            ),
            (
                format!("98765432109876{n1}02"),
                "Home Ideas".to_owned(),
                Some("PROTECTED"),
            ),
            (
                format!("98765432109876{n1}03"),
                "Drafts".to_owned(),
                Some("SECRET"),
            ),
        ],
        Platform::GoogleBusiness => vec![
            (
                format!("accounts/12345678{n1}/locations/11111111{n1}"),
                "Main Street Store".to_owned(),
                None,
            ),
            (
                format!("accounts/12345678{n1}/locations/22222222{n1}"),
                "Harbor Kiosk".to_owned(),
                None,
            ),
        ],
        _ => Vec::new(),
    }
}
