//! Google Business Profile: a local post (My Business API v4,
//! `POST {accounts/…/locations/…}/localPosts`) — `STANDARD`, `EVENT` or `OFFER`, with a
//! call to action and a photo or video Google pulls from the signed URL Postgate serves it
//! at. The location is `gbp_location_id`, else the one pinned on the connection, else the
//! account's only location. `find` lists the location's posts; `unpublish` deletes one.

use super::{endpoint, sandbox_page};
use crate::domain::Platform;
use crate::domain::upload::{Fields, MediaKind, PostKind};
use crate::oauth::http::string_at;
use crate::publish::http::{self, Effect};
use crate::publish::publisher::{Call, Post, Progress, PublishError, Published, Publisher};
use async_trait::async_trait;
use reqwest::Method;
use serde_json::{Map, Value, json};

pub struct GoogleBusiness;

const PLATFORM: Platform = Platform::GoogleBusiness;
const MAX_SUMMARY: usize = 1500;
const TOPICS: [&str; 3] = ["STANDARD", "EVENT", "OFFER"];
const ACTIONS: [&str; 6] = ["BOOK", "ORDER", "SHOP", "LEARN_MORE", "SIGN_UP", "CALL"];
const MEDIA_FORMATS: [&str; 2] = ["PHOTO", "VIDEO"];

/// A local post as Google will get it (without its location and media), read once.
#[derive(Debug, Clone, PartialEq)]
struct Plan {
    body: Map<String, Value>,
    /// `gbp_media_url` with its format, instead of an uploaded file.
    media_url: Option<(String, String)>,
    location: Option<String>,
}

fn invalid(message: impl Into<String>) -> PublishError {
    PublishError::invalid("invalid_field", message)
}

fn upper(fields: &Fields, names: &[&str]) -> Option<String> {
    fields
        .first_text(names)
        .map(|v| v.trim().to_ascii_uppercase())
}

fn is_web_url(link: &str) -> bool {
    url::Url::parse(link).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
}

fn plan(post: &Post) -> Result<Plan, PublishError> {
    let fields = &post.fields;
    if upper(fields, &["gbp_post_type"]).is_some_and(|t| t != "POST")
        || fields.flag("gbp_upload_to_gallery").ok().flatten() == Some(true)
    {
        return Err(PublishError::unsupported(
            "gbp_gallery_not_supported",
            "Uploads to a Business Profile's photo gallery are not supported yet; leave out gbp_post_type and gbp_upload_to_gallery for a post",
        ));
    }
    let summary = post.text(PLATFORM);
    if summary.chars().count() > MAX_SUMMARY {
        return Err(PublishError::invalid(
            "text_too_long",
            format!("A Business Profile post is at most {MAX_SUMMARY} characters"),
        ));
    }
    let topic = upper(fields, &["gbp_topic_type"]).unwrap_or_else(|| "STANDARD".to_owned());
    if !TOPICS.contains(&topic.as_str()) {
        return Err(invalid(format!(
            "gbp_topic_type is one of {}",
            TOPICS.join(", ")
        )));
    }
    let language = fields
        .first_text(&["gbp_language_code", "language_code", "gbp_language"])
        .unwrap_or("en");
    let mut body = Map::new();
    body.insert("languageCode".to_owned(), language.trim().into());
    body.insert("topicType".to_owned(), topic.as_str().into());
    if !summary.is_empty() {
        body.insert("summary".to_owned(), summary.into());
    }
    if let Some(cta) = call_to_action(fields)? {
        body.insert("callToAction".to_owned(), cta);
    }
    if topic != "STANDARD" {
        body.insert("event".to_owned(), event(fields)?);
    }
    if topic == "OFFER" {
        body.insert("offer".to_owned(), offer(fields)?);
    }
    if summary.is_empty() && topic == "STANDARD" && post.media.is_empty() {
        return Err(PublishError::invalid(
            "text_required",
            "A Business Profile post needs a text or a photo",
        ));
    }
    Ok(Plan {
        body,
        media_url: media_url(post)?,
        location: fields.text("gbp_location_id").map(|l| l.trim().to_owned()),
    })
    .and_then(|plan| {
        if let Some(l) = &plan.location
            && !(l.starts_with("accounts/") && l.contains("/locations/"))
        {
            return Err(invalid("gbp_location_id is accounts/…/locations/…"));
        }
        Ok(plan)
    })
}

