//! Content sniffing: the file type is decided by magic bytes, never by a declared type or name.

/// What a file field must contain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MediaKind {
    Image,
    Video,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Jpeg,
    Png,
    Gif,
    Webp,
    Mp4,
    QuickTime,
    Webm,
    Matroska,
}

/// Bytes needed to decide a verdict; a head shorter than this is judged as the whole file.
pub const SNIFF_LEN: usize = 64;

impl Format {
    pub fn kind(self) -> MediaKind {
        match self {
            Format::Jpeg | Format::Png | Format::Gif | Format::Webp => MediaKind::Image,
            _ => MediaKind::Video,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Jpeg => "jpg",
            Format::Png => "png",
            Format::Gif => "gif",
            Format::Webp => "webp",
            Format::Mp4 => "mp4",
            Format::QuickTime => "mov",
            Format::Webm => "webm",
            Format::Matroska => "mkv",
        }
    }

    /// Detects the format from the first bytes of a file.
    pub fn sniff(head: &[u8]) -> Option<Format> {
        let at = |offset: usize, magic: &[u8]| head.get(offset..offset + magic.len()) == Some(magic);
        if at(0, &[0xFF, 0xD8, 0xFF]) {
            Some(Format::Jpeg)
        } else if at(0, &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
            Some(Format::Png)
        } else if at(0, b"GIF87a") || at(0, b"GIF89a") {
            Some(Format::Gif)
        } else if at(0, b"RIFF") && at(8, b"WEBP") {
            Some(Format::Webp)
        } else if at(4, b"ftyp") {
            Some(if at(8, b"qt  ") { Format::QuickTime } else { Format::Mp4 })
        } else if [b"moov", b"mdat", b"wide", b"free", b"skip"].iter().any(|atom| at(4, *atom)) {
            Some(Format::QuickTime)
        } else if at(0, &[0x1A, 0x45, 0xDF, 0xA3]) {
            let is_webm = head.windows(4).any(|w| w == b"webm");
            Some(if is_webm { Format::Webm } else { Format::Matroska })
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_every_accepted_signature() {
        let cases: [(&[u8], Format); 9] = [
            (&[0xFF, 0xD8, 0xFF, 0xE0], Format::Jpeg),
            (&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0], Format::Png),
            (b"GIF89a..", Format::Gif),
            (b"RIFF\0\0\0\0WEBPVP8 ", Format::Webp),
            (b"\0\0\0\x18ftypisom", Format::Mp4),
            (b"\0\0\0\x14ftypqt  ", Format::QuickTime),
            (b"\0\0\0\x08wide\0\0", Format::QuickTime),
            (b"\x1a\x45\xdf\xa3\x9f\x42\x82\x84webm", Format::Webm),
            (b"\x1a\x45\xdf\xa3\x9f\x42\x82\x88matroska", Format::Matroska),
        ];
        for (bytes, format) in cases {
            assert_eq!(Format::sniff(bytes), Some(format), "{format:?}");
        }
    }

    #[test]
    fn rejects_other_content() {
        for bytes in [&b"hello world"[..], b"<svg></svg>", b"%PDF-1.7", b"", b"\xFF\xD8"] {
            assert_eq!(Format::sniff(bytes), None);
        }
    }
}
