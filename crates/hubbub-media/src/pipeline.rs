//! The synchronous image pipeline: sniff → header check → decode (with limits) → orient →
//! drop alpha if unused → resize (Lanczos3) → re-encode → keep whichever of the re-encode and
//! the metadata-stripped original is smaller.
//!
//! Everything here is CPU-bound and blocking; [`ImageOptimizer`](crate::ImageOptimizer) runs
//! it on tokio's blocking pool behind a semaphore. The stages are public so the benchmark can
//! time them one by one.
//!
//! Colour: pixels are treated as sRGB. ICC profiles are dropped with the rest of the
//! metadata, without converting the pixels, so a wide-gamut (Display P3) photo looks slightly
//! less saturated than on the phone. Converting would need a colour-management library and
//! the profile can carry device strings; for chat photos the trade was not worth it.

use std::io::Cursor;

use fast_image_resize as fir;
use image::{DynamicImage, ImageDecoder, ImageEncoder, ImageReader, Limits, metadata::Orientation};

use crate::error::{MediaError, Result};
use crate::kind::{ContentKind, MediaPurpose};
use crate::strip::strip_metadata;

/// Limits and settings of the pipeline.
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    /// Largest image accepted, in pixels, checked from the header before decoding.
    pub max_pixels: u64,
    /// Most memory `image`'s decoders may allocate for one image.
    pub max_decoder_alloc: u64,
    /// JPEG quality for opaque output.
    pub jpeg_quality: u8,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            max_pixels: 50_000_000,
            // 50 MP as RGBA8 is 200 MB; 16-bit sources need twice that. Anything beyond is
            // refused as 422 rather than risking the process.
            max_decoder_alloc: 512 * 1024 * 1024,
            jpeg_quality: 80,
        }
    }
}

/// What the header says, before any pixel is decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    /// Type from the magic bytes.
    pub kind: ContentKind,
    /// Width as stored (before EXIF orientation).
    pub width: u32,
    /// Height as stored (before EXIF orientation).
    pub height: u32,
}

/// Sniffs the type and reads the header dimensions, refusing images over the pixel limit.
/// Cheap: only headers are parsed, so a decompression bomb costs nothing.
pub fn probe(input: &[u8], config: &PipelineConfig) -> Result<Probe> {
    let kind = ContentKind::sniff(&input[..input.len().min(64)])?;
    let (width, height) = ImageReader::with_format(Cursor::new(input), kind.image_format())
        .into_dimensions()
        .map_err(MediaError::from_image)?;
    if width == 0 || height == 0 {
        return Err(MediaError::Undecodable("image has no pixels".into()));
    }
    if u64::from(width) * u64::from(height) > config.max_pixels {
        return Err(MediaError::TooManyPixels { width, height, max_pixels: config.max_pixels });
    }
    Ok(Probe { kind, width, height })
}

/// Decodes with `image`'s limits set and applies the EXIF orientation to the pixels (GIF:
/// the first frame). Returns the upright image and the orientation that was applied.
pub fn decode(input: &[u8], probe: &Probe, config: &PipelineConfig) -> Result<(DynamicImage, Orientation)> {
    let mut limits = Limits::default();
    limits.max_alloc = Some(config.max_decoder_alloc);
    // Strict limits: never trust that the decoder re-reads the same header we probed.
    limits.max_image_width = Some(probe.width);
    limits.max_image_height = Some(probe.height);
    let mut reader = ImageReader::with_format(Cursor::new(input), probe.kind.image_format());
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(MediaError::from_image)?;
    // `image` passes `max_alloc` to some decoders only (not to the JPEG one), so the output
    // buffer, the largest allocation, is checked here for every format.
    if decoder.total_bytes() > config.max_decoder_alloc {
        return Err(MediaError::DecoderLimits);
    }
    // A broken EXIF block should not sink an otherwise good photo: treat it as upright.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(MediaError::from_image)?;
    image.apply_orientation(orientation);
    Ok((image, orientation))
}