fn call_to_action(fields: &Fields) -> Result<Option<Value>, PublishError> {
    let Some(action) = upper(
        fields,
        &[
            "gbp_cta_type",
            "cta_type",
            "cta_action_type",
            "gbp_cta_action_type",
        ],
    ) else {
        return Ok(None);
    };
    if !ACTIONS.contains(&action.as_str()) {
        return Err(invalid(format!(
            "gbp_cta_type is one of {}",
            ACTIONS.join(", ")
        )));
    }
    let url = fields
        .first_text(&["gbp_cta_url", "cta_url"])
        .map(str::trim);
    match (action.as_str(), url) {
        ("CALL", _) => Ok(Some(json!({"actionType": "CALL"}))),
        (_, Some(url)) if is_web_url(url) => Ok(Some(json!({"actionType": action, "url": url}))),
        _ => Err(invalid(format!(
            "gbp_cta_type {action} needs gbp_cta_url, an http(s) URL"
        ))),
    }
}

/// `YYYY-MM-DD` as Google's `Date`.
fn date(name: &str, raw: &str) -> Result<Value, PublishError> {
    let d = chrono::NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .map_err(|_| invalid(format!("{name} is a date, YYYY-MM-DD")))?;
    use chrono::Datelike;
    Ok(json!({"year": d.year(), "month": d.month(), "day": d.day()}))
}

/// `HH:MM` as Google's `TimeOfDay`.
fn time_of_day(name: &str, raw: &str) -> Result<Value, PublishError> {
    let t = chrono::NaiveTime::parse_from_str(raw.trim(), "%H:%M")
        .map_err(|_| invalid(format!("{name} is a time, HH:MM")))?;
    use chrono::Timelike;
    Ok(json!({"hours": t.hour(), "minutes": t.minute()}))
}

/// An event (the title and dates of an `EVENT` or an `OFFER`).
fn event(fields: &Fields) -> Result<Value, PublishError> {
    let (Some(title), Some(start), Some(end)) = (
        fields.text("gbp_event_title"),
        fields.text("gbp_event_start_date"),
        fields.text("gbp_event_end_date"),
    ) else {
        return Err(PublishError::invalid(
            "gbp_event_required",
            "EVENT and OFFER posts need gbp_event_title, gbp_event_start_date and gbp_event_end_date",
        ));
    };
    let mut schedule = json!({
        "startDate": date("gbp_event_start_date", start)?,
        "endDate": date("gbp_event_end_date", end)?,
    });
    if let Some(t) = fields.text("gbp_event_start_time") {
        schedule["startTime"] = time_of_day("gbp_event_start_time", t)?;
    }
    if let Some(t) = fields.text("gbp_event_end_time") {
        schedule["endTime"] = time_of_day("gbp_event_end_time", t)?;
    }
    Ok(json!({"title": title, "schedule": schedule}))
}

fn offer(fields: &Fields) -> Result<Value, PublishError> {
    let mut offer = Map::new();
    if let Some(code) = fields.first_text(&[
        "gbp_offer_coupon",
        "gbp_coupon_code",
        "coupon_code",
        "offer_coupon",
    ]) {
        offer.insert("couponCode".to_owned(), code.into());
    }
    if let Some(url) = fields.first_text(&["gbp_offer_redeem_url", "gbp_redeem_url"]) {
        if !is_web_url(url.trim()) {
            return Err(invalid("gbp_offer_redeem_url must be an http(s) URL"));
        }
        offer.insert("redeemOnlineUrl".to_owned(), url.trim().into());
    }
    if let Some(terms) = fields.first_text(&["gbp_offer_terms", "gbp_terms"]) {
        offer.insert("termsConditions".to_owned(), terms.into());
    }
    Ok(Value::Object(offer))
}

/// The post's media by URL (`gbp_media_url`, `gbp_media_format`), and the kinds of
/// uploaded media a local post takes: one photo or one video.
fn media_url(post: &Post) -> Result<Option<(String, String)>, PublishError> {
    match post.kind {
        PostKind::Document => {
            return Err(PublishError::invalid(
                "unsupported_media",
                "Business Profile posts do not take documents",
            ));
        }
        PostKind::Photos | PostKind::Video if post.media.len() > 1 => {
            return Err(PublishError::invalid(
                "too_many_images",
                "A Business Profile post takes one photo or video",
            ));
        }
        _ => {}
    }
    let Some(url) = post.fields.text("gbp_media_url").map(str::trim) else {
        return Ok(None);
    };
    if !is_web_url(url) {
        return Err(invalid("gbp_media_url must be an http(s) URL"));
    }
    let format = upper(&post.fields, &["gbp_media_format"]).unwrap_or_else(|| "PHOTO".to_owned());
    if !MEDIA_FORMATS.contains(&format.as_str()) {
        return Err(invalid("gbp_media_format is PHOTO or VIDEO"));
    }
    Ok(Some((url.to_owned(), format)))
}

