//! Lossless metadata removal at the container level, for the case where re-encoding would
//! not make a file smaller: the original compressed pixels are kept byte for byte, and every
//! block that can carry metadata is dropped. These are allow-lists: a block is kept only if
//! it is needed to show the pixels, so unknown or future metadata blocks go too.
//!
//! Each function returns `None` when the file is malformed or is something it will not
//! handle (animated WebP): the caller then uses the re-encoded output instead.

use crate::kind::ContentKind;

/// Strips metadata from `data` of the given kind (already sniffed).
pub fn strip_metadata(kind: ContentKind, data: &[u8]) -> Option<Vec<u8>> {
    match kind {
        ContentKind::Jpeg => strip_jpeg(data),
        ContentKind::Png => strip_png(data),
        ContentKind::Webp => strip_webp(data),
        ContentKind::Gif => first_gif_frame(data),
    }
}

/// JPEG: keeps SOI, APP0 (JFIF, minus any thumbnail), APP14 (Adobe: needed to read the colour transform), and the
/// coding segments (DQT, DHT, SOFn, DRI, SOS + entropy data, DNL, EOI). Drops APP1 (EXIF,
/// XMP), APP2 (ICC, MPF), APP13 (IPTC/Photoshop), every other APPn, and COM.
///
/// Also the truncation check: `None` unless an EOI marker ends the scans, because a decoder
/// will happily grey-fill a truncated file and call it an image.
pub fn strip_jpeg(data: &[u8]) -> Option<Vec<u8>> {
    if !data.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let mut out = Vec::with_capacity(data.len());
    out.extend_from_slice(&[0xFF, 0xD8]);
    let mut i = 2;
    loop {
        // Markers may be preceded by any number of 0xFF fill bytes.
        while data.get(i) == Some(&0xFF) && data.get(i + 1) == Some(&0xFF) {
            i += 1;
        }
        if data.get(i) != Some(&0xFF) {
            return None;
        }
        let marker = *data.get(i + 1)?;
        i += 2;
        match marker {
            0xD9 => {
                out.extend_from_slice(&[0xFF, 0xD9]);
                return Some(out);
            }
            // Standalone markers without a length.
            0x01 | 0xD0..=0xD7 => {
                out.extend_from_slice(&[0xFF, marker]);
                continue;
            }
            _ => {}
        }
        let len = u16::from_be_bytes([*data.get(i)?, *data.get(i + 1)?]) as usize;
        if len < 2 {
            return None;
        }
        let segment = data.get(i - 2..i + len)?;
        i += len;
        let keep = match marker {
            0xE0 => segment.get(4..9) == Some(b"JFIF\0"),
            0xEE => segment.get(4..9) == Some(b"Adobe"),
            0xE1..=0xEF | 0xFE => false,
            _ => true,
        };
        if marker == 0xE0 && keep && segment.len() > 18 {
            // A JFIF header may carry an uncompressed thumbnail, which can show what was
            // cropped away: keep the 14-byte header only, with a 0×0 thumbnail.
            out.extend_from_slice(&[0xFF, 0xE0, 0x00, 0x10]);
            out.extend_from_slice(&segment[4..16]);
            out.extend_from_slice(&[0, 0]);
        } else if keep {
            out.extend_from_slice(segment);
        }
        if marker == 0xDA {
            // Entropy-coded data runs until a marker that is not a stuffed 0x00 or a restart.
            let start = i;
            loop {
                let b = *data.get(i)?;
                if b == 0xFF {
                    let next = *data.get(i + 1)?;
                    if next == 0x00 || (0xD0..=0xD7).contains(&next) {
                        i += 2;
                        continue;
                    }
                    if next == 0xFF {
                        i += 1;
                        continue;
                    }
                    break;
                }
                i += 1;
            }
            out.extend_from_slice(&data[start..i]);
        }
    }
}

