//! The body of the four upload endpoints as typed input: every text field, and every media
//! item as a spooled file or an http(s) URL.
//!
//! Clients send the same form three ways (publishing reference, T1): multipart ([npm], [n8n]),
//! urlencoded ([py] without a local file) and JSON. File parts are streamed to temporary
//! files in the spool directory, never held in memory, under the `uploads_*` limits; each
//! file is deleted when its `TempPath` drops, so an error, a disconnect or a finished request
//! leaves nothing behind. Part headers are passed on as declared, not trusted (T7): the
//! media store sniffs the bytes.

use crate::config::{Settings, UploadSettings};
use crate::db::pool::create_private_dir;
use crate::domain::text;
use crate::domain::upload::{FieldValueError, Fields};
use crate::error::ApiError;
use actix_multipart::{Field, Multipart};
use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::http::header::{self, HeaderMap};
use actix_web::web::{Bytes, BytesMut, Data};
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use futures_util::{Stream, StreamExt};
use serde_json::Value;
use std::cell::Cell;
use std::path::PathBuf;
use std::rc::Rc;
use tempfile::TempPath;
use tokio::io::AsyncWriteExt;
use url::Url;

const KB: u64 = 1024;
const MB: u64 = 1024 * KB;

/// Fields that carry media: a file part, or a text part holding an http(s) URL (T7).
const MEDIA_FIELDS: &[&str] = &[
    "video",
    "photos",
    "document",
    "cover_image",
    "thumbnail",
    "tiktok_cover_image",
    "x_article_cover_media",
    "first_comment_media",
    "linkedin_subtitles",
    "youtube_subtitle_file",
];

/// Whether `name` (without `[]`) is a media field; YouTube numbers its subtitle files.
fn is_media_field(name: &str) -> bool {
    MEDIA_FIELDS.contains(&name)
        || name
            .strip_prefix("youtube_subtitle_file_")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Where uploads are spooled and how much one request may carry. App data: built once at
/// start-up.
#[derive(Debug, Clone)]
pub struct UploadFormConfig {
    pub spool_dir: PathBuf,
    pub limits: UploadSettings,
}

impl UploadFormConfig {
    /// Spools under `<data_dir>/tmp/uploads`, created private to this user.
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Self> {
        let spool_dir = settings.data_dir.join("tmp").join("uploads");
        create_private_dir(&spool_dir).map_err(|e| {
            anyhow::anyhow!(
                "cannot create the upload directory {}: {e}",
                spool_dir.display()
            )
        })?;
        Ok(Self {
            spool_dir,
            limits: settings.uploads,
        })
    }

    /// A 413 that names the limit and the setting that moves it.
    fn over(&self, limit: Over<'_>) -> ApiError {
        let l = &self.limits;
        ApiError::UploadTooLarge(match limit {
            Over::File => format!(
                "a file is larger than {} MB (uploads_max_file_mb)",
                l.max_file_bytes / MB
            ),
            Over::Files => format!("more than {} files (uploads_max_files)", l.max_files),
            Over::Body => format!(
                "the request body is larger than {} MB (uploads_max_body_mb)",
                l.max_body_bytes / MB
            ),
            Over::Fields => format!(
                "more than {} text fields (uploads_max_fields)",
                l.max_fields
            ),
            Over::Field(name) => format!(
                "field '{name}' is longer than {} KB (uploads_max_field_kb)",
                l.max_field_bytes / KB
            ),
            Over::Text => format!(
                "the text fields are longer than {} KB in all (uploads_max_text_kb)",
                l.max_text_bytes / KB
            ),
        })
    }
}

/// Which limit a request went over.
enum Over<'a> {
    File,
    Files,
    Body,
    Fields,
    Field(&'a str),
    Text,
}

/// One media item of the request, in the order it came.
#[derive(Debug)]
pub struct MediaPart {
    /// The field's name without `[]`: `photos`, `video`, `youtube_subtitle_file_1`, …
    pub field: String,
    pub input: MediaInput,
}

#[derive(Debug)]
pub enum MediaInput {
    /// A spooled file part, deleted when `path` drops.
    File {
        path: TempPath,
        /// The client's file name without any directory, as declared.
        filename: Option<String>,
        /// The part's `Content-Type` as declared (often absent or wrong).
        declared_type: Option<String>,
        size: u64,
    },
    /// A text part holding an http(s) URL to fetch.
    Url(Url),
}

/// An upload request's body: its text fields and its media.
#[derive(Debug)]
pub struct UploadForm {
    pub fields: Fields,
    pub media: Vec<MediaPart>,
}

impl UploadForm {
    /// Reads the whole body. Call it after authenticating, so that nothing is spooled for a
    /// request that is refused anyway.
    pub async fn read(
        req: &HttpRequest,
        payload: Payload,
        config: &UploadFormConfig,
    ) -> Result<Self, ApiError> {
        let encoding = Encoding::of(req.headers())?;
        let (limit, over) = match encoding {
            Encoding::Multipart => (config.limits.max_body_bytes, Over::Body),
            Encoding::UrlEncoded | Encoding::Json => (config.limits.max_text_bytes, Over::Text),
        };
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit) {
            return Err(config.over(over));
        }
        let exceeded = Rc::new(Cell::new(false));
        let body = capped(payload, limit, exceeded.clone());
        // Tells a body cut off at the limit apart from a broken one.
        let body_error = |e: String| {
            if exceeded.get() {
                config.over(Over::Body)
            } else {
                ApiError::MalformedBody(e)
            }
        };
        let mut form = FormReader::new(config);
        match encoding {
            Encoding::Multipart => {
                let mut parts = Multipart::new(req.headers(), body);
                while let Some(part) = parts.next().await {
                    let part = part.map_err(|e| body_error(e.to_string()))?;
                    form.part(part, &body_error).await?;
                }
            }
            Encoding::UrlEncoded => {
                let bytes = collect(body)
                    .await
                    .map_err(|e| text_body_error(&exceeded, config, e))?;
                for (name, value) in urlencoded_pairs(&bytes)? {
                    form.text(&name, value)?;
                }
            }
            Encoding::Json => {
                let bytes = collect(body)
                    .await
                    .map_err(|e| text_body_error(&exceeded, config, e))?;
                for (name, value) in json_pairs(&bytes)? {
                    form.text(&name, value)?;
                }
            }
        }
        Ok(form.finish())
    }
}

