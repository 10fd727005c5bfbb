//! Post text as platforms count it, and long text split into a thread.
//!
//! Each platform counts differently: X weighs characters (twitter-text: a URL is 23, CJK
//! and emoji 2, most others 1), Bluesky counts graphemes, Threads characters. Splitting
//! keeps paragraphs together where it can, then lines, then words, and cuts only a word
//! that is longer than a whole post.

use unicode_segmentation::UnicodeSegmentation;

/// How one platform measures a post, and how much it takes.
#[derive(Debug, Clone, Copy)]
pub struct Measure {
    pub limit: usize,
    pub length: fn(&str) -> usize,
}

impl Measure {
    /// X: 280 weighted characters.
    pub const X: Measure = Measure {
        limit: 280,
        length: x_length,
    };
    /// Bluesky: 300 graphemes.
    pub const BLUESKY: Measure = Measure {
        limit: 300,
        length: graphemes,
    };
    /// Threads: 500 characters.
    pub const THREADS: Measure = Measure {
        limit: 500,
        length: chars,
    };

    pub fn fits(&self, text: &str) -> bool {
        (self.length)(text) <= self.limit
    }
}

pub fn graphemes(text: &str) -> usize {
    text.graphemes(true).count()
}

pub fn chars(text: &str) -> usize {
    text.chars().count()
}

/// What a URL counts on X, whatever its length (t.co wraps every link).
const X_URL_LENGTH: usize = 23;

/// Code points X counts as 1; everything else counts 2 (twitter-text v3 configuration).
const X_LIGHT_RANGES: [(u32, u32); 4] = [
    (0x0000, 0x10FF),
    (0x2000, 0x200D),
    (0x2010, 0x201F),
    (0x2032, 0x2037),
];

/// X's weighted length: URLs count 23, an emoji (with its modifiers and joiners) 2,
/// characters in X's light ranges 1, all others (CJK…) 2.
pub fn x_length(text: &str) -> usize {
    let mut total = 0;
    let mut rest = text;
    while let Some((start, end)) = next_url(rest) {
        total += x_plain_length(&rest[..start]) + X_URL_LENGTH;
        rest = &rest[end..];
    }
    total + x_plain_length(rest)
}

fn x_plain_length(text: &str) -> usize {
    text.graphemes(true)
        .map(|g| {
            if is_emoji(g) {
                2
            } else {
                g.chars()
                    .map(|c| {
                        let c = u32::from(c);
                        if X_LIGHT_RANGES
                            .iter()
                            .any(|(lo, hi)| (*lo..=*hi).contains(&c))
                        {
                            1
                        } else {
                            2
                        }
                    })
                    .sum()
            }
        })
        .sum()
}

/// A grapheme that shows as an emoji: a pictograph (flags and skin tones among them), or
/// one made so by a variation selector or a keycap.
fn is_emoji(grapheme: &str) -> bool {
    grapheme.chars().any(|c| {
        matches!(u32::from(c),
            0x1F000..=0x1FAFF | 0x2600..=0x27BF | 0x2B00..=0x2BFF | 0xFE0F | 0x20E3)
    })
}

/// The byte range of the first `http://` or `https://` URL in `text`: up to whitespace,
/// without trailing punctuation.
pub fn next_url(text: &str) -> Option<(usize, usize)> {
    let start = ["https://", "http://"]
        .iter()
        .filter_map(|scheme| find_ascii_case_insensitive(text, scheme))
        .min()?;
    let tail = &text[start..];
    let mut end = tail.find(char::is_whitespace).unwrap_or(tail.len());
    end = tail[..end]
        .trim_end_matches(['.', ',', ';', ':', '!', '?', ')', '"', '\''])
        .len();
    Some((start, start + end))
}

fn find_ascii_case_insensitive(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// Splits `text` into posts that each fit `measure`: whole paragraphs where they fit, else
/// lines, else words; a word longer than a post is cut. Text that fits is one post.
pub fn split(text: &str, measure: Measure) -> Vec<String> {
    let text = text.trim();
    if measure.fits(text) {
        return vec![text.to_owned()];
    }
    split_at(text, measure, 0)
}

/// Paragraphs, lines, words.
const SEPARATORS: [&str; 3] = ["\n\n", "\n", " "];

fn split_at(text: &str, measure: Measure, level: usize) -> Vec<String> {
    let Some(separator) = SEPARATORS.get(level) else {
        return cut(text, measure);
    };
    let mut posts = Vec::new();
    let mut current = String::new();
    for piece in text
        .split(separator)
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let joined = if current.is_empty() {
            piece.to_owned()
        } else {
            format!("{current}{separator}{piece}")
        };
        if measure.fits(&joined) {
            current = joined;
            continue;
        }
        if !current.is_empty() {
            posts.push(std::mem::take(&mut current));
        }
        if measure.fits(piece) {
            current = piece.to_owned();
        } else {
            let mut parts = split_at(piece, measure, level + 1);
            // The last part may still take more of what follows.
            current = parts.pop().unwrap_or_default();
            posts.extend(parts);
        }
    }
    if !current.is_empty() {
        posts.push(current);
    }
    posts
}