/// PNG: keeps the critical chunks (IHDR, PLTE, IDAT, IEND) and the ancillary ones that
/// change how pixels look (tRNS, gAMA, cHRM, sRGB, sBIT). Drops text (tEXt, zTXt, iTXt),
/// eXIf, iCCP, tIME, pHYs, APNG animation chunks (the default image stays) and all others.
pub fn strip_png(data: &[u8]) -> Option<Vec<u8>> {
    const SIG: &[u8] = b"\x89PNG\r\n\x1a\n";
    const KEEP: [&[u8; 4]; 9] = [b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"sBIT"];
    let mut out = Vec::with_capacity(data.len());
    out.extend_from_slice(data.get(..8).filter(|s| *s == SIG)?);
    let mut i = 8;
    loop {
        let len = u32::from_be_bytes(data.get(i..i + 4)?.try_into().ok()?) as usize;
        let chunk = data.get(i..i.checked_add(12)?.checked_add(len)?)?;
        let ty = &chunk[4..8];
        if KEEP.iter().any(|k| &k[..] == ty) {
            out.extend_from_slice(chunk);
        }
        i += chunk.len();
        if ty == b"IEND" {
            return Some(out);
        }
    }
}

/// WebP: keeps VP8X (with the ICC/EXIF/XMP flags cleared), ALPH, VP8 and VP8L; drops ICCP,
/// EXIF, XMP and unknown chunks. Animated files are refused (`None`): the pipeline stores
/// only one frame.
pub fn strip_webp(data: &[u8]) -> Option<Vec<u8>> {
    if data.get(0..4)? != b"RIFF" || data.get(8..12)? != b"WEBP" {
        return None;
    }
    let riff_len = u32::from_le_bytes(data.get(4..8)?.try_into().ok()?) as usize;
    let end = riff_len.checked_add(8)?.min(data.len());
    let mut body = Vec::with_capacity(end);
    let mut i = 12;
    let mut has_image = false;
    while i + 8 <= end {
        let fourcc = &data[i..i + 4];
        let len = u32::from_le_bytes(data[i + 4..i + 8].try_into().ok()?) as usize;
        let padded = len.checked_add(len & 1)?;
        let chunk = data.get(i..i.checked_add(8)?.checked_add(padded)?)?;
        match fourcc {
            b"VP8X" => {
                let mut c = chunk.to_vec();
                let flags = c.get_mut(8)?;
                if *flags & 0x02 != 0 {
                    return None; // animation
                }
                // Bits: 0x20 ICC, 0x08 EXIF, 0x04 XMP; keep alpha (0x10).
                *flags &= !(0x20 | 0x08 | 0x04);
                body.extend_from_slice(&c);
            }
            b"ANIM" | b"ANMF" => return None,
            b"ALPH" => body.extend_from_slice(chunk),
            b"VP8 " | b"VP8L" => {
                has_image = true;
                body.extend_from_slice(chunk);
            }
            _ => {}
        }
        i += chunk.len();
    }
    if !has_image {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() + 12);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&u32::try_from(body.len() + 4).ok()?.to_le_bytes());
    out.extend_from_slice(b"WEBP");
    out.extend_from_slice(&body);
    Some(out)
}

/// GIF: rebuilds the file from the header, the logical screen and global palette, the
/// graphic control extension of the first frame (it carries transparency) and the first
/// frame itself, then a trailer. Comments, application extensions (NETSCAPE looping, XMP)
/// and plain-text blocks go; so do all later frames, since we store the first frame only.
pub fn first_gif_frame(data: &[u8]) -> Option<Vec<u8>> {
    let header = data.get(0..13)?;
    let mut i = 13;
    let packed = header[10];
    if packed & 0x80 != 0 {
        i += 3 * (1usize << ((packed & 0x07) + 1));
    }
    let mut out = data.get(0..i)?.to_vec();
    let mut gce: Option<&[u8]> = None;
    loop {
        match *data.get(i)? {
            0x21 => {
                let label = *data.get(i + 1)?;
                let end = skip_sub_blocks(data, i + 2)?;
                if label == 0xF9 {
                    gce = Some(&data[i..end]);
                }
                i = end;
            }
            0x2C => {
                let desc = data.get(i..i + 10)?;
                let mut j = i + 10;
                if desc[9] & 0x80 != 0 {
                    j += 3 * (1usize << ((desc[9] & 0x07) + 1));
                }
                data.get(j)?; // LZW minimum code size
                let end = skip_sub_blocks(data, j + 1)?;
                if let Some(gce) = gce {
                    out.extend_from_slice(gce);
                }
                out.extend_from_slice(&data[i..end]);
                out.push(0x3B);
                return Some(out);
            }
            _ => return None, // trailer before any image, or garbage
        }
    }
}

