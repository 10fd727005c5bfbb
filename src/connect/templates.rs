//! The askama templates' data. Everything is escaped by askama; nothing here is HTML.

use super::assets::AssetUrls;
use super::i18n::Texts;
use crate::urls::Urls;
use askama::Template;

/// What both tabs show around their content: branding, the tabs and the way out.
pub struct Frame {
    pub token: String,
    pub csrf: String,
    pub logo: Option<String>,
    pub title: String,
    pub description: String,
    pub show_calendar: bool,
    pub readonly: bool,
    /// `accounts` or `calendar`.
    pub active_tab: &'static str,
    pub redirect_url: Option<String>,
    pub redirect_text: String,
    pub links: PageLinks,
}

/// Where a link's tabs and forms go, with `public_url`'s path prefix.
pub struct PageLinks {
    pub accounts: String,
    pub calendar: String,
    pub start: String,
    pub disconnect: String,
    pub pin: String,
    pub signin: String,
    pub cancel: String,
}

impl PageLinks {
    pub fn new(urls: &Urls, token: &str) -> Self {
        Self {
            accounts: urls.connect_page(token),
            calendar: urls.calendar(token, None),
            start: urls.page_action("start"),
            disconnect: urls.page_action("disconnect"),
            pin: urls.page_action("pin"),
            signin: urls.page_action("signin"),
            cancel: urls.page_action("calendar/cancel"),
        }
    }
}

#[derive(Template)]
#[template(path = "connect/page.html")]
pub struct ConnectPage {
    pub t: Texts,
    pub assets: &'static AssetUrls,
    pub frame: Frame,
    pub progress: String,
    pub platforms: Vec<PlatformRow>,
    pub notice: Option<Notice>,
    /// Some platform on the page is the emulator.
    pub sandbox: bool,
}

/// A message at the top of the page.
pub struct Notice {
    /// `success`, `info` or `error`: a CSS class.
    pub kind: &'static str,
    pub text: String,
    /// The platform's own words.
    pub detail: Option<String>,
}

impl Notice {
    pub fn new(kind: &'static str, text: String, detail: Option<String>) -> Self {
        Self { kind, text, detail }
    }
}

#[derive(Template)]
#[template(path = "connect/signin.html")]
pub struct SigninPage {
    pub t: Texts,
    pub assets: &'static AssetUrls,
    pub title: String,
    pub help: String,
    pub platform_key: &'static str,
    pub badge: &'static str,
    pub sandbox: bool,
    pub token: String,
    pub csrf: String,
    pub action: String,
    pub back_href: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "connect/done.html")]
pub struct DonePage {
    pub t: Texts,
    pub assets: &'static AssetUrls,
    pub message: String,
}

pub struct PlatformRow {
    pub key: &'static str,
    pub name: &'static str,
    pub badge: &'static str,
    /// `connected`, `not-connected` or `reauth`: a CSS class and a test hook.
    pub state: &'static str,
    pub status: String,
    pub handle: Option<String>,
    pub display_name: Option<String>,
    pub avatar: Option<String>,
    pub button: String,
    /// Offers Disconnect and "use another account".
    pub connected: bool,
    /// Connected through the emulator.
    pub sandbox: bool,
    /// The Page / location choice, for platforms that have one.
    pub picker: Option<Picker>,
}

pub struct Picker {
    pub label: String,
    pub options: Vec<PickerOption>,
}

pub struct PickerOption {
    pub id: String,
    pub name: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "connect/calendar.html")]
pub struct CalendarPage {
    pub t: Texts,
    pub assets: &'static AssetUrls,
    pub frame: Frame,
    pub month_title: String,
    pub month_param: String,
    pub prev_href: String,
    pub next_href: String,
    pub today_href: String,
    pub weekdays: Vec<String>,
    pub weeks: Vec<Vec<DayCell>>,
    pub agenda: Vec<PostRow>,
}

pub struct DayCell {
    pub day: u32,
    pub in_month: bool,
    pub today: bool,
    pub chips: Vec<Chip>,
}

pub struct Chip {
    pub key: &'static str,
    pub name: &'static str,
    pub status: String,
}

pub struct PostRow {
    pub id: String,
    pub platform_key: &'static str,
    pub platform_name: &'static str,
    pub badge: &'static str,
    pub status: String,
    pub status_text: String,
    pub datetime: String,
    pub date_label: String,
    pub time: String,
    pub text: String,
    pub media: Option<String>,
    pub can_cancel: bool,
}

#[derive(Template)]
#[template(path = "connect/error.html")]
pub struct ErrorPage {
    pub t: Texts,
    pub assets: &'static AssetUrls,
    pub heading: String,
    pub message: String,
    pub hint: Option<String>,
    pub code: &'static str,
    pub back_href: Option<String>,
}

#[derive(Template)]
#[template(path = "connect/bounce.html")]
pub struct BouncePage {
    pub t: Texts,
    pub assets: &'static AssetUrls,
    pub platform_key: &'static str,
    pub platform_name: &'static str,
    pub badge: &'static str,
    pub url: String,
}