impl FromRequest for UploadForm {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let payload = payload.take();
        Box::pin(async move {
            let config = req
                .app_data::<Data<UploadFormConfig>>()
                .cloned()
                .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("UploadFormConfig missing")))?;
            Self::read(&req, payload, &config).await
        })
    }
}

/// The three encodings real clients use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Multipart,
    UrlEncoded,
    Json,
}

impl Encoding {
    fn of(headers: &HeaderMap) -> Result<Self, ApiError> {
        let declared = headers
            .get(header::CONTENT_TYPE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default();
        let essence = declared
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        match essence.as_str() {
            "multipart/form-data" => Ok(Encoding::Multipart),
            "application/x-www-form-urlencoded" => Ok(Encoding::UrlEncoded),
            "application/json" => Ok(Encoding::Json),
            s if s.starts_with("application/") && s.ends_with("+json") => Ok(Encoding::Json),
            _ => Err(ApiError::UnsupportedMediaType(declared)),
        }
    }
}

/// The request body, ending in an error once more than `limit` bytes arrived; `exceeded`
/// records that this, not the client, ended it.
fn capped(
    payload: Payload,
    limit: u64,
    exceeded: Rc<Cell<bool>>,
) -> impl Stream<Item = Result<Bytes, PayloadError>> + 'static {
    let mut seen = 0u64;
    payload.map(move |chunk| {
        let chunk = chunk?;
        seen += chunk.len() as u64;
        if seen > limit {
            exceeded.set(true);
            return Err(PayloadError::Overflow);
        }
        Ok(chunk)
    })
}

/// A whole (capped) body in memory: urlencoded and JSON bodies are text only.
async fn collect(
    body: impl Stream<Item = Result<Bytes, PayloadError>>,
) -> Result<BytesMut, PayloadError> {
    let mut body = std::pin::pin!(body);
    let mut bytes = BytesMut::new();
    while let Some(chunk) = body.next().await {
        bytes.extend_from_slice(&chunk?);
    }
    Ok(bytes)
}

/// A text-only body over `uploads_max_text_kb` is a 413 naming that limit.
fn text_body_error(exceeded: &Cell<bool>, config: &UploadFormConfig, e: PayloadError) -> ApiError {
    if exceeded.get() {
        config.over(Over::Text)
    } else {
        ApiError::MalformedBody(e.to_string())
    }
}