/// Channel layout of [`Pixels`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// 8-bit grey.
    Luma,
    /// 8-bit RGB.
    Rgb,
    /// 8-bit RGBA with at least one pixel not fully opaque.
    Rgba,
}

impl Layout {
    fn fir(self) -> fir::PixelType {
        match self {
            Layout::Luma => fir::PixelType::U8,
            Layout::Rgb => fir::PixelType::U8x3,
            Layout::Rgba => fir::PixelType::U8x4,
        }
    }
}

/// Packed 8-bit pixels ready for resizing and encoding.
#[derive(Debug, Clone)]
pub struct Pixels {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Channel layout.
    pub layout: Layout,
    /// Row-major samples, no padding.
    pub data: Vec<u8>,
}

impl Pixels {
    /// Converts to 8 bits per channel and keeps alpha only if some pixel actually uses it:
    /// a PNG or GIF with an alpha channel that is fully opaque is a photo, and becomes a JPEG.
    pub fn from_image(image: DynamicImage) -> Pixels {
        let (width, height) = (image.width(), image.height());
        let color = image.color();
        if color.has_alpha() {
            let rgba = image.to_rgba8();
            if rgba.pixels().any(|p| p.0[3] != u8::MAX) {
                return Pixels { width, height, layout: Layout::Rgba, data: rgba.into_raw() };
            }
            let image = DynamicImage::ImageRgba8(rgba);
            return if color.has_color() {
                Pixels::rgb(width, height, image.to_rgb8().into_raw())
            } else {
                Pixels::luma(width, height, image.to_luma8().into_raw())
            };
        }
        match image {
            DynamicImage::ImageLuma8(l) => Pixels::luma(width, height, l.into_raw()),
            DynamicImage::ImageRgb8(rgb) => Pixels::rgb(width, height, rgb.into_raw()),
            other if !other.color().has_color() => Pixels::luma(width, height, other.to_luma8().into_raw()),
            other => Pixels::rgb(width, height, other.to_rgb8().into_raw()),
        }
    }

    fn rgb(width: u32, height: u32, data: Vec<u8>) -> Pixels {
        Pixels { width, height, layout: Layout::Rgb, data }
    }

    fn luma(width: u32, height: u32, data: Vec<u8>) -> Pixels {
        Pixels { width, height, layout: Layout::Luma, data }
    }
}

/// The size that fits `max_side` on the long side, keeping the aspect ratio, or `None` if
/// the image already fits (we never upscale).
pub fn fit_within(width: u32, height: u32, max_side: u32) -> Option<(u32, u32)> {
    if width.max(height) <= max_side {
        return None;
    }
    let scale = |short: u32, long: u32| -> u32 {
        let v = (u64::from(short) * u64::from(max_side) + u64::from(long) / 2) / u64::from(long);
        u32::try_from(v).unwrap_or(max_side).max(1)
    };
    Some(if width >= height { (max_side, scale(height, width)) } else { (scale(width, height), max_side) })
}

/// Resizes with `fast_image_resize`'s Lanczos3 convolution (SIMD; alpha premultiplied while
/// filtering so transparent pixels do not bleed colour).
pub fn resize(src: &Pixels, width: u32, height: u32) -> Result<Pixels> {
    let pixel_type = src.layout.fir();
    let src_view = fir::images::ImageRef::new(src.width, src.height, &src.data, pixel_type)
        .map_err(|e| MediaError::Internal(format!("resize source: {e}")))?;
    let mut dst = fir::images::Image::new(width, height, pixel_type);
    let options = fir::ResizeOptions::new().resize_alg(fir::ResizeAlg::Convolution(fir::FilterType::Lanczos3));
    fir::Resizer::new()
        .resize(&src_view, &mut dst, &options)
        .map_err(|e| MediaError::Internal(format!("resize: {e}")))?;
    Ok(Pixels { width, height, layout: src.layout, data: dst.into_vec() })
}