fn api(call: &Call<'_>, method: Method, url: &url::Url) -> reqwest::RequestBuilder {
    call.app
        .http
        .request(method, url)
        .bearer_auth(&call.tokens.access_token)
}

/// `path` under the My Business v4 root.
fn v4(call: &Call<'_>, path: &str) -> Result<url::Url, PublishError> {
    endpoint(call.app, "mybusiness")?
        .join(path)
        .map_err(|e| PublishError::refused("invalid_id", format!("{path:?}: {e}"), false))
}

/// The location: the request's, else the pinned one, else the account's only location.
async fn location(call: &Call<'_>, plan: &Plan) -> Result<String, PublishError> {
    if let Some(l) = plan
        .location
        .as_deref()
        .or(call.connection.selected_target_id.as_deref())
    {
        return Ok(l.to_owned());
    }
    let accounts = http::send(
        api(call, Method::GET, &endpoint(call.app, "accounts")?),
        Effect::Harmless,
    )
    .await?
    .body;
    let mut found = Vec::new();
    for account in accounts["accounts"].as_array().into_iter().flatten() {
        let Some(name) = string_at(account, "name") else {
            continue;
        };
        let mut url = endpoint(call.app, "business_information")?
            .join(&format!("{name}/locations"))
            .map_err(|e| PublishError::refused("invalid_id", e.to_string(), false))?;
        url.query_pairs_mut()
            .append_pair("readMask", "name,title")
            .append_pair("pageSize", "100");
        let listed = http::send(api(call, Method::GET, &url), Effect::Harmless).await?;
        found.extend(
            listed.body["locations"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|l| string_at(l, "name"))
                .map(|l| format!("{name}/{l}")),
        );
    }
    match found.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(PublishError::invalid(
            "gbp_location_required",
            "This Google account manages no Business Profile location",
        )),
        several => Err(PublishError::invalid(
            "gbp_location_required",
            format!(
                "This Google account manages several locations: choose one with gbp_location_id or pin it. available_locations: {}",
                several.join(", ")
            ),
        )),
    }
}

fn published(call: &Call<'_>, post: &Value) -> Result<Published, PublishError> {
    let name = string_at(post, "name")
        .ok_or_else(|| PublishError::InDoubt(format!("Google named no post: {post}")))?;
    let local = name.rsplit('/').next().unwrap_or_default();
    Ok(Published {
        url: sandbox_page(call.app, "mybusiness", local).or_else(|| string_at(post, "searchUrl")),
        post_id: name,
        ..Published::default()
    })
}

#[async_trait]
impl Publisher for GoogleBusiness {
    fn platform(&self) -> Platform {
        PLATFORM
    }

    fn check(&self, post: &Post) -> Result<Vec<String>, PublishError> {
        plan(post).map(|_| Vec::new())
    }

    async fn publish(&self, call: &Call<'_>, post: &Post) -> Result<Progress, PublishError> {
        let plan = plan(post)?;
        let location = location(call, &plan).await?;
        let mut body = plan.body.clone();
        let media: Vec<Value> = match (&plan.media_url, post.media.first()) {
            (_, Some(m)) => {
                let format = if m.kind == MediaKind::Video {
                    "VIDEO"
                } else {
                    "PHOTO"
                };
                vec![json!({"mediaFormat": format, "sourceUrl": call.media.public_url(m)})]
            }
            (Some((url, format)), None) => vec![json!({"mediaFormat": format, "sourceUrl": url})],
            (None, None) => Vec::new(),
        };
        if !media.is_empty() {
            body.insert("media".to_owned(), media.into());
        }
        let url = v4(call, &format!("{location}/localPosts"))?;
        let made = http::send(api(call, Method::POST, &url).json(&body), Effect::Creates).await?;
        if made.body["state"] == "REJECTED" {
            return Err(PublishError::refused(
                "gbp_post_rejected",
                "Google rejected the post (it breaks Google's content policies)",
                false,
            ));
        }
        published(call, &made.body).map(Progress::Done)
    }

