//! Video duration from container metadata: MP4/QuickTime through the `mp4` crate, WebM/Matroska
//! through a small EBML reader of the Segment's Info element.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use super::sniff::Format;

/// Seconds of video, or 0 when the container carries no duration.
pub fn video_duration(path: &Path, format: Format) -> f64 {
    let measured = match format {
        Format::Mp4 | Format::QuickTime => mp4_duration(path),
        Format::Webm | Format::Matroska => File::open(path).ok().and_then(|f| ebml_duration(BufReader::new(f))),
        _ => None,
    };
    match measured {
        Some(d) if d.is_finite() && d >= 0.0 => (d * 1000.0).round() / 1000.0,
        _ => {
            tracing::info!(path = %path.display(), ?format, "no duration found in container");
            0.0
        }
    }
}

fn mp4_duration(path: &Path) -> Option<f64> {
    let file = File::open(path).ok()?;
    let size = file.metadata().ok()?.len();
    let reader = mp4::Mp4Reader::read_header(BufReader::new(file), size).ok()?;
    Some(reader.duration().as_secs_f64())
}

const EBML_HEADER: u64 = 0x1A45_DFA3;
const SEGMENT: u64 = 0x1853_8067;
const INFO: u64 = 0x1549_A966;
const CLUSTER: u64 = 0x1F43_B675;
const TIMECODE_SCALE: u64 = 0x2A_D7B1;
const DURATION: u64 = 0x4489;

/// Reads a variable-length integer; `keep_marker` keeps the length bits (element ids keep them).
fn read_vint<R: Read>(r: &mut R, keep_marker: bool) -> Option<(u64, bool)> {
    let mut first = [0u8; 1];
    r.read_exact(&mut first).ok()?;
    let len = first[0].leading_zeros() as usize + 1;
    if len > 8 {
        return None;
    }
    let mut value = if keep_marker { u64::from(first[0]) } else { u64::from(first[0]) & ((1 << (8 - len)) - 1) };
    let mut all_ones = value == (1 << (8 - len)) - 1;
    for _ in 1..len {
        let mut b = [0u8; 1];
        r.read_exact(&mut b).ok()?;
        value = (value << 8) | u64::from(b[0]);
        all_ones &= b[0] == 0xFF;
    }
    // A size whose value bits are all ones means "unknown size" (live streams).
    Some((value, !keep_marker && all_ones))
}

fn read_uint<R: Read>(r: &mut R, len: u64) -> Option<u64> {
    if len > 8 {
        return None;
    }
    let mut value = 0u64;
    for _ in 0..len {
        let mut b = [0u8; 1];
        r.read_exact(&mut b).ok()?;
        value = (value << 8) | u64::from(b[0]);
    }
    Some(value)
}

fn read_float<R: Read>(r: &mut R, len: u64) -> Option<f64> {
    match len {
        4 => {
            let mut b = [0u8; 4];
            r.read_exact(&mut b).ok()?;
            Some(f64::from(f32::from_be_bytes(b)))
        }
        8 => {
            let mut b = [0u8; 8];
            r.read_exact(&mut b).ok()?;
            Some(f64::from_be_bytes(b))
        }
        _ => None,
    }
}

/// Finds Segment → Info → Duration × TimecodeScale (ns) and returns seconds.
pub fn ebml_duration<R: Read + Seek>(mut r: R) -> Option<f64> {
    let (id, _) = read_vint(&mut r, true)?;
    if id != EBML_HEADER {
        return None;
    }
    let (size, _) = read_vint(&mut r, false)?;
    r.seek(SeekFrom::Current(i64::try_from(size).ok()?)).ok()?;
    let (id, _) = read_vint(&mut r, true)?;
    if id != SEGMENT {
        return None;
    }
    read_vint(&mut r, false)?;
    loop {
        let (id, _) = read_vint(&mut r, true)?;
        let (size, unknown) = read_vint(&mut r, false)?;
        match id {
            INFO if !unknown => return info_duration(&mut r.take(size)),
            CLUSTER => return None,
            _ if unknown => return None,
            _ => {
                r.seek(SeekFrom::Current(i64::try_from(size).ok()?)).ok()?;
            }
        }
    }
}

fn info_duration<R: Read>(r: &mut R) -> Option<f64> {
    let mut scale_ns = 1_000_000u64;
    let mut duration = None;
    while let Some((id, _)) = read_vint(r, true) {
        let (size, _) = read_vint(r, false)?;
        match id {
            TIMECODE_SCALE => scale_ns = read_uint(r, size)?,
            DURATION => duration = read_float(r, size),
            _ => {
                std::io::copy(&mut r.take(size), &mut std::io::sink()).ok()?;
            }
        }
    }
    duration.map(|ticks| ticks * scale_ns as f64 / 1e9)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// A minimal WebM: EBML header, Segment with a SeekHead to skip, then Info.
    pub fn webm_bytes(duration_ms: f64, float32: bool) -> Vec<u8> {
        let mut info = vec![0x2A, 0xD7, 0xB1, 0x83, 0x0F, 0x42, 0x40]; // TimecodeScale = 1_000_000
        if float32 {
            info.extend([0x44, 0x89, 0x84]);
            info.extend((duration_ms as f32).to_be_bytes());
        } else {
            info.extend([0x44, 0x89, 0x88]);
            info.extend(duration_ms.to_be_bytes());
        }
        let mut segment_body = vec![0x11, 0x4D, 0x9B, 0x74, 0x82, 0xEC, 0x00]; // SeekHead with 2 bytes
        segment_body.extend([0x15, 0x49, 0xA9, 0x66, 0x80 | info.len() as u8]);
        segment_body.extend(info);
        let mut out = vec![0x1A, 0x45, 0xDF, 0xA3, 0x84, 0x42, 0x82, 0x81, b'w'];
        out.extend([0x18, 0x53, 0x80, 0x67, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]); // unknown size
        out.extend(segment_body);
        out
    }

    #[test]
    fn reads_webm_duration_in_both_float_widths() {
        assert_eq!(ebml_duration(Cursor::new(webm_bytes(12_500.0, false))), Some(12.5));
        assert_eq!(ebml_duration(Cursor::new(webm_bytes(3_000.0, true))), Some(3.0));
    }

    #[test]
    fn missing_or_garbled_headers_give_none() {
        assert_eq!(ebml_duration(Cursor::new(b"not ebml".to_vec())), None);
        let mut truncated = webm_bytes(1000.0, false);
        truncated.truncate(20);
        assert_eq!(ebml_duration(Cursor::new(truncated)), None);
    }
}