/// Baseline JPEG, 4:2:0 chroma (box-averaged), no metadata segments beyond JFIF. Only for
/// opaque pixels.
///
/// Not `set_optimized_huffman_tables(true)`: with jpeg-encoder 0.7.1 it saves ~4%, and
/// libjpeg-turbo decodes the result correctly, but zune-jpeg 0.5 (`image`'s JPEG decoder)
/// decodes it to garbage (mean error 118/255 measured here). We decode our own output in
/// `hubbub media optimize`, so that would destroy photos.
pub fn encode_jpeg(pixels: &Pixels, quality: u8) -> Result<Vec<u8>> {
    let color = match pixels.layout {
        Layout::Luma => jpeg_encoder::ColorType::Luma,
        Layout::Rgb => jpeg_encoder::ColorType::Rgb,
        Layout::Rgba => return Err(MediaError::Encode("JPEG cannot hold alpha".into())),
    };
    let (w, h) = (
        u16::try_from(pixels.width).map_err(|_| MediaError::Encode("too wide for JPEG".into()))?,
        u16::try_from(pixels.height).map_err(|_| MediaError::Encode("too tall for JPEG".into()))?,
    );
    let mut out = Vec::with_capacity(pixels.data.len() / 8);
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, quality);
    encoder.set_chroma_subsampling_method(jpeg_encoder::ChromaSubsamplingMethod::Average);
    encoder.encode(&pixels.data, w, h, color).map_err(|e| MediaError::Encode(e.to_string()))?;
    Ok(out)
}

/// Lossless PNG (best compression, adaptive filters), no ancillary chunks. Used for images
/// with real transparency.
pub fn encode_png(pixels: &Pixels) -> Result<Vec<u8>> {
    use image::codecs::png::{CompressionType, FilterType, PngEncoder};
    let color = match pixels.layout {
        Layout::Luma => image::ExtendedColorType::L8,
        Layout::Rgb => image::ExtendedColorType::Rgb8,
        Layout::Rgba => image::ExtendedColorType::Rgba8,
    };
    let mut out = Vec::new();
    PngEncoder::new_with_quality(&mut out, CompressionType::Best, FilterType::Adaptive)
        .write_image(&pixels.data, pixels.width, pixels.height, color)
        .map_err(|e| MediaError::Encode(e.to_string()))?;
    Ok(out)
}

/// How the output was produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Decoded, oriented, possibly resized, re-encoded.
    Reencoded,
    /// The original compressed pixels, with every metadata block removed, because
    /// re-encoding would not have been smaller.
    OriginalStripped,
}

/// The pipeline's result.
#[derive(Debug, Clone)]
pub struct Optimized {
    /// Bytes to store.
    pub bytes: Vec<u8>,
    /// Their type (decides the extension and `Content-Type`).
    pub kind: ContentKind,
    /// Output width (upright).
    pub width: u32,
    /// Output height (upright).
    pub height: u32,
    /// What came in.
    pub source: Probe,
    /// Upright dimensions of the input (width and height swapped for orientations 5–8).
    pub source_upright: (u32, u32),
    /// Size of the input in bytes.
    pub source_len: usize,
    /// Which path produced `bytes`.
    pub method: Method,
}