/// `a=1&b%5B%5D=2` as (name, value) pairs, in order. Percent-escapes must decode to UTF-8.
fn urlencoded_pairs(body: &[u8]) -> Result<Vec<(String, String)>, ApiError> {
    let decode = |raw: &[u8]| {
        let spaced: Vec<u8> = raw
            .iter()
            .map(|&b| if b == b'+' { b' ' } else { b })
            .collect();
        percent_encoding::percent_decode(&spaced)
            .decode_utf8()
            .map(|s| s.into_owned())
            .map_err(|_| {
                ApiError::MalformedBody("a urlencoded name or value is not UTF-8".to_owned())
            })
    };
    body.split(|&b| b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = match pair.iter().position(|&b| b == b'=') {
                Some(at) => (&pair[..at], &pair[at + 1..]),
                None => (pair, &[][..]),
            };
            Ok((decode(name)?, decode(value)?))
        })
        .collect()
}

/// A JSON object as (name, value) pairs, as a form would carry them: strings as they are,
/// numbers and booleans as their text, arrays of those as repeated values, null as absent.
/// Objects, and arrays holding them, stay one JSON text, which `Fields::json` reads (T4).
fn json_pairs(body: &[u8]) -> Result<Vec<(String, String)>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new());
    }
    let object = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => map,
        Ok(_) => return Err(ApiError::BodyNotAnObject),
        Err(e) => return Err(ApiError::InvalidJson(e.to_string())),
    };
    let scalar = |v: Value| match v {
        Value::String(s) => Some(s),
        Value::Null => None,
        other => Some(other.to_string()),
    };
    let mut pairs = Vec::new();
    for (name, value) in object {
        match value {
            Value::Array(items) if items.iter().all(|i| !i.is_array() && !i.is_object()) => {
                pairs.extend(
                    items
                        .into_iter()
                        .filter_map(scalar)
                        .map(|v| (name.clone(), v)),
                );
            }
            value @ (Value::Array(_) | Value::Object(_)) => pairs.push((name, value.to_string())),
            value => pairs.extend(scalar(value).map(|v| (name, v))),
        }
    }
    Ok(pairs)
}

/// The form as it is read, whatever the encoding: every limit is checked as each part
/// arrives.
struct FormReader<'a> {
    config: &'a UploadFormConfig,
    fields: Fields,
    media: Vec<MediaPart>,
    texts: usize,
    text_bytes: u64,
    files: usize,
}

impl<'a> FormReader<'a> {
    fn new(config: &'a UploadFormConfig) -> Self {
        Self {
            config,
            fields: Fields::new(),
            media: Vec::new(),
            texts: 0,
            text_bytes: 0,
            files: 0,
        }
    }

    fn finish(self) -> UploadForm {
        UploadForm {
            fields: self.fields,
            media: self.media,
        }
    }

    /// Whether a text value of `len` bytes still fits.
    fn check_text(&self, name: &str, len: u64) -> Result<(), ApiError> {
        let limits = &self.config.limits;
        if len > limits.max_field_bytes {
            return Err(self.config.over(Over::Field(name)));
        }
        if self.text_bytes + len > limits.max_text_bytes {
            return Err(self.config.over(Over::Text));
        }
        Ok(())
    }

    /// One text value: a field, or a media URL. Empty means absent (T6).
    fn text(&mut self, name: &str, value: String) -> Result<(), ApiError> {
        if !text::is_storable(name) || !text::is_storable(&value) {
            return Err(ApiError::UnstorableText(format!("Form field {name:?}")));
        }
        self.texts += 1;
        if self.texts > self.config.limits.max_fields {
            return Err(self.config.over(Over::Fields));
        }
        self.check_text(name, value.len() as u64)?;
        self.text_bytes += value.len() as u64;
        let base = name.strip_suffix("[]").unwrap_or(name);
        if !is_media_field(base) {
            self.fields.push(name, value);
            return Ok(());
        }
        let value = value.trim();
        if value.is_empty() {
            return Ok(());
        }
        let url = Url::parse(value)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .ok_or_else(|| FieldValueError::new(base, "expected a file or an http(s) URL"))?;
        self.media.push(MediaPart {
            field: base.to_owned(),
            input: MediaInput::Url(url),
        });
        Ok(())
    }

