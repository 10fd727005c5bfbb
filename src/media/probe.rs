//! Reads a stored video's duration, frame size and codecs from its container (MP4 and
//! QuickTime, with the `mp4` crate), so that each platform's limits are checked before any
//! call. The container's boxes are read through ranges of the store, wherever the `moov`
//! box is: a video is never read whole, locally or in S3.

use super::store::Store;
use crate::publish::publisher::VideoInfo;
use mp4::{Mp4Reader, TrackType};
use std::io::{self, Read, Seek, SeekFrom};
use tokio::runtime::Handle;

/// How much is fetched from the store at a time: box headers are small, and the reader
/// seeks over the media data.
const BLOCK: u64 = 64 * 1024;

/// What the video stored at `key` (`size` bytes) holds; `None` when its container cannot
/// be read (not MP4 or QuickTime, damaged): the platforms then judge it themselves.
pub async fn video(store: &Store, key: &str, size: u64) -> Option<VideoInfo> {
    let reader = StoreReader {
        store: store.clone(),
        key: key.to_owned(),
        size,
        position: 0,
        runtime: Handle::current(),
    };
    tokio::task::spawn_blocking(move || {
        read(io::BufReader::with_capacity(BLOCK as usize, reader), size)
    })
    .await
    .ok()
    .flatten()
}

/// The container's header: the movie's duration, the first video track's size and codec,
/// the first audio track's codec.
fn read<R: Read + Seek>(reader: R, size: u64) -> Option<VideoInfo> {
    let mp4 = Mp4Reader::read_header(reader, size).ok()?;
    let mut tracks: Vec<_> = mp4.tracks().values().collect();
    tracks.sort_by_key(|t| t.track_id());
    let of = |kind: TrackType| {
        tracks
            .iter()
            .find(|t| t.track_type().is_ok_and(|k| k == kind))
    };
    let video = of(TrackType::Video)?;
    let codec = |t: &mp4::Mp4Track| t.box_type().ok().map(|c| c.to_string());
    Some(VideoInfo {
        duration_ms: u64::try_from(mp4.duration().as_millis()).unwrap_or(u64::MAX),
        width: u32::from(video.width()),
        height: u32::from(video.height()),
        video_codec: codec(video),
        audio_codec: of(TrackType::Audio).and_then(|t| codec(t)),
    })
}

/// A stored object as a seekable reader, for the blocking prober: each read fetches one
/// range from the store on the runtime that asked.
struct StoreReader {
    store: Store,
    key: String,
    size: u64,
    position: u64,
    runtime: Handle,
}

impl Read for StoreReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let end = self.size.min(self.position + (buf.len() as u64).min(BLOCK));
        if end <= self.position {
            return Ok(0);
        }
        let range = self.position..end;
        let bytes = self
            .runtime
            .block_on(self.store.range(&self.key, range))
            .map_err(io::Error::other)?;
        let n = bytes.len().min(buf.len());
        buf[..n].copy_from_slice(&bytes[..n]);
        self.position += n as u64;
        Ok(n)
    }
}

impl Seek for StoreReader {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.size.checked_add_signed(d),
            SeekFrom::Current(d) => self.position.checked_add_signed(d),
        };
        self.position = target
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        Ok(self.position)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn what_is_not_an_mp4_is_not_probed() {
        for bytes in [&b""[..], b"GIF89a", &[0u8; 64]] {
            assert_eq!(read(Cursor::new(bytes), bytes.len() as u64), None);
        }
        // An ftyp box alone: a container without a movie.
        let ftyp = include_bytes!("../../tests/fixtures/media/clip.mp4");
        assert_eq!(read(Cursor::new(&ftyp[..]), ftyp.len() as u64), None);
    }
}