/// Cuts a word longer than a post at grapheme boundaries.
fn cut(word: &str, measure: Measure) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    for g in word.graphemes(true) {
        let longer = format!("{current}{g}");
        if measure.fits(&longer) || current.is_empty() {
            current = longer;
        } else {
            parts.push(std::mem::replace(&mut current, g.to_owned()));
        }
    }
    if !current.is_empty() {
        parts.push(current);
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x_weighs_urls_cjk_and_emoji() {
        assert_eq!(x_length("hello"), 5);
        assert_eq!(x_length("café"), 4, "Latin-1 is light");
        assert_eq!(x_length("日本語"), 6, "CJK counts 2");
        assert_eq!(x_length("👍"), 2);
        assert_eq!(x_length("👍🏽"), 2, "a skin tone is one emoji");
        assert_eq!(x_length("👨‍👩‍👧"), 2, "a joined family is one emoji");
        assert_eq!(
            x_length("see https://example.com/a/very/long/path/indeed?q=1."),
            4 + 23 + 1,
            "a URL counts 23, the full stop after it is text"
        );
        assert_eq!(
            x_length("“quoted” — dash"),
            15,
            "general punctuation is light"
        );
    }

    #[test]
    fn bluesky_counts_graphemes_and_threads_chars() {
        assert_eq!(graphemes("e\u{301}👨‍👩‍👧"), 2);
        assert_eq!(chars("e\u{301}"), 2);
    }

    #[test]
    fn text_that_fits_is_one_post() {
        assert_eq!(split("  short  ", Measure::X), ["short"]);
        let exactly = "a".repeat(280);
        assert_eq!(split(&exactly, Measure::X), [exactly]);
    }

    #[test]
    fn paragraphs_then_lines_then_words() {
        let p1 = "a".repeat(150);
        let p2 = "b".repeat(150);
        let p3 = "c".repeat(100);
        let text = format!("{p1}\n\n{p2}\n\n{p3}");
        assert_eq!(
            split(&text, Measure::X),
            [p1.clone(), format!("{p2}\n\n{p3}")],
            "paragraphs are packed"
        );

        let lines = format!(
            "{}\n{}\n{}",
            "x".repeat(200),
            "y".repeat(200),
            "z".repeat(50)
        );
        assert_eq!(
            split(&lines, Measure::X),
            [
                "x".repeat(200),
                format!("{}\n{}", "y".repeat(200), "z".repeat(50))
            ]
        );

        // 56 words of 5 (with the space) fill 279 of 280.
        let words = vec!["word"; 120].join(" ");
        let posts = split(&words, Measure::X);
        assert_eq!(
            posts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [279, 279, 39]
        );
        assert!(posts.iter().all(|p| x_length(p) <= 280));
        assert_eq!(posts.join(" "), words, "nothing lost");
    }

    #[test]
    fn a_word_longer_than_a_post_is_cut() {
        let long = "é".repeat(650);
        let posts = split(&long, Measure::BLUESKY);
        assert_eq!(
            posts.iter().map(|p| graphemes(p)).collect::<Vec<_>>(),
            [300, 300, 50]
        );
        let cjk = "字".repeat(200);
        let posts = split(&cjk, Measure::X);
        assert_eq!(
            posts.iter().map(|p| chars(p)).collect::<Vec<_>>(),
            [140, 60]
        );
    }

    #[test]
    fn urls_are_found_without_trailing_punctuation() {
        let text = "go (https://a.example/x), or HTTP://b.example.";
        let (s, e) = next_url(text).unwrap();
        assert_eq!(&text[s..e], "https://a.example/x");
        let (s2, e2) = next_url(&text[e..]).unwrap();
        assert_eq!(&text[e + s2..e + e2], "HTTP://b.example");
    }
}
