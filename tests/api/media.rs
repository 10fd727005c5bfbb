//! Media: staged uploads over HTTP, signed media URLs, the disk budget, the sweeper, media
//! URLs fetched through the outbound guard, and the store against the local disk (and, in
//! `s3_cases`, a real S3 server).

use crate::support::video;
use crate::support::wait::{WAIT, until};
use crate::support::{TEST_LINK_SIGNING_KEY, TestApp, send};
use actix_web::{App, HttpResponse, HttpServer, web};
use bytes::Bytes;
use postgate::config::{RawSettings, Settings};
use postgate::db::schema::media_objects;
use postgate::domain::link_token::LinkSigner;
use postgate::domain::upload::MediaKind;
use postgate::media::store::{PART_BYTES, Store};
use postgate::media::{Library, MediaError, probe};
use postgate::publish::publisher::{MediaSource, VideoInfo};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

crate::cases![
    videos_are_probed_when_stored,
    staged_upload_round_trip,
    staged_uploads_refuse_what_does_not_match,
    signed_media_urls,
    expired_uploads_are_swept,
    the_disk_budget_refuses_and_is_reported,
    urls_are_fetched_through_the_guard,
    deleting_a_profile_sweeps_its_media,
    local_store_suite,
];

fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/media")
        .join(name)
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixture_path(name)).expect("fixture")
}

/// Stages an upload of `bytes` as `media_type`; returns the create response.
async fn stage(app: &TestApp, name: &str, len: usize, media_type: &str) -> (StatusCode, Value) {
    send(app.post(
        "/media-uploads",
        &json!({"filename": name, "content_type": "application/octet-stream",
                "content_length": len, "media_type": media_type, "source": "local"}),
    ))
    .await
}

async fn put(app: &TestApp, url: &str, body: Vec<u8>) -> (StatusCode, Value) {
    send(app.client.put(url).body(body)).await
}

/// An uploaded video's duration, size and codecs, as a publisher is given them, whether it
/// came in the request or as a staged upload.
async fn videos_are_probed_when_stored(app: &TestApp) {
    let clip = video::mp4(12_000, 1080, 1920, 50_000);
    let lib = library(app, |_| {});
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &clip).unwrap();
    let account = app.account_id.clone();
    let stored = lib
        .ingest_file(
            &account,
            None,
            file.path(),
            Some("clip.mp4"),
            &[MediaKind::Video],
        )
        .await
        .unwrap();
    let info = stored.video.expect("probed");
    assert_eq!(
        (info.duration_ms, info.width, info.height),
        (12_000, 1080, 1920)
    );
    // A video the prober cannot read is stored all the same, unprobed.
    std::fs::write(file.path(), fixture("clip.mp4")).unwrap();
    let unreadable = lib
        .ingest_file(
            &account,
            None,
            file.path(),
            Some("clip.mp4"),
            &[MediaKind::Video],
        )
        .await
        .unwrap();
    assert_eq!(unreadable.video, None);

    let (status, created) = stage(app, "clip.mp4", clip.len(), "video").await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let id = created["upload_id"].as_str().unwrap().to_owned();
    put(app, created["upload_url"].as_str().unwrap(), clip).await;
    let (status, done) = send(app.post(&format!("/media-uploads/{id}/complete"), &json!({}))).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    let row = app
        .with_db(move |c| postgate::db::media::find(c, &id).unwrap().expect("row"))
        .await;
    let info: VideoInfo = serde_json::from_str(row.video.as_deref().expect("probed")).unwrap();
    assert_eq!(info.duration_ms, 12_000);
}