/// Returns the index just past a chain of GIF sub-blocks starting at `i`.
fn skip_sub_blocks(data: &[u8], mut i: usize) -> Option<usize> {
    loop {
        let n = *data.get(i)? as usize;
        i += 1;
        if n == 0 {
            return Some(i);
        }
        i = i.checked_add(n)?;
        data.get(i - 1)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jpeg_segments_are_filtered_and_truncation_detected() {
        let mut jpeg = vec![0xFF, 0xD8];
        let app1: &[u8] = &[0xFF, 0xE1, 0x00, 0x08, b'E', b'x', b'i', b'f', 0, 0];
        let com: &[u8] = &[0xFF, 0xFE, 0x00, 0x05, b'h', b'i', b'!'];
        let dqt: &[u8] = &[0xFF, 0xDB, 0x00, 0x03, 0x07];
        let sos: &[u8] = &[0xFF, 0xDA, 0x00, 0x03, 0x01];
        let scan: &[u8] = &[0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56];
        for s in [app1, com, dqt, sos, scan] {
            jpeg.extend_from_slice(s);
        }
        let full = [&jpeg[..], &[0xFF, 0xD9]].concat();
        let stripped = strip_jpeg(&full).unwrap();
        assert_eq!(stripped, [&[0xFF, 0xD8][..], dqt, sos, scan, &[0xFF, 0xD9]].concat());
        assert!(strip_jpeg(&jpeg).is_none(), "no EOI: truncated");
    }

    #[test]
    fn jfif_thumbnail_is_dropped() {
        let mut app0 = vec![0xFF, 0xE0, 0x00, 0x16];
        app0.extend_from_slice(b"JFIF\0");
        app0.extend_from_slice(&[1, 1, 0, 0, 1, 0, 1, 2, 1]); // version, density, 2×1 thumb
        app0.extend_from_slice(&[9, 9, 9, 9, 9, 9]); // thumbnail RGB
        let jpeg = [&[0xFF, 0xD8][..], &app0, &[0xFF, 0xD9]].concat();
        let out = strip_jpeg(&jpeg).unwrap();
        let mut expected = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
        expected.extend_from_slice(b"JFIF\0");
        expected.extend_from_slice(&[1, 1, 0, 0, 1, 0, 1, 0, 0, 0xFF, 0xD9]);
        assert_eq!(out, expected);
    }

    #[test]
    fn png_text_chunks_go() {
        fn chunk(ty: &[u8], data: &[u8]) -> Vec<u8> {
            let mut c = (data.len() as u32).to_be_bytes().to_vec();
            c.extend_from_slice(ty);
            c.extend_from_slice(data);
            c.extend_from_slice(&[0, 0, 0, 0]); // CRC is copied, not checked
            c
        }
        let sig = b"\x89PNG\r\n\x1a\n".to_vec();
        let ihdr = chunk(b"IHDR", &[0; 13]);
        let text = chunk(b"tEXt", b"Author\0owner@example.com");
        let idat = chunk(b"IDAT", &[1, 2, 3]);
        let iend = chunk(b"IEND", &[]);
        let png = [&sig[..], &ihdr, &text, &idat, &iend].concat();
        assert_eq!(strip_png(&png).unwrap(), [&sig[..], &ihdr, &idat, &iend].concat());
        assert!(strip_png(&png[..png.len() - 3]).is_none());
    }
}