    /// The location's posts made since `call.since` with the same text and topic.
    async fn find(&self, call: &Call<'_>, post: &Post) -> Result<Option<Published>, PublishError> {
        let plan = plan(post)?;
        let location = location(call, &plan).await?;
        let mut url = v4(call, &format!("{location}/localPosts"))?;
        url.query_pairs_mut().append_pair("pageSize", "100");
        let listed = http::send(api(call, Method::GET, &url), Effect::Harmless).await?;
        let since = call.looked_up_since();
        listed.body["localPosts"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| {
                p["summary"] == plan.body.get("summary").cloned().unwrap_or(json!(null))
                    && p["topicType"] == plan.body["topicType"]
                    && p["createTime"]
                        .as_str()
                        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                        .is_some_and(|t| t.naive_utc() >= since)
            })
            .map(|p| published(call, p))
            .transpose()
    }

    async fn unpublish(&self, call: &Call<'_>, post_id: &str) -> Result<(), PublishError> {
        let url = v4(call, post_id)?;
        http::send(api(call, Method::DELETE, &url), Effect::Harmless).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::publisher::samples;

    fn text(pairs: &[(&str, &str)]) -> Post {
        samples::post(PostKind::Text, pairs, vec![])
    }

    #[test]
    fn an_offer_with_its_event_and_a_call_to_action() {
        let p = text(&[
            ("title", "Half price"),
            ("gbp_topic_type", "offer"),
            ("gbp_event_title", "Spring sale"),
            ("gbp_event_start_date", "2027-03-01"),
            ("gbp_event_start_time", "09:30"),
            ("gbp_event_end_date", "2027-03-31"),
            ("coupon_code", "SPRING"),
            ("gbp_redeem_url", "https://e.com/r"),
            ("gbp_terms", "One per visit"),
            ("cta_type", "shop"),
            ("cta_url", "https://e.com/shop"),
            ("language_code", "de"),
        ]);
        let body = Value::Object(plan(&p).unwrap().body);
        assert_eq!(
            body,
            json!({"languageCode": "de", "topicType": "OFFER", "summary": "Half price",
                "callToAction": {"actionType": "SHOP", "url": "https://e.com/shop"},
                "event": {"title": "Spring sale", "schedule": {
                    "startDate": {"year": 2027, "month": 3, "day": 1},
                    "endDate": {"year": 2027, "month": 3, "day": 31},
                    "startTime": {"hours": 9, "minutes": 30}}},
                "offer": {"couponCode": "SPRING", "redeemOnlineUrl": "https://e.com/r",
                    "termsConditions": "One per visit"}})
        );
    }

    #[test]
    fn refusals_before_any_call() {
        let code = |p: &Post| plan(p).unwrap_err().code().to_owned();
        assert_eq!(
            code(&text(&[("title", "t"), ("gbp_cta_type", "DANCE")])),
            "invalid_field"
        );
        assert_eq!(
            code(&text(&[("title", "t"), ("gbp_cta_type", "BOOK")])),
            "invalid_field"
        );
        assert!(plan(&text(&[("title", "t"), ("gbp_cta_type", "CALL")])).is_ok());
        assert_eq!(
            code(&text(&[("title", "t"), ("gbp_topic_type", "EVENT")])),
            "gbp_event_required"
        );
        assert_eq!(
            code(&text(&[
                ("title", "t"),
                ("gbp_topic_type", "EVENT"),
                ("gbp_event_title", "e"),
                ("gbp_event_start_date", "01/03/2027"),
                ("gbp_event_end_date", "2027-03-02"),
            ])),
            "invalid_field"
        );
        assert_eq!(
            code(&text(&[("title", "t"), ("gbp_topic_type", "ALERT")])),
            "invalid_field"
        );
        assert_eq!(
            code(&text(&[("title", "t"), ("gbp_location_id", "42")])),
            "invalid_field"
        );
        assert_eq!(
            code(&text(&[("title", "t"), ("gbp_upload_to_gallery", "true")])),
            "gbp_gallery_not_supported"
        );
        assert_eq!(
            code(&text(&[("title", &"x".repeat(1501))])),
            "text_too_long"
        );
        assert_eq!(code(&text(&[])), "text_required");
    }
}
