//! The HLS ladder: which renditions a source gets, the ffmpeg arguments of each, and the master
//! playlist, written from the segments actually produced (peak `BANDWIDTH`, `RESOLUTION`).

use std::ffi::OsString;
use std::path::Path;

/// Segment length in seconds; keyframes are forced on this grid so every segment has it.
const SEGMENT_SECS: u32 = 4;
/// The master playlist's name inside the renditions directory.
pub const MASTER: &str = "master.m3u8";

/// One variant of the ladder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rendition {
    pub width: u32,
    pub height: u32,
}

impl Rendition {
    fn name(self) -> String {
        format!("{}p", self.height)
    }

    /// Target video bitrate in kbit/s, growing with the picture area.
    fn video_kbps(self) -> u32 {
        (self.width * self.height * 3 / 1000).max(150)
    }

    /// ffmpeg arguments turning `input` into this variant's playlist and segments in `dir`.
    pub fn args(self, input: &Path, dir: &Path) -> Vec<OsString> {
        let kbps = self.video_kbps();
        let mut args: Vec<OsString> = vec!["-i".into(), input.into()];
        let text = [
            "-map".to_owned(),
            "0:v:0".into(),
            "-map".into(),
            "0:a:0?".into(),
            "-vf".into(),
            format!("scale={}:{},setsar=1", self.width, self.height),
            "-c:v".into(),
            "libx264".into(),
            "-preset".into(),
            "veryfast".into(),
            "-pix_fmt".into(),
            "yuv420p".into(),
            "-b:v".into(),
            format!("{kbps}k"),
            "-maxrate".into(),
            format!("{}k", kbps * 3 / 2),
            "-bufsize".into(),
            format!("{}k", kbps * 2),
            "-force_key_frames".into(),
            format!("expr:gte(t,n_forced*{SEGMENT_SECS})"),
            "-sc_threshold".into(),
            "0".into(),
            "-c:a".into(),
            "aac".into(),
            "-b:a".into(),
            "96k".into(),
            "-ac".into(),
            "2".into(),
            "-f".into(),
            "hls".into(),
            "-hls_time".into(),
            SEGMENT_SECS.to_string(),
            "-hls_playlist_type".into(),
            "vod".into(),
            "-hls_segment_filename".into(),
        ];
        args.extend(text.into_iter().map(OsString::from));
        args.push(dir.join(format!("{}_%03d.ts", self.name())).into());
        args.push(dir.join(format!("{}.m3u8", self.name())).into());
        args
    }
}

/// The renditions of a `width`×`height` source: each configured height up to the source's, or the
/// source height alone when every configured one is taller. Never upscaled; sizes are even (H.264
/// with 4:2:0 chroma needs it) and keep the source's shape.
pub fn ladder(heights: &[u32], width: u32, height: u32) -> Vec<Rendition> {
    if width == 0 || height == 0 {
        return Vec::new();
    }
    let fitting: Vec<u32> = heights.iter().copied().filter(|h| *h <= height).collect();
    let chosen = if fitting.is_empty() { vec![height] } else { fitting };
    chosen
        .into_iter()
        .map(|h| {
            let h = (h / 2 * 2).max(2);
            let scaled = f64::from(width) * f64::from(h) / f64::from(height);
            Rendition { width: (((scaled / 2.0).round() as u32) * 2).max(2), height: h }
        })
        .collect()
}

/// Writes the master playlist over the variants in `dir`, each with the peak bitrate of its
/// segments as `BANDWIDTH`.
pub fn write_master(dir: &Path, renditions: &[Rendition]) -> std::io::Result<()> {
    let mut master = String::from("#EXTM3U\n#EXT-X-VERSION:3\n");
    for rendition in renditions {
        let playlist = format!("{}.m3u8", rendition.name());
        let text = std::fs::read_to_string(dir.join(&playlist))?;
        let bandwidth = peak_bandwidth(&text, |segment| std::fs::metadata(dir.join(segment)).map(|m| m.len()))?;
        master.push_str(&format!(
            "#EXT-X-STREAM-INF:BANDWIDTH={bandwidth},RESOLUTION={}x{}\n{playlist}\n",
            rendition.width, rendition.height
        ));
    }
    std::fs::write(dir.join(MASTER), master)
}

/// The highest bits per second of any segment of a media playlist (`size_of` gives a segment's bytes).
fn peak_bandwidth(playlist: &str, size_of: impl Fn(&str) -> std::io::Result<u64>) -> std::io::Result<u64> {
    let mut peak = 1u64;
    let mut duration = None;
    for line in playlist.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("#EXTINF:") {
            duration = rest.split(',').next().and_then(|d| d.parse::<f64>().ok());
        } else if !line.is_empty() && !line.starts_with('#') {
            let seconds = duration.take().filter(|d| *d > 0.0).unwrap_or(f64::from(SEGMENT_SECS));
            let bits = size_of(line)? as f64 * 8.0;
            peak = peak.max((bits / seconds).ceil() as u64);
        }
    }
    Ok(peak)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ladder_is_capped_at_the_source_and_never_upscales() {
        let heights = [240, 480, 720, 1080];
        let got = |w, h| ladder(&heights, w, h).iter().map(|r| (r.width, r.height)).collect::<Vec<_>>();
        assert_eq!(got(1920, 1080), [(426, 240), (854, 480), (1280, 720), (1920, 1080)]);
        assert_eq!(got(640, 360), [(426, 240)]);
        assert_eq!(got(160, 120), [(160, 120)], "shorter than every height: the source height alone");
        assert_eq!(got(120, 160), [(120, 160)]);
        assert_eq!(got(1080, 1920), [(136, 240), (270, 480), (406, 720), (608, 1080)]);
        assert_eq!(got(161, 121), [(160, 120)]);
        assert!(got(0, 0).is_empty());
    }

    #[test]
    fn bandwidth_is_the_peak_segment_rate() {
        let playlist = "#EXTM3U\n#EXTINF:4.000000,\na.ts\n#EXTINF:2.000000,\nb.ts\n#EXT-X-ENDLIST\n";
        let sizes = |name: &str| Ok(if name == "a.ts" { 40_000 } else { 30_000 });
        assert_eq!(peak_bandwidth(playlist, sizes).unwrap(), 120_000);
    }
}