async fn staged_upload_round_trip(app: &TestApp) {
    let png = fixture("pixel.png");
    let (status, created) = stage(app, "pixel.png", png.len(), "image").await;
    assert_eq!(status, StatusCode::OK, "{created}");
    assert_eq!(created["success"], true);
    assert_eq!(created["status"], "staging");
    assert_eq!(created["method"], "PUT");
    assert!(created["media_url"].is_null());
    assert!(created["expires_at"].as_str().unwrap().ends_with('Z'));
    let id = created["upload_id"].as_str().unwrap().to_owned();
    let upload_url = created["upload_url"].as_str().unwrap().to_owned();
    assert!(
        upload_url.starts_with(&app.url(&format!("/media/{id}?"))),
        "{upload_url}"
    );

    // Completing before the bytes arrived is a conflict, not a success.
    let (status, early) =
        send(app.post(&format!("/media-uploads/{id}/complete"), &json!({}))).await;
    assert_eq!(status, StatusCode::CONFLICT, "{early}");
    assert_eq!(early["error_code"], "MEDIA_UPLOAD_STATE");

    let (status, put_body) = put(app, &upload_url, png.clone()).await;
    assert_eq!(status, StatusCode::OK, "{put_body}");
    assert_eq!(put_body["status"], "uploaded");

    let (status, done) = send(app.post(&format!("/media-uploads/{id}/complete"), &json!({}))).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["status"], "ready");
    assert_eq!(done["content_type"], "image/png");
    assert_eq!(done["media_type"], "image");
    assert!(done["upload_url"].is_null());
    let media_url = done["media_url"].as_str().unwrap().to_owned();

    // Completing again answers the same.
    let (status, again) =
        send(app.post(&format!("/media-uploads/{id}/complete"), &json!({}))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["media_url"], done["media_url"]);

    // The media URL serves the bytes with their sniffed type.
    let resp = app.client.get(&media_url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "image/png");
    assert_eq!(resp.bytes().await.unwrap().as_ref(), png.as_slice());

    let (status, got) = send(app.get(&format!("/media-uploads/{id}"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got["media_url"], done["media_url"]);
    assert_eq!(got["filename"], "pixel.png");
    assert_eq!(got["source"], "local");

    // Another account sees nothing, and cannot complete or delete it.
    let (_, other_key) = app.new_account("default").await;
    for req in [
        app.get_as(&other_key, &format!("/media-uploads/{id}")),
        app.post_as(
            &other_key,
            &format!("/media-uploads/{id}/complete"),
            &json!({}),
        ),
        app.delete_as(&other_key, &format!("/media-uploads/{id}"), &json!({})),
    ] {
        let (status, body) = send(req).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        assert_eq!(body["error_code"], "MEDIA_UPLOAD_NOT_FOUND");
    }

    let (status, _) = send(app.delete(&format!("/media-uploads/{id}"), &json!({}))).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = send(app.get(&format!("/media-uploads/{id}"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let resp = app.client.get(&media_url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert!(media_files(app).is_empty(), "the file went with the upload");
}

async fn staged_uploads_refuse_what_does_not_match(app: &TestApp) {
    // Declared too big for its kind: the limit is named.
    let (status, body) = stage(app, "huge.png", 21 * 1024 * 1024, "image").await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body["error_code"], "MEDIA_TOO_LARGE");
    assert!(
        body["message"].as_str().unwrap().contains("20 MB"),
        "{body}"
    );
    for bad in [
        json!({"filename": "a.png", "content_length": 10, "media_type": "audio"}),
        json!({"filename": "a.png", "content_length": -1, "media_type": "image"}),
        json!({"filename": "a.png", "content_length": 0, "media_type": "image"}),
        json!({"content_length": 10, "media_type": "image"}),
        json!({"filename": "a.png", "content_length": 10}),
    ] {
        let (status, body) = send(app.post("/media-uploads", &bad)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }

    // Text declared as an image: the bytes decide, at completion.
    let text = fixture("notes.txt");
    let (_, created) = stage(app, "photo.jpg", text.len(), "image").await;
    let id = created["upload_id"].as_str().unwrap();
    let url = created["upload_url"].as_str().unwrap();
    // Longer and shorter bodies than declared are refused and nothing is kept.
    let (status, body) = put(app, url, [text.clone(), b"x".to_vec()].concat()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = put(app, url, text[..3].to_vec()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("declared"),
        "{body}"
    );
    let (status, _) = put(app, url, text).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = send(app.post(&format!("/media-uploads/{id}/complete"), &json!({}))).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");
    assert_eq!(body["error_code"], "UNSUPPORTED_MEDIA_TYPE");

    // A real video declared as a document is refused too.
    let mp4 = fixture("clip.mp4");
    let (_, created) = stage(app, "clip.mp4", mp4.len(), "document").await;
    let id = created["upload_id"].as_str().unwrap();
    put(app, created["upload_url"].as_str().unwrap(), mp4).await;
    let (status, body) = send(app.post(&format!("/media-uploads/{id}/complete"), &json!({}))).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("got video"),
        "{body}"
    );
}

/// `/media/{id}?exp=&sig=` signed as the server signs it, for any expiry.
fn signed(app: &TestApp, purpose: &str, id: &str, exp: i64) -> String {
    let sig = LinkSigner::new(TEST_LINK_SIGNING_KEY, &[])
        .unwrap()
        .mac_hex(purpose, &format!("{id}.{exp}"));
    app.url(&format!("/media/{id}?exp={exp}&sig={sig}"))
}

async fn signed_media_urls(app: &TestApp) {
    let gif = fixture("pixel.gif");
    let (_, created) = stage(app, "pixel.gif", gif.len(), "image").await;
    let id = created["upload_id"].as_str().unwrap().to_owned();
    let upload_url = created["upload_url"].as_str().unwrap().to_owned();

    // An upload URL does not serve, and a serving URL does not upload.
    let resp = app.client.get(&upload_url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let future = chrono::Utc::now().timestamp() + 600;
    let (status, _) = put(app, &signed(app, "media", &id, future), gif.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // An expired upload URL, validly signed, is refused.
    let past = chrono::Utc::now().timestamp() - 1;
    let (status, body) = put(app, &signed(app, "media-upload", &id, past), gif.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("expired"),
        "{body}"
    );

    put(app, &upload_url, gif.clone()).await;
    let (_, done) = send(app.post(&format!("/media-uploads/{id}/complete"), &json!({}))).await;
    let media_url = done["media_url"].as_str().unwrap().to_owned();
    let ok = app.client.get(&media_url).send().await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(ok.headers()["content-type"], "image/gif");

    // Tampered: another signature, another expiry, another id.
    let tampered_sig = {
        let (head, sig) = media_url.rsplit_once("sig=").unwrap();
        let flipped = if sig.starts_with('0') { "1" } else { "0" };
        format!("{head}sig={flipped}{}", &sig[1..])
    };
    let tampered_exp = media_url.replace("exp=", "exp=9");
    let other_id = media_url.replace(&id, "AAAAAAAAAAAAAAAAAAAAAAAA");
    for url in [tampered_sig, tampered_exp, other_id] {
        let (status, body) = send(app.client.get(&url)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{url}: {body}");
        assert_eq!(body["error_code"], "INVALID_SIGNATURE");
    }
    let (status, body) = send(app.client.get(signed(app, "media", &id, past))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        body["message"].as_str().unwrap().contains("expired"),
        "{body}"
    );
    // Validly signed, but nothing by that id.
    let (status, _) = send(app.client.get(signed(app, "media", "nothing", future))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // No signature at all: a JSON 4xx, never a 500.
    let (status, _) = send(app.client.get(app.url(&format!("/media/{id}")))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// The files of the local media store.
/// The files of the app's local media store.
pub(crate) fn media_files(app: &TestApp) -> Vec<PathBuf> {
    let dir = app.test_db.dir.path().join("media");
    std::fs::read_dir(&dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default()
}

async fn expired_uploads_are_swept(app: &TestApp) {
    let app = TestApp::spawn_with(app.test_db.backend, |raw| {
        raw.media_sweep_interval_ms = 100;
    })
    .await;
    let png = fixture("pixel.png");
    let (_, created) = stage(&app, "pixel.png", png.len(), "image").await;
    let id = created["upload_id"].as_str().unwrap().to_owned();
    put(&app, created["upload_url"].as_str().unwrap(), png).await;
    let (_, kept) = stage(&app, "kept.png", 10, "image").await;
    assert_eq!(media_files(&app).len(), 1);

    // A day later: the upload was never completed.
    let db = app.db.clone();
    let expired = id.clone();
    tokio::task::spawn_blocking(move || {
        use diesel::prelude::*;
        diesel::update(media_objects::table.find(expired))
            .set(media_objects::expires_at.eq(chrono::Utc::now().naive_utc()))
            .execute(&mut db.conn().unwrap())
    })
    .await
    .unwrap()
    .unwrap();
    until(
        WAIT,
        "the sweeper to delete the expired upload",
        async || send(app.get(&format!("/media-uploads/{id}"))).await.0 == StatusCode::NOT_FOUND,
    )
    .await;
    assert!(media_files(&app).is_empty(), "{:?}", media_files(&app));
    let kept = kept["upload_id"].as_str().unwrap();
    let (status, _) = send(app.get(&format!("/media-uploads/{kept}"))).await;
    assert_eq!(status, StatusCode::OK, "an upload within its day stays");
    app.stop().await;
}

async fn the_disk_budget_refuses_and_is_reported(app: &TestApp) {
    let app = TestApp::spawn_with(app.test_db.backend, |raw| {
        raw.media_max_stored_mb = 1;
        raw.metrics = true;
    })
    .await;
    let (status, first) = stage(&app, "a.mp4", 700 * 1024, "video").await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let (status, body) = stage(&app, "b.mp4", 400 * 1024, "video").await;
    assert_eq!(status, StatusCode::INSUFFICIENT_STORAGE, "{body}");
    assert_eq!(body["error_code"], "MEDIA_STORAGE_FULL");
    assert_eq!(body["success"], false);
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(&format!("postgate_media_stored_bytes {}", 700 * 1024)),
        "{metrics}"
    );
    assert!(
        metrics.contains(&format!("postgate_media_budget_bytes {}", 1024 * 1024)),
        "{metrics}"
    );
    // Freeing space lets the next one in.
    let id = first["upload_id"].as_str().unwrap();
    send(app.delete(&format!("/media-uploads/{id}"), &json!({}))).await;
    let (status, _) = stage(&app, "b.mp4", 400 * 1024, "video").await;
    assert_eq!(status, StatusCode::OK);
    app.stop().await;
}

/// A library of its own on the test's database and data directory.
fn library(app: &TestApp, customize: impl FnOnce(&mut RawSettings)) -> Library {
    let mut raw = app.raw_settings();
    customize(&mut raw);
    let settings = Settings::from_raw(raw).expect("settings");
    let base = url::Url::parse(&app.address).unwrap();
    Library::open(
        &settings,
        app.db.clone(),
        postgate::urls::Urls::new(&base),
        postgate::metrics::Metrics::new().media,
    )
    .expect("library")
}

/// Serves fixtures (`/files/<name>`), a never-ending-looking PNG without a length, and a
/// redirect.
pub(crate) async fn file_server() -> String {
    let server = HttpServer::new(|| {
        App::new()
            .route(
                "/files/{name}",
                web::get().to(|name: web::Path<String>| async move {
                    HttpResponse::Ok().body(fixture(&name))
                }),
            )
            .route(
                "/big.png",
                web::get().to(|| async {
                    let head = Bytes::from(fixture("pixel.png"));
                    let rest = (0..64).map(|_| Bytes::from(vec![0u8; 64 * 1024]));
                    let chunks = std::iter::once(head)
                        .chain(rest)
                        .map(Ok::<_, actix_web::Error>);
                    HttpResponse::Ok().streaming(futures::stream::iter(chunks))
                }),
            )
            .route(
                "/moved",
                web::get().to(|| async {
                    HttpResponse::Found()
                        .insert_header(("Location", "/files/pixel.jpg"))
                        .finish()
                }),
            )
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .expect("bind file server");
    let addr = server.addrs()[0];
    tokio::spawn(server.run());
    format!("http://{addr}")
}

async fn profile_id(app: &TestApp, username: &str) -> String {
    app.create_profile(username).await;
    let db = app.db.clone();
    let account = app.account_id.clone();
    let username = postgate::domain::Username::parse(username).unwrap();
    tokio::task::spawn_blocking(move || {
        postgate::db::profiles::find(&mut db.conn().unwrap(), &account, &username)
    })
    .await
    .unwrap()
    .unwrap()
    .expect("profile")
    .id
}

async fn urls_are_fetched_through_the_guard(app: &TestApp) {
    let files = file_server().await;
    // Tests allow private addresses, as `webhooks_allow_private_targets = true` does.
    let lib = library(app, |raw| raw.media_max_image_mb = 1);
    let profile = profile_id(app, "fetcher").await;
    let account = app.account_id.as_str();
    let image = [MediaKind::Image];

    let png = lib
        .ingest_url(
            account,
            Some(&profile),
            &format!("{files}/files/pixel.png"),
            &image,
        )
        .await
        .expect("fetched");
    assert_eq!(png.kind, MediaKind::Image);
    assert_eq!(png.content_type, "image/png");
    assert_eq!(png.size, fixture("pixel.png").len() as u64);
    assert_eq!(
        lib.bytes(&png).await.unwrap().as_ref(),
        fixture("pixel.png")
    );
    // A redirect is followed (and checked like the first URL).
    let jpg = lib
        .ingest_url(account, None, &format!("{files}/moved"), &image)
        .await
        .expect("redirected");
    assert_eq!(jpg.content_type, "image/jpeg");
    // The public URL of stored media serves it.
    let served = app.client.get(lib.public_url(&jpg)).send().await.unwrap();
    assert_eq!(served.headers()["content-type"], "image/jpeg");
    assert_eq!(served.bytes().await.unwrap().as_ref(), fixture("pixel.jpg"));

    let refused = async |lib: &Library, url: String, allowed: &[MediaKind]| {
        lib.ingest_url(account, None, &url, allowed)
            .await
            .expect_err(&url)
    };
    let err = refused(&lib, format!("{files}/files/notes.txt"), &image).await;
    assert!(matches!(err, MediaError::Unsupported(_)), "{err}");
    let err = refused(&lib, format!("{files}/files/clip.mp4"), &image).await;
    assert!(err.to_string().contains("got video"), "{err}");
    // Past the limit while streaming (the server sends no length): refused, limit named.
    let err = refused(&lib, format!("{files}/big.png"), &image).await;
    assert!(
        matches!(err, MediaError::TooLarge { limit_bytes, .. } if limit_bytes == 1024 * 1024),
        "{err}"
    );
    assert!(err.to_string().contains("1 MB"), "{err}");
    let err = refused(&lib, format!("{files}/nothing"), &image).await;
    assert!(err.to_string().contains("404"), "{err}");
    for bad in [
        "not a url",
        "ftp://example.com/a.png",
        "http://u:p@example.com/a.png",
    ] {
        let err = refused(&lib, bad.to_owned(), &image).await;
        assert!(matches!(err, MediaError::BadUrl(_)), "{bad}: {err}");
    }

    // Without the private switch, the same server is out of reach, by address or by name.
    let public_only = library(app, |raw| raw.webhooks_allow_private_targets = false);
    let port = files.rsplit(':').next().unwrap();
    for url in [
        format!("{files}/files/pixel.png"),
        format!("http://localhost:{port}/files/pixel.png"),
        format!("http://[::ffff:127.0.0.1]:{port}/files/pixel.png"),
    ] {
        let err = refused(&public_only, url.clone(), &image).await;
        assert!(matches!(err, MediaError::BadUrl(_)), "{url}: {err}");
        assert!(err.to_string().contains("private"), "{url}: {err}");
    }
    // Nothing was kept of what was refused: two items, two objects, their bytes counted.
    let usage = lib.usage().await.unwrap();
    assert_eq!(
        usage,
        (fixture("pixel.png").len() + fixture("pixel.jpg").len()) as u64
    );
    assert_eq!(lib.store().keys().await.unwrap().len(), 2);
}

async fn deleting_a_profile_sweeps_its_media(app: &TestApp) {
    let lib = library(app, |_| {});
    let profile = profile_id(app, "leaving").await;
    let account = app.account_id.as_str();
    let doc = lib
        .ingest_file(
            account,
            Some(&profile),
            &fixture_path("page.pdf"),
            Some("upload.bin"),
            &[MediaKind::Document],
        )
        .await
        .expect("stored");
    assert_eq!(doc.content_type, "application/pdf");
    let other = lib
        .ingest_file(
            account,
            None,
            &fixture_path("clip.mov"),
            None,
            &[MediaKind::Video],
        )
        .await
        .expect("stored");
    assert_eq!(other.content_type, "video/quicktime");
    assert_eq!(lib.store().keys().await.unwrap().len(), 2);

    let (status, _) = send(app.delete("/users", &json!({"username": "leaving"}))).await;
    assert_eq!(status, StatusCode::OK);
    let swept = lib.sweep().await.unwrap();
    assert_eq!(swept.orphans, 1, "{swept:?}");
    assert_eq!(
        lib.store().keys().await.unwrap(),
        std::slice::from_ref(&other.id)
    );
    assert_eq!(lib.usage().await.unwrap(), other.size);

    // Released media goes at the sweep after its time.
    let id = other.id.clone();
    app.with_db(move |c| {
        postgate::db::media::set_expiry(c, &[id], Some(chrono::Utc::now().naive_utc())).unwrap()
    })
    .await;
    assert_eq!(lib.sweep().await.unwrap().expired, 1);
    assert!(lib.store().keys().await.unwrap().is_empty());
    assert_eq!(lib.usage().await.unwrap(), 0);
}

async fn local_store_suite(app: &TestApp) {
    // A directory of its own: the app's sweeper deletes objects without a row in its own.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();
    store_suite(&library(app, |raw| raw.data_dir = path).store().clone()).await;
}

/// What the library relies on from any store: small and multipart writes read back whole,
/// by range and as a stream; aborted writes leave nothing; deletes are idempotent.
pub async fn store_suite(store: &Store) {
    let small = fixture("pixel.png");
    let mut w = store.writer("small");
    w.write(&small).await.unwrap();
    assert_eq!(w.finish().await.unwrap(), small.len() as u64);
    assert_eq!(
        store.read("small").await.unwrap().as_ref(),
        small.as_slice()
    );
    assert_eq!(
        store
            .head("small", 8, small.len() as u64)
            .await
            .unwrap()
            .as_ref(),
        &small[..8]
    );
    assert!(store.head("small", 8, 0).await.unwrap().is_empty());

    // Bigger than a part: a multipart upload, written in uneven chunks.
    let big: Vec<u8> = (0..PART_BYTES * 2 + 12345)
        .map(|i| (i % 251) as u8)
        .collect();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &big).unwrap();
    assert_eq!(
        store.put_file("big", file.path()).await.unwrap(),
        big.len() as u64
    );
    let mut streamed = Vec::new();
    let mut stream = store.stream("big").await.unwrap();
    while let Some(chunk) = futures::StreamExt::next(&mut stream).await {
        streamed.extend_from_slice(&chunk.unwrap());
    }
    assert!(streamed == big, "the multipart object reads back whole");
    assert_eq!(
        store
            .range("big", 5..PART_BYTES as u64 + 7)
            .await
            .unwrap()
            .as_ref(),
        &big[5..PART_BYTES + 7],
        "a range across a part boundary"
    );

    // A video whose movie header comes after its media data, beyond the first part: the
    // prober reads the boxes by range, wherever they are.
    let clip = video::mp4(30_500, 1280, 720, PART_BYTES + 1000);
    std::fs::write(file.path(), &clip).unwrap();
    store.put_file("clip", file.path()).await.unwrap();
    let probed = probe::video(store, "clip", clip.len() as u64).await;
    assert_eq!(
        probed,
        Some(VideoInfo {
            duration_ms: 30_500,
            width: 1280,
            height: 720,
            video_codec: Some("avc1".to_owned()),
            audio_codec: Some("mp4a".to_owned()),
        })
    );
    assert_eq!(probe::video(store, "big", big.len() as u64).await, None);
    store.delete("clip").await.unwrap();

    let mut aborted = store.writer("aborted");
    aborted.write(&big).await.unwrap();
    aborted.abort().await;
    let mut keys = store.keys().await.unwrap();
    keys.sort();
    assert_eq!(keys, ["big", "small"]);

    store.delete("big").await.unwrap();
    store.delete("big").await.unwrap();
    store.delete("small").await.unwrap();
    assert!(store.keys().await.unwrap().is_empty());
    assert!(store.read("small").await.is_err());
}

/// Against a real S3 server (moto): the store suite, then a staged upload end to end
/// through a server whose media lives in the bucket.
pub mod s3_cases {
    use super::*;
    use crate::support::s3::S3Server;

    crate::cases![s3_store_suite_and_round_trip];

    fn s3_settings(raw: &mut RawSettings, endpoint: &str) {
        raw.media_store = postgate::config::MediaStoreKind::S3;
        raw.media_s3_bucket = Some("postgate-test".to_owned());
        raw.media_s3_endpoint = Some(endpoint.to_owned());
        raw.media_s3_allow_http = true;
        raw.media_s3_access_key_id = Some("testing".to_owned());
        raw.media_s3_secret_access_key = Some(postgate::domain::Secret::new("testing"));
    }

    async fn s3_store_suite_and_round_trip(app: &TestApp) {
        let s3 = S3Server::start().await;
        s3.bucket("postgate-test").await;
        let lib = library(app, |raw| s3_settings(raw, &s3.endpoint));
        store_suite(lib.store()).await;

        let app =
            TestApp::spawn_with(app.test_db.backend, |raw| s3_settings(raw, &s3.endpoint)).await;
        let mp4 = fixture("clip.mp4");
        let (_, created) = stage(&app, "clip.mp4", mp4.len(), "video").await;
        let id = created["upload_id"].as_str().unwrap().to_owned();
        let (status, body) = put(&app, created["upload_url"].as_str().unwrap(), mp4.clone()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, done) =
            send(app.post(&format!("/media-uploads/{id}/complete"), &json!({}))).await;
        assert_eq!(status, StatusCode::OK, "{done}");
        assert_eq!(done["content_type"], "video/mp4");
        let served = app
            .client
            .get(done["media_url"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(served.bytes().await.unwrap().as_ref(), mp4.as_slice());
        // The object is in the bucket, under Postgate's prefix, and nowhere on disk.
        let listing = reqwest::get(format!("{}/postgate-test?list-type=2", s3.endpoint))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            listing.contains(&format!("postgate/media/{id}")),
            "{listing}"
        );
        assert!(media_files(&app).is_empty());
        send(app.delete(&format!("/media-uploads/{id}"), &json!({}))).await;
        let listing = reqwest::get(format!("{}/postgate-test?list-type=2", s3.endpoint))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!listing.contains(&id), "{listing}");
        app.stop().await;
    }
}
