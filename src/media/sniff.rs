//! What media is, from its first bytes. Clients' part headers are not trusted (the Python
//! SDK sends none, n8n says `upload.bin`), so the bytes decide.

use crate::domain::upload::MediaKind;

/// How much of the start of a file sniffing reads: enough for the ZIP directory entries of
/// Office files and the compound-file header of the old ones.
pub const SNIFF_BYTES: usize = 64 * 1024;

/// A type we accept, as sniffed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sniffed {
    pub content_type: &'static str,
    pub kind: MediaKind,
}

const ACCEPTED: &[(&str, MediaKind)] = &[
    ("image/jpeg", MediaKind::Image),
    ("image/png", MediaKind::Image),
    ("image/gif", MediaKind::Image),
    ("image/webp", MediaKind::Image),
    ("video/mp4", MediaKind::Video),
    ("video/quicktime", MediaKind::Video),
    ("application/pdf", MediaKind::Document),
    ("application/msword", MediaKind::Document),
    ("application/vnd.ms-powerpoint", MediaKind::Document),
    (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        MediaKind::Document,
    ),
    (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        MediaKind::Document,
    ),
];

const OLE2_MAGIC: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// The type of `head` (the first `SNIFF_BYTES` of the item, or all of it), if we accept it.
/// `filename` only separates DOC from PPT when the start of a large old Office file is not
/// enough to read its class id.
pub fn sniff(head: &[u8], filename: Option<&str>) -> Option<Sniffed> {
    let content_type = match infer::get(head).map(|t| t.mime_type()) {
        // M4V and other ISO brands infer names separately are MP4 to every platform.
        Some("video/x-m4v") => "video/mp4",
        // A compound file whose class id lies past `head`: infer calls it generic storage.
        Some("application/x-ole-storage") | None if head.starts_with(&OLE2_MAGIC) => {
            old_office_by_name(filename?)?
        }
        Some(t) => t,
        None => return None,
    };
    ACCEPTED
        .iter()
        .find(|(t, _)| *t == content_type)
        .map(|&(content_type, kind)| Sniffed { content_type, kind })
}

fn old_office_by_name(filename: &str) -> Option<&'static str> {
    let ext = filename.rsplit_once('.')?.1.to_ascii_lowercase();
    match ext.as_str() {
        "doc" => Some("application/msword"),
        "ppt" => Some("application/vnd.ms-powerpoint"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/media")
                .join(name),
        )
        .unwrap()
    }

    #[test]
    fn real_files_are_recognised_by_their_bytes() {
        for (file, content_type, kind) in [
            ("pixel.jpg", "image/jpeg", MediaKind::Image),
            ("pixel.png", "image/png", MediaKind::Image),
            ("pixel.gif", "image/gif", MediaKind::Image),
            ("pixel.webp", "image/webp", MediaKind::Image),
            ("clip.mp4", "video/mp4", MediaKind::Video),
            ("clip.mov", "video/quicktime", MediaKind::Video),
            ("page.pdf", "application/pdf", MediaKind::Document),
            ("letter.doc", "application/msword", MediaKind::Document),
            (
                "slides.ppt",
                "application/vnd.ms-powerpoint",
                MediaKind::Document,
            ),
            (
                "letter.docx",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                MediaKind::Document,
            ),
            (
                "slides.pptx",
                "application/vnd.openxmlformats-officedocument.presentationml.presentation",
                MediaKind::Document,
            ),
        ] {
            // The name says nothing: an SDK's `upload.bin`.
            assert_eq!(
                sniff(&fixture(file), Some("upload.bin")),
                Some(Sniffed { content_type, kind }),
                "{file}"
            );
        }
    }

    #[test]
    fn other_bytes_are_refused_whatever_they_are_called() {
        assert_eq!(sniff(&fixture("notes.txt"), Some("photo.jpg")), None);
        assert_eq!(sniff(b"", Some("clip.mp4")), None);
        // A compound file whose class id was cut off is named by its extension, if Office.
        let cut = &fixture("letter.doc")[..512];
        assert_eq!(
            sniff(cut, Some("Report.DOC")).map(|s| s.content_type),
            Some("application/msword")
        );
        assert_eq!(sniff(cut, Some("sheet.xls")), None);
        assert_eq!(sniff(cut, None), None);
    }
}
