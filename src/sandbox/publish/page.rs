//! The pages a published post is seen at in the sandbox: the post with its media and the
//! replies of its thread, and each media item with its stored content type.

use super::super::{Sandbox, consent};
use super::author;
use crate::assets::AssetUrls;
use crate::db::sandbox::{self as state, Post};
use crate::domain::{Platform, time};
use actix_web::HttpResponse;
use actix_web::http::{StatusCode, header};
use actix_web::web::{self, Data, Path};
use askama::Template;

/// At most this many replies are shown under a post.
const MAX_THREAD: usize = 100;

struct Entry {
    name: &'static str,
    handle: String,
    avatar: String,
    text: String,
    time: String,
    url: String,
    /// `(url, alt text, is a video)` per item.
    media: Vec<(String, String, bool)>,
    /// A poll's options (X's `poll`, Threads' `poll_attachment`, both kept as `poll`).
    poll: Vec<String>,
    /// A link attached to the post (Threads' `link_attachment`).
    link: Option<String>,
    /// Settings the post was made with that its text does not show (X's audience, labels).
    notes: Vec<String>,
}

#[derive(Template)]
#[template(path = "sandbox/post.html")]
struct PostPage {
    css: String,
    platform_name: &'static str,
    post: Entry,
    /// The page of the post this one answers.
    parent: Option<String>,
    /// The page of the post this one quotes.
    quote: Option<String>,
    thread: Vec<Entry>,
}

fn not_found(what: &str) -> HttpResponse {
    HttpResponse::NotFound()
        .content_type("text/plain; charset=utf-8")
        .body(format!("Sandbox: no such {what}"))
}

/// `GET /sandbox/<platform>/_posts/<id>`.
pub async fn post_page(sandbox: Data<Sandbox>, path: Path<(String, String)>) -> HttpResponse {
    let (platform, id) = path.into_inner();
    let Some(platform) = Platform::parse(&platform) else {
        return not_found("platform");
    };
    let found = sandbox
        .run(move |conn| {
            let Some(post) = state::find_post(conn, platform, &id)? else {
                return Ok(None);
            };
            // The replies under it, level by level.
            let mut thread: Vec<Post> = Vec::new();
            let mut level = vec![post.post_id.clone()];
            while !level.is_empty() && thread.len() < MAX_THREAD {
                let next = state::replies(conn, platform, &level)?;
                level = next.iter().map(|p| p.post_id.clone()).collect();
                thread.extend(next);
            }
            thread.truncate(MAX_THREAD);
            let mut media = Vec::new();
            for p in std::iter::once(&post).chain(&thread) {
                for id in p.media_ids() {
                    media.push(state::find_media(conn, platform, Some(p.person), &id)?);
                }
            }
            Ok(Some((post, thread, media)))
        })
        .await;
    let (post, thread, media) = match found {
        Ok(Some(found)) => found,
        Ok(None) => return not_found("post"),
        Err(down) => return down.answer(platform),
    };
    let mut media = media.into_iter();
    let mut entry = |p: &Post| entry(&sandbox, platform, p, &mut media);
    let page = PostPage {
        css: AssetUrls::new(&sandbox.urls).css,
        platform_name: platform.display_name(),
        parent: post
            .reply_to
            .as_deref()
            .map(|id| sandbox.post_url(platform, id)),
        quote: post
            .quote_of
            .as_deref()
            .map(|id| sandbox.post_url(platform, id)),
        post: entry(&post),
        thread: thread.iter().map(entry).collect(),
    };
    crate::web::html(StatusCode::OK, &page)
        .unwrap_or_else(|e| HttpResponse::InternalServerError().body(e.to_string()))
}

/// How a post shows: its author, text, time and media (alt texts the post carries win
/// over those set on the media).
fn entry(
    sandbox: &Sandbox,
    platform: Platform,
    post: &Post,
    media: &mut impl Iterator<Item = Option<state::Media>>,
) -> Entry {
    let person = usize::try_from(post.person)
        .ok()
        .filter(|n| *n < super::people::PEOPLE.len())
        .unwrap_or_default();
    let (handle, name) = author(platform, person);
    let extra = post.extra();
    let alts = extra["alt_texts"].as_array().cloned().unwrap_or_default();
    let items = post
        .media_ids()
        .iter()
        .enumerate()
        .filter_map(|(i, id)| {
            let stored = media.next().flatten();
            let alt = alts
                .get(i)
                .and_then(|a| a.as_str())
                .map(str::to_owned)
                .or_else(|| stored.as_ref().and_then(|m| m.alt_text.clone()));
            stored.map(|m| {
                let video = m.content_type.starts_with("video/");
                (
                    sandbox.media_url(platform, id),
                    alt.unwrap_or_default(),
                    video,
                )
            })
        })
        .collect();
    Entry {
        name,
        handle,
        avatar: consent::avatar_url(sandbox, platform, person),
        text: post.text.clone(),
        time: time::rfc3339(post.created_at),
        url: sandbox.post_url(platform, &post.post_id),
        media: items,
        poll: extra["poll"]["options"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|o| o.as_str().map(str::to_owned))
            .collect(),
        link: extra["link_attachment"].as_str().map(str::to_owned),
        notes: match platform {
            Platform::X => super::x::notes(&extra),
            _ => Vec::new(),
        },
    }
}

/// `GET /sandbox/<platform>/_media/<id>`: the bytes, with the type they were stored with.
pub async fn media(sandbox: Data<Sandbox>, path: Path<(String, String)>) -> HttpResponse {
    let (platform, id) = path.into_inner();
    let Some(platform) = Platform::parse(&platform) else {
        return not_found("platform");
    };
    let wanted = id.clone();
    let found = match sandbox
        .run(move |conn| state::find_media(conn, platform, None, &wanted))
        .await
    {
        Ok(Some(found)) => found,
        Ok(None) => return not_found("media"),
        Err(down) => return down.answer(platform),
    };
    let path = sandbox.media_path(platform, &id);
    match web::block(move || std::fs::read(path)).await {
        Ok(Ok(bytes)) => HttpResponse::Ok()
            .content_type(found.content_type)
            .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
            .insert_header(("X-Content-Type-Options", "nosniff"))
            .body(bytes),
        _ => not_found("media file"),
    }
}