    /// One multipart part: a file when it names a file name, text otherwise.
    async fn part(
        &mut self,
        mut part: Field,
        body_error: &impl Fn(String) -> ApiError,
    ) -> Result<(), ApiError> {
        let name = part
            .name()
            .ok_or_else(|| ApiError::MalformedBody("a part has no name".to_owned()))?
            .to_owned();
        let filename = part.content_disposition().and_then(|cd| {
            cd.get_filename().map(str::to_owned).or_else(|| {
                cd.get_filename_ext()
                    .map(|ext| String::from_utf8_lossy(&ext.value).into_owned())
            })
        });
        let Some(filename) = filename else {
            let mut text = Vec::new();
            while let Some(chunk) = part.next().await {
                let chunk = chunk.map_err(|e| body_error(e.to_string()))?;
                self.check_text(&name, (text.len() + chunk.len()) as u64)?;
                text.extend_from_slice(&chunk);
            }
            let text = String::from_utf8(text)
                .map_err(|_| FieldValueError::new(&name, "expected UTF-8 text"))?;
            return self.text(&name, text);
        };
        let field = name.strip_suffix("[]").unwrap_or(&name).to_owned();
        if !is_media_field(&field) {
            return Err(FieldValueError::new(&field, "this field does not take a file").into());
        }
        if self.files >= self.config.limits.max_files {
            return Err(self.config.over(Over::Files));
        }
        let declared_type = part.content_type().map(|m| m.essence_str().to_owned());
        let (path, size) = self.spool(&mut part, body_error).await?;
        // An empty file input is a field left blank (T6).
        if size == 0 {
            return Ok(());
        }
        self.files += 1;
        self.media.push(MediaPart {
            field,
            input: MediaInput::File {
                path,
                filename: base_name(&filename),
                declared_type,
                size,
            },
        });
        Ok(())
    }

    /// Streams a file part to a new temporary file, which is deleted again if anything fails
    /// (the `TempPath` drops).
    async fn spool(
        &self,
        part: &mut Field,
        body_error: &impl Fn(String) -> ApiError,
    ) -> Result<(TempPath, u64), ApiError> {
        let (file, path) = tempfile::Builder::new()
            .prefix("upload-")
            .tempfile_in(&self.config.spool_dir)
            .map_err(|e| spool_failed(e, &self.config.spool_dir))?
            .into_parts();
        let mut file = tokio::fs::File::from_std(file);
        let mut size = 0u64;
        while let Some(chunk) = part.next().await {
            let chunk = chunk.map_err(|e| body_error(e.to_string()))?;
            size += chunk.len() as u64;
            if size > self.config.limits.max_file_bytes {
                return Err(self.config.over(Over::File));
            }
            file.write_all(&chunk)
                .await
                .map_err(|e| spool_failed(e, &self.config.spool_dir))?;
        }
        file.flush()
            .await
            .map_err(|e| spool_failed(e, &self.config.spool_dir))?;
        Ok((path, size))
    }
}

fn spool_failed(e: std::io::Error, dir: &std::path::Path) -> ApiError {
    ApiError::Internal(anyhow::anyhow!(
        "cannot spool an upload in {}: {e}",
        dir.display()
    ))
}

