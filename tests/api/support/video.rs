//! Real MP4 files for the tests, made with the `mp4` crate's writer: an H.264 video track
//! (and an AAC one) of the duration and frame size asked, its samples padded to the size
//! asked. Their pictures are not decodable; their containers are exactly what a prober and
//! a platform's checks read.

use mp4::{
    AacConfig, AvcConfig, MediaConfig, Mp4Config, Mp4Sample, Mp4Writer, TrackConfig, TrackType,
};
use std::io::{Cursor, Seek, Write};

/// An MP4 of `duration_ms` at `width`×`height` with sound, about `bytes` long (at least a
/// few hundred bytes).
pub fn mp4(duration_ms: u32, width: u16, height: u16, bytes: usize) -> Vec<u8> {
    write_mp4(Cursor::new(Vec::new()), duration_ms, width, height, bytes).into_inner()
}

/// The same MP4 written to `to` (a file, for videos too big for memory), one second of
/// samples at a time.
pub fn write_mp4<W: Write + Seek>(
    to: W,
    duration_ms: u32,
    width: u16,
    height: u16,
    bytes: usize,
) -> W {
    let config = Mp4Config {
        major_brand: "isom".parse().expect("brand"),
        minor_version: 512,
        compatible_brands: ["isom", "iso2", "avc1", "mp41"]
            .iter()
            .map(|b| b.parse().expect("brand"))
            .collect(),
        timescale: 1000,
    };
    let mut writer = Mp4Writer::write_start(to, &config).expect("start");
    writer
        .add_track(&TrackConfig {
            track_type: TrackType::Video,
            timescale: 1000,
            language: "und".to_owned(),
            media_conf: MediaConfig::AvcConfig(AvcConfig {
                width,
                height,
                // Baseline profile, level 3.0: enough for the sample entry to be complete.
                seq_param_set: vec![0x67, 0x42, 0xc0, 0x1e, 0xd9, 0x00],
                pic_param_set: vec![0x68, 0xce, 0x3c, 0x80],
            }),
        })
        .expect("video track");
    writer
        .add_track(&TrackConfig {
            track_type: TrackType::Audio,
            timescale: 1000,
            language: "und".to_owned(),
            media_conf: MediaConfig::AacConfig(AacConfig::default()),
        })
        .expect("audio track");
    // One video sample a second (the last one shorter), carrying the padding.
    let seconds = duration_ms.div_ceil(1000).max(1);
    let per_sample = bytes / seconds as usize;
    for i in 0..seconds {
        let start = i * 1000;
        let duration = (duration_ms - start).min(1000);
        writer
            .write_sample(
                1,
                &Mp4Sample {
                    start_time: u64::from(start),
                    duration,
                    rendering_offset: 0,
                    is_sync: true,
                    bytes: vec![0u8; per_sample].into(),
                },
            )
            .expect("video sample");
    }
    writer
        .write_sample(
            2,
            &Mp4Sample {
                start_time: 0,
                duration: duration_ms,
                rendering_offset: 0,
                is_sync: true,
                bytes: vec![0u8; 16].into(),
            },
        )
        .expect("audio sample");
    writer.write_end().expect("end");
    writer.into_writer()
}
