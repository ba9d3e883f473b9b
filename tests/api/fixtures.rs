//! Media fixtures synthesised in code: images by their signatures, MP4 with the `mp4` crate, WebM by hand.

use std::io::Cursor;

/// A valid 1×1 PNG.
pub fn png() -> Vec<u8> {
    const PNG_1X1: [u8; 67] = [
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00,
        0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00,
        0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00, 0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D,
        0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
    ];
    PNG_1X1.to_vec()
}

/// JPEG signature followed by filler; enough for content sniffing.
pub fn jpeg() -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00];
    bytes.resize(300, 0x11);
    bytes
}

/// An MP4 with one video track of `samples` samples of 1/25 s each (duration = samples / 25 s).
pub fn mp4(samples: u32) -> Vec<u8> {
    use mp4::{AvcConfig, FourCC, MediaConfig, Mp4Config, Mp4Sample, Mp4Writer, TrackConfig, TrackType};
    let config = Mp4Config {
        major_brand: str::parse::<FourCC>("isom").unwrap(),
        minor_version: 512,
        compatible_brands: vec![str::parse::<FourCC>("isom").unwrap(), str::parse::<FourCC>("mp41").unwrap()],
        timescale: 1000,
    };
    let mut writer = Mp4Writer::write_start(Cursor::new(Vec::new()), &config).unwrap();
    writer
        .add_track(&TrackConfig {
            track_type: TrackType::Video,
            timescale: 1000,
            language: "und".into(),
            media_conf: MediaConfig::AvcConfig(AvcConfig {
                width: 16,
                height: 16,
                seq_param_set: vec![0x67, 0x42, 0x00, 0x0A, 0xF8, 0x41, 0xA2],
                pic_param_set: vec![0x68, 0xCE, 0x38, 0x80],
            }),
        })
        .unwrap();
    for i in 0..samples {
        let sample = Mp4Sample {
            start_time: u64::from(i) * 40,
            duration: 40,
            rendering_offset: 0,
            is_sync: i == 0,
            bytes: bytes::Bytes::from(vec![0u8; 64]),
        };
        writer.write_sample(1, &sample).unwrap();
    }
    writer.write_end().unwrap();
    writer.into_writer().into_inner()
}

/// A minimal WebM whose Segment Info says `duration_ms` (TimecodeScale 1 ms).
pub fn webm(duration_ms: f64) -> Vec<u8> {
    let mut info = vec![0x2A, 0xD7, 0xB1, 0x83, 0x0F, 0x42, 0x40, 0x44, 0x89, 0x88];
    info.extend(duration_ms.to_be_bytes());
    let mut out = vec![0x1A, 0x45, 0xDF, 0xA3, 0x87, 0x42, 0x82, 0x84, b'w', b'e', b'b', b'm'];
    out.extend([0x18, 0x53, 0x80, 0x67, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]);
    out.extend([0x15, 0x49, 0xA9, 0x66, 0x80 | info.len() as u8]);
    out.extend(info);
    out.extend([0x1F, 0x43, 0xB6, 0x75, 0x84, 0, 0, 0, 0]);
    out
}