/// Runs the whole pipeline on an in-memory file.
///
/// Output rules: opaque → JPEG at `jpeg_quality`; real transparency → PNG (lossless).
/// When the image needed neither resizing nor rotation, the metadata-stripped original is
/// a candidate too, and the smaller of the two wins, so the output is never bigger than the
/// input. When it needed rotation the re-encode is used even in the (unlikely: re-encoding
/// at q80 is almost always smaller) case that it is bigger, because the stripped original
/// would lose the orientation tag and show sideways.
pub fn optimize(input: &[u8], purpose: MediaPurpose, config: &PipelineConfig) -> Result<Optimized> {
    let probe = probe(input, config)?;
    let stripped = strip_metadata(probe.kind, input);
    if probe.kind == ContentKind::Jpeg && stripped.is_none() {
        // zune-jpeg grey-fills a truncated scan; a half-grey photo is not an image we keep.
        return Err(MediaError::Undecodable("truncated or malformed JPEG".into()));
    }
    let (image, orientation) = decode(input, &probe, config)?;
    let source_upright = (image.width(), image.height());
    let pixels = Pixels::from_image(image);
    let target = fit_within(pixels.width, pixels.height, purpose.max_side());
    let pixels = match target {
        Some((w, h)) => resize(&pixels, w, h)?,
        None => pixels,
    };
    let (bytes, kind) = match pixels.layout {
        Layout::Rgba => (encode_png(&pixels)?, ContentKind::Png),
        _ => (encode_jpeg(&pixels, config.jpeg_quality)?, ContentKind::Jpeg),
    };
    let mut out = Optimized {
        bytes,
        kind,
        width: pixels.width,
        height: pixels.height,
        source: probe,
        source_upright,
        source_len: input.len(),
        method: Method::Reencoded,
    };
    let original_shows_the_same = target.is_none() && orientation == Orientation::NoTransforms;
    if let Some(stripped) = stripped.filter(|s| original_shows_the_same && s.len() <= out.bytes.len()) {
        out.bytes = stripped;
        out.kind = probe.kind;
        out.method = Method::OriginalStripped;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_long_side_and_never_upscales() {
        assert_eq!(fit_within(4032, 2268, 1600), Some((1600, 900)));
        assert_eq!(fit_within(2268, 4032, 1600), Some((900, 1600)));
        assert_eq!(fit_within(1200, 750, 640), Some((640, 400)));
        assert_eq!(fit_within(1200, 750, 1600), None);
        assert_eq!(fit_within(1600, 1600, 1600), None);
        assert_eq!(fit_within(100_000, 10, 1600), Some((1600, 1)));
    }

    #[test]
    fn opaque_alpha_is_dropped_and_real_alpha_kept() {
        let opaque = image::RgbaImage::from_pixel(4, 4, image::Rgba([10, 20, 30, 255]));
        let p = Pixels::from_image(DynamicImage::ImageRgba8(opaque));
        assert_eq!(p.layout, Layout::Rgb);
        assert_eq!(p.data.len(), 4 * 4 * 3);
        let mut clear = image::RgbaImage::from_pixel(4, 4, image::Rgba([10, 20, 30, 255]));
        clear.put_pixel(0, 0, image::Rgba([0, 0, 0, 0]));
        assert_eq!(Pixels::from_image(DynamicImage::ImageRgba8(clear)).layout, Layout::Rgba);
        let grey = image::GrayAlphaImage::from_pixel(2, 2, image::LumaA([7, 255]));
        assert_eq!(Pixels::from_image(DynamicImage::ImageLumaA8(grey)).layout, Layout::Luma);
    }

    #[test]
    fn transparent_png_stays_png_and_bomb_header_is_refused() {
        let mut img = image::RgbaImage::from_pixel(2000, 1000, image::Rgba([200, 10, 10, 255]));
        for x in 0..2000 {
            img.put_pixel(x, 0, image::Rgba([0, 0, 0, 0]));
        }
        let mut png = Vec::new();
        image::codecs::png::PngEncoder::new(&mut png)
            .write_image(img.as_raw(), 2000, 1000, image::ExtendedColorType::Rgba8)
            .unwrap();
        let out = optimize(&png, MediaPurpose::Avatar, &PipelineConfig::default()).unwrap();
        assert_eq!((out.kind, out.width, out.height), (ContentKind::Png, 640, 320));

        let cfg = PipelineConfig { max_pixels: 1000, ..PipelineConfig::default() };
        assert!(matches!(
            optimize(&png, MediaPurpose::Avatar, &cfg),
            Err(MediaError::TooManyPixels { width: 2000, height: 1000, .. })
        ));
    }
}