/// A declared file name without the directories some clients include (`C:\fakepath\a.jpg`).
fn base_name(filename: &str) -> Option<String> {
    let name = filename
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .trim();
    (!name.is_empty()).then(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::StatusCode;
    use actix_web::test as actix_test;
    use actix_web::{App, HttpResponse, web};
    use serde_json::json;
    use std::path::Path;
    use std::time::Duration;

    /// Small limits, in the settings' own units.
    fn config(dir: &Path) -> UploadFormConfig {
        UploadFormConfig {
            spool_dir: dir.to_owned(),
            limits: UploadSettings {
                max_file_bytes: MB,
                max_files: 3,
                max_body_bytes: 3 * MB,
                max_fields: 12,
                max_field_bytes: KB,
                max_text_bytes: 2 * KB,
            },
        }
    }

    /// What the extractor produced, read back while the request is handled: each file's
    /// bytes come from the spool directory.
    async fn echo(form: UploadForm, config: Data<UploadFormConfig>) -> HttpResponse {
        let media: Vec<Value> = form
            .media
            .iter()
            .map(|m| match &m.input {
                MediaInput::File {
                    path,
                    filename,
                    declared_type,
                    size,
                } => json!({
                    "field": m.field,
                    "path": path.to_str(),
                    "in_spool": path.parent() == Some(config.spool_dir.as_path()),
                    "bytes": String::from_utf8_lossy(&std::fs::read(path).unwrap()),
                    "filename": filename,
                    "declared_type": declared_type,
                    "size": size,
                }),
                MediaInput::Url(url) => json!({"field": m.field, "url": url.as_str()}),
            })
            .collect();
        HttpResponse::Ok().json(json!({"fields": form.fields, "media": media}))
    }

    /// Posts a body through a real actix service whose handler is `echo`.
    async fn post(
        config: UploadFormConfig,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> (StatusCode, Value) {
        let app = actix_test::init_service(
            App::new()
                .app_data(Data::new(config))
                .route("/", web::post().to(echo)),
        )
        .await;
        let mut req = actix_test::TestRequest::post().uri("/").set_payload(body);
        if let Some(ct) = content_type {
            req = req.insert_header((header::CONTENT_TYPE, ct));
        }
        let resp = actix_test::call_service(&app, req.to_request()).await;
        let status = resp.status();
        let body = actix_test::read_body(resp).await;
        (status, serde_json::from_slice(&body).unwrap())
    }

    struct Part<'a> {
        name: &'a str,
        filename: Option<&'a str>,
        content_type: Option<&'a str>,
        body: &'a [u8],
    }

    fn text<'a>(name: &'a str, body: &'a str) -> Part<'a> {
        Part {
            name,
            filename: None,
            content_type: None,
            body: body.as_bytes(),
        }
    }

    fn file<'a>(name: &'a str, filename: &'a str, body: &'a [u8]) -> Part<'a> {
        Part {
            name,
            filename: Some(filename),
            content_type: None,
            body,
        }
    }

    const MULTIPART: &str = "multipart/form-data; boundary=XyZzY";

    fn multipart(parts: &[Part<'_>]) -> Vec<u8> {
        let mut body = Vec::new();
        for p in parts {
            body.extend_from_slice(b"--XyZzY\r\n");
            let mut disposition = format!("Content-Disposition: form-data; name=\"{}\"", p.name);
            if let Some(f) = p.filename {
                disposition.push_str(&format!("; filename=\"{f}\""));
            }
            body.extend_from_slice(disposition.as_bytes());
            body.extend_from_slice(b"\r\n");
            if let Some(ct) = p.content_type {
                body.extend_from_slice(format!("Content-Type: {ct}\r\n").as_bytes());
            }
            body.extend_from_slice(b"\r\n");
            body.extend_from_slice(p.body);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(b"--XyZzY--\r\n");
        body
    }

    fn spooled(dir: &Path) -> usize {
        std::fs::read_dir(dir).unwrap().count()
    }

    /// Every spooled file the echo saw is gone once the request was answered.
    fn assert_files_removed(body: &Value) {
        for m in body["media"].as_array().unwrap() {
            if let Some(path) = m["path"].as_str() {
                assert!(!Path::new(path).exists(), "{path} left behind");
            }
        }
    }

    fn error(status: StatusCode, body: &Value) -> (u16, &str, &str) {
        assert_eq!(body["success"], false, "{body}");
        (
            status.as_u16(),
            body["error_code"].as_str().unwrap(),
            body["message"].as_str().unwrap(),
        )
    }

    #[actix_web::test]
    async fn python_sdk_urlencoded_body() {
        let dir = tempfile::tempdir().unwrap();
        let body = "user=alice&platform%5B%5D=x&platform%5B%5D=bluesky&title=Hello+w%C3%B6rld\
                    &facebook_page_id=&video=https%3A%2F%2Fcdn.example.com%2Fv.mp4";
        let (status, body) = post(
            config(dir.path()),
            Some("application/x-www-form-urlencoded"),
            body.into(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            body,
            json!({
                "fields": {"platform": ["x", "bluesky"], "title": ["Hello wörld"], "user": ["alice"]},
                "media": [{"field": "video", "url": "https://cdn.example.com/v.mp4"}],
            })
        );
    }

    #[actix_web::test]
    async fn npm_sdk_multipart_with_a_json_array_field_and_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let body = multipart(&[
            text("user", "alice"),
            text("platform", r#"["x","bluesky"]"#),
            text("title", "Hi"),
            Part {
                content_type: Some("video/mp4"),
                ..file("video", "clip.mp4", b"not really an mp4")
            },
        ]);
        let (status, body) = post(config(dir.path()), Some(MULTIPART), body).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            body["fields"],
            json!({"platform": [r#"["x","bluesky"]"#], "title": ["Hi"], "user": ["alice"]})
        );
        let video = &body["media"][0];
        assert_eq!(video["field"], "video");
        assert_eq!(video["in_spool"], true);
        assert_eq!(video["bytes"], "not really an mp4");
        assert_eq!(video["size"], 17);
        assert_eq!(video["filename"], "clip.mp4");
        assert_eq!(video["declared_type"], "video/mp4");
        assert_files_removed(&body);
        assert_eq!(spooled(dir.path()), 0);
    }

    #[actix_web::test]
    async fn n8n_upload_bin_without_a_type_beside_a_url_photo() {
        let dir = tempfile::tempdir().unwrap();
        let body = multipart(&[
            text("title", ""),
            file("photos[]", "upload.bin", b"\x89PNG\r\n"),
            text("photos[]", " https://cdn.example.com/2.jpg "),
            file("youtube_subtitle_file_1", "../../etc/en.srt", b"1\n00:00"),
        ]);
        let (status, body) = post(config(dir.path()), Some(MULTIPART), body).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["fields"], json!({}));
        let media = body["media"].as_array().unwrap();
        assert_eq!(media.len(), 3);
        assert_eq!(media[0]["field"], "photos");
        assert_eq!(media[0]["filename"], "upload.bin");
        assert_eq!(media[0]["declared_type"], Value::Null);
        assert_eq!(media[0]["size"], 6);
        assert_eq!(
            media[1],
            json!({"field": "photos", "url": "https://cdn.example.com/2.jpg"})
        );
        assert_eq!(media[2]["field"], "youtube_subtitle_file_1");
        assert_eq!(media[2]["filename"], "en.srt");
        assert_files_removed(&body);
    }

    #[actix_web::test]
    async fn an_empty_file_input_is_absent() {
        let dir = tempfile::tempdir().unwrap();
        let body = multipart(&[file("video", "", b"")]);
        let (status, body) = post(config(dir.path()), Some(MULTIPART), body).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["media"], json!([]));
        assert_eq!(spooled(dir.path()), 0);
    }

    #[actix_web::test]
    async fn json_body() {
        let dir = tempfile::tempdir().unwrap();
        let request = json!({
            "user": "alice",
            "platform[]": ["x", "twitter"],
            "async_upload": true,
            "cover_timestamp": 1000,
            "description": null,
            "title": "",
            "facebook_targeting": {"geo_locations": {"countries": ["US"]}},
            "user_tags": [{"username": "bob", "x": 0.5, "y": 0.5}],
            "photos": ["https://a.example/1.jpg", "http://b.example/2.png"],
        });
        let (status, body) = post(
            config(dir.path()),
            Some("application/json; charset=utf-8"),
            request.to_string().into(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            body,
            json!({
                "fields": {
                    "async_upload": ["true"],
                    "cover_timestamp": ["1000"],
                    "facebook_targeting": [r#"{"geo_locations":{"countries":["US"]}}"#],
                    "platform": ["x", "twitter"],
                    "user": ["alice"],
                    "user_tags": [r#"[{"username":"bob","x":0.5,"y":0.5}]"#],
                },
                "media": [
                    {"field": "photos", "url": "https://a.example/1.jpg"},
                    {"field": "photos", "url": "http://b.example/2.png"},
                ],
            })
        );
    }

    #[actix_web::test]
    async fn oversize_file_is_413_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let big = vec![b'a'; MB as usize + 1];
        let body = multipart(&[text("user", "alice"), file("video", "big.mp4", &big)]);
        let (status, body) = post(config(dir.path()), Some(MULTIPART), body).await;
        assert_eq!(
            error(status, &body),
            (
                413,
                "PAYLOAD_TOO_LARGE",
                "Upload too large: a file is larger than 1 MB (uploads_max_file_mb)"
            )
        );
        assert_eq!(spooled(dir.path()), 0);
    }

    #[actix_web::test]
    async fn too_many_files_is_413() {
        let dir = tempfile::tempdir().unwrap();
        let parts: Vec<Part<'_>> = (0..4).map(|_| file("photos[]", "p.jpg", b"jpeg")).collect();
        let (status, body) = post(config(dir.path()), Some(MULTIPART), multipart(&parts)).await;
        assert_eq!(
            error(status, &body),
            (
                413,
                "PAYLOAD_TOO_LARGE",
                "Upload too large: more than 3 files (uploads_max_files)"
            )
        );
        assert_eq!(spooled(dir.path()), 0);
    }

    #[actix_web::test]
    async fn a_declared_body_over_the_limit_is_refused_before_it_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let body = multipart(&[file("video", "v.mp4", &vec![0; 3 * MB as usize])]);
        let (status, body) = post(config(dir.path()), Some(MULTIPART), body).await;
        assert_eq!(
            error(status, &body).2,
            "Upload too large: the request body is larger than 3 MB (uploads_max_body_mb)"
        );
        let long = format!("title={}", "a".repeat(3 * KB as usize));
        let (status, body) = post(
            config(dir.path()),
            Some("application/x-www-form-urlencoded"),
            long.into(),
        )
        .await;
        assert_eq!(
            error(status, &body).2,
            "Upload too large: the text fields are longer than 2 KB in all (uploads_max_text_kb)"
        );
        assert_eq!(spooled(dir.path()), 0);
    }

    #[actix_web::test]
    async fn text_limits_are_413() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            (
                multipart(&[text("title", &"a".repeat(KB as usize + 1))]),
                "field 'title' is longer than 1 KB (uploads_max_field_kb)",
            ),
            (
                multipart(&[
                    text("title", &"a".repeat(KB as usize)),
                    text("description", &"a".repeat(KB as usize)),
                    text("x_title", "a"),
                ]),
                "the text fields are longer than 2 KB in all (uploads_max_text_kb)",
            ),
            (
                multipart(&(0..13).map(|_| text("tags[]", "a")).collect::<Vec<_>>()),
                "more than 12 text fields (uploads_max_fields)",
            ),
        ];
        for (request, message) in cases {
            let (status, body) = post(config(dir.path()), Some(MULTIPART), request).await;
            assert_eq!(
                error(status, &body),
                (
                    413,
                    "PAYLOAD_TOO_LARGE",
                    &*format!("Upload too large: {message}")
                )
            );
        }
        let many = (0..13).map(|_| "tags=a").collect::<Vec<_>>().join("&");
        let (status, body) = post(
            config(dir.path()),
            Some("application/x-www-form-urlencoded"),
            many.into(),
        )
        .await;
        assert_eq!(error(status, &body).0, 413);
    }

    #[actix_web::test]
    async fn broken_bodies_are_400() {
        let dir = tempfile::tempdir().unwrap();
        let mut truncated = multipart(&[text("user", "alice"), file("video", "v.mp4", b"abc")]);
        truncated.truncate(truncated.len() - 20);
        let cases: [(&str, Vec<u8>, &str); 8] = [
            (MULTIPART, truncated, "MALFORMED_BODY"),
            (
                MULTIPART,
                b"garbage without any boundary".to_vec(),
                "MALFORMED_BODY",
            ),
            (
                "multipart/form-data",
                multipart(&[text("a", "b")]),
                "MALFORMED_BODY",
            ),
            (
                MULTIPART,
                b"--XyZzY\r\nContent-Type: text/plain\r\n\r\nx\r\n--XyZzY--\r\n".to_vec(),
                "MALFORMED_BODY",
            ),
            (
                "application/x-www-form-urlencoded",
                b"title=%FF".to_vec(),
                "MALFORMED_BODY",
            ),
            ("application/json", b"{oops".to_vec(), "INVALID_JSON"),
            ("application/json", b"[\"x\"]".to_vec(), "INVALID_JSON"),
            (
                MULTIPART,
                multipart(&[Part {
                    body: b"\xff\xfe",
                    ..text("title", "")
                }]),
                "INVALID_FIELD",
            ),
        ];
        for (content_type, request, code) in cases {
            let (status, body) = post(config(dir.path()), Some(content_type), request).await;
            assert_eq!(error(status, &body).0, 400, "{body}");
            assert_eq!(error(status, &body).1, code, "{body}");
        }
        assert_eq!(spooled(dir.path()), 0);
    }

    #[actix_web::test]
    async fn media_fields_take_only_files_and_http_urls() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            (
                "application/x-www-form-urlencoded",
                b"video=ftp%3A%2F%2Fexample.com%2Fv.mp4".to_vec(),
                "Invalid value for 'video': expected a file or an http(s) URL",
            ),
            (
                "application/json",
                br#"{"photos": ["https://a.example/1.jpg", "not a url"]}"#.to_vec(),
                "Invalid value for 'photos': expected a file or an http(s) URL",
            ),
            (
                "application/json",
                br#"{"document": 42}"#.to_vec(),
                "Invalid value for 'document': expected a file or an http(s) URL",
            ),
            (
                MULTIPART,
                multipart(&[file("title[]", "t.txt", b"hello")]),
                "Invalid value for 'title': this field does not take a file",
            ),
        ];
        for (content_type, request, message) in cases {
            let (status, body) = post(config(dir.path()), Some(content_type), request).await;
            assert_eq!(error(status, &body), (400, "INVALID_FIELD", message));
        }
        assert_eq!(spooled(dir.path()), 0);
    }

    #[actix_web::test]
    async fn other_content_types_are_415() {
        let dir = tempfile::tempdir().unwrap();
        for content_type in [Some("text/plain"), None] {
            let (status, body) =
                post(config(dir.path()), content_type, b"user=alice".to_vec()).await;
            assert_eq!(error(status, &body).0, 415, "{body}");
            assert_eq!(error(status, &body).1, "UNSUPPORTED_MEDIA_TYPE");
        }
    }

    #[test]
    fn media_field_names() {
        for name in [
            "video",
            "photos",
            "youtube_subtitle_file",
            "youtube_subtitle_file_12",
        ] {
            assert!(is_media_field(name), "{name}");
        }
        for name in [
            "title",
            "photos[]",
            "youtube_subtitle_file_",
            "youtube_subtitle_file_x",
        ] {
            assert!(!is_media_field(name), "{name}");
        }
    }

    /// A request whose body arrives as the test sends it, through the extractor itself.
    fn streamed(
        config: UploadFormConfig,
    ) -> (
        HttpRequest,
        Payload,
        futures::channel::mpsc::UnboundedSender<Result<Bytes, PayloadError>>,
    ) {
        let (send, receive) = futures::channel::mpsc::unbounded();
        let (req, _) = actix_test::TestRequest::post()
            .insert_header((header::CONTENT_TYPE, MULTIPART))
            .app_data(Data::new(config))
            .to_http_parts();
        (
            req,
            Payload::from(Box::pin(receive) as std::pin::Pin<Box<dyn Stream<Item = _>>>),
            send,
        )
    }

    /// The head of a multipart body up to the middle of a file part.
    fn half_a_file() -> Bytes {
        let mut body = multipart(&[file("video", "v.mp4", &[7; 4096])]);
        body.truncate(body.len() - 2048);
        body.into()
    }

    #[actix_web::test]
    async fn a_client_that_disconnects_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        // The connection breaks: the body ends in an error.
        let (req, mut payload, send) = streamed(config(dir.path()));
        send.unbounded_send(Ok(half_a_file())).unwrap();
        send.unbounded_send(Err(PayloadError::Incomplete(None)))
            .unwrap();
        let err = UploadForm::from_request(&req, &mut payload)
            .await
            .unwrap_err();
        assert!(matches!(err, ApiError::MalformedBody(_)), "{err:?}");
        assert_eq!(spooled(dir.path()), 0);

        // The server drops the request mid-file: the file was being written, then is gone.
        let (req, mut payload, send) = streamed(config(dir.path()));
        send.unbounded_send(Ok(half_a_file())).unwrap();
        let mut reading = UploadForm::from_request(&req, &mut payload);
        let waited = tokio::time::timeout(Duration::from_millis(200), &mut reading).await;
        assert!(waited.is_err(), "still waiting for the rest of the body");
        assert_eq!(spooled(dir.path()), 1);
        drop(reading);
        assert_eq!(spooled(dir.path()), 0);
    }

    #[actix_web::test]
    async fn an_undeclared_body_is_cut_at_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let config = UploadFormConfig {
            limits: UploadSettings {
                max_body_bytes: MB,
                max_file_bytes: 2 * MB,
                ..config(dir.path()).limits
            },
            ..config(dir.path())
        };
        let (req, mut payload, send) = streamed(config);
        let body = multipart(&[file("video", "v.mp4", &vec![1; MB as usize + KB as usize])]);
        for chunk in body.chunks(64 * KB as usize) {
            send.unbounded_send(Ok(Bytes::copy_from_slice(chunk)))
                .unwrap();
        }
        drop(send);
        let err = UploadForm::from_request(&req, &mut payload)
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Upload too large: the request body is larger than 1 MB (uploads_max_body_mb)"
        );
        assert_eq!(spooled(dir.path()), 0);
    }

    #[test]
    fn spool_directory_is_private_and_under_the_data_dir() {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings::from_raw(crate::config::RawSettings {
            data_dir: dir.path().join("data"),
            ..Default::default()
        })
        .unwrap();
        let config = UploadFormConfig::from_settings(&settings).unwrap();
        assert_eq!(config.spool_dir, dir.path().join("data/tmp/uploads"));
        assert_eq!(config.limits.max_files, 40);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&config.spool_dir)
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o700);
        }
    }
}
