//! Rasterises laid-out primitives into an RGB image and encodes it as PNG: lines by
//! stamping a square brush along them, discs and rectangles by coverage of pixel centres,
//! text from the built-in 5×7 font.

use image::{ImageFormat, Rgb, RgbImage};

use super::Color;
use super::font::{GLYPH_H, GLYPH_W, glyph, text_width};
use super::layout::{Anchor, Shape};

fn put(img: &mut RgbImage, x: i64, y: i64, c: Color) {
    if x >= 0 && y >= 0 && (x as u32) < img.width() && (y as u32) < img.height() {
        img.put_pixel(x as u32, y as u32, Rgb([c.0, c.1, c.2]));
    }
}

fn line(img: &mut RgbImage, from: (f64, f64), to: (f64, f64), c: Color, width: f64) {
    let (dx, dy) = (to.0 - from.0, to.1 - from.1);
    let steps = dx.abs().max(dy.abs()).ceil().max(1.0) as usize;
    let half = ((width - 1.0) / 2.0).max(0.0);
    let (lo, hi) = (-(half.floor() as i64), half.ceil() as i64);
    for k in 0..=steps {
        let t = k as f64 / steps as f64;
        let (x, y) = (
            (from.0 + t * dx).round() as i64,
            (from.1 + t * dy).round() as i64,
        );
        for oy in lo..=hi {
            for ox in lo..=hi {
                put(img, x + ox, y + oy, c);
            }
        }
    }
}

fn rect(img: &mut RgbImage, at: (f64, f64), size: (f64, f64), c: Color) {
    let (x0, y0) = (at.0.round() as i64, at.1.round() as i64);
    let (x1, y1) = (
        (at.0 + size.0).round() as i64,
        (at.1 + size.1).round() as i64,
    );
    for y in y0..y1.max(y0 + 1) {
        for x in x0..x1.max(x0 + 1) {
            put(img, x, y, c);
        }
    }
}

fn disc(img: &mut RgbImage, at: (f64, f64), r: f64, c: Color) {
    let (x0, x1) = ((at.0 - r).floor() as i64, (at.0 + r).ceil() as i64);
    let (y0, y1) = ((at.1 - r).floor() as i64, (at.1 + r).ceil() as i64);
    for y in y0..=y1 {
        for x in x0..=x1 {
            let (ddx, ddy) = (x as f64 - at.0, y as f64 - at.1);
            if ddx * ddx + ddy * ddy <= r * r + 0.25 {
                put(img, x, y, c);
            }
        }
    }
}

fn text(
    img: &mut RgbImage,
    at: (f64, f64),
    s: &str,
    c: Color,
    scale: usize,
    anchor: Anchor,
    vertical: bool,
) {
    let w = text_width(s, scale) as f64;
    let shift = match anchor {
        Anchor::Start => 0.0,
        Anchor::Middle => w / 2.0,
        Anchor::End => w,
    };
    let sc = scale as i64;
    for (i, ch) in s.chars().enumerate() {
        let cols = glyph(ch);
        for (col, bits) in cols.iter().enumerate() {
            for row in 0..GLYPH_H {
                if bits >> row & 1 == 0 {
                    continue;
                }
                // Offset along the text and across it, in pixels of the unscaled glyph.
                let along = (i * (GLYPH_W + 1) + col) as i64 * sc - shift.round() as i64;
                let across = row as i64 * sc;
                for a in 0..sc {
                    for b in 0..sc {
                        let (x, y) = if vertical {
                            (
                                at.0.round() as i64 + across + b,
                                at.1.round() as i64 - along - a,
                            )
                        } else {
                            (
                                at.0.round() as i64 + along + a,
                                at.1.round() as i64 + across + b,
                            )
                        };
                        put(img, x, y, c);
                    }
                }
            }
        }
    }
}

/// The primitives drawn into a `width × height` image.
pub fn render(width: usize, height: usize, shapes: &[Shape]) -> RgbImage {
    let mut img = RgbImage::from_pixel(width as u32, height as u32, Rgb([255, 255, 255]));
    for s in shapes {
        match s {
            Shape::Line {
                from,
                to,
                color,
                width,
            } => line(&mut img, *from, *to, *color, *width),
            Shape::Rect {
                at,
                size,
                fill,
                stroke,
            } => {
                rect(&mut img, *at, *size, *fill);
                if let Some(c) = stroke {
                    let (x0, y0, x1, y1) = (at.0, at.1, at.0 + size.0, at.1 + size.1);
                    for (a, b) in [
                        ((x0, y0), (x1, y0)),
                        ((x1, y0), (x1, y1)),
                        ((x1, y1), (x0, y1)),
                        ((x0, y1), (x0, y0)),
                    ] {
                        line(&mut img, a, b, *c, 1.0);
                    }
                }
            }
            Shape::Circle { at, r, color } => disc(&mut img, *at, *r, *color),
            Shape::Text {
                at,
                text: t,
                color,
                scale,
                anchor,
                vertical,
            } => text(&mut img, *at, t, *color, *scale, *anchor, *vertical),
        }
    }
    img
}

/// The primitives drawn and encoded as PNG bytes.
///
/// # Errors
/// The encoder's error, as text.
pub fn render_png(width: usize, height: usize, shapes: &[Shape]) -> Result<Vec<u8>, String> {
    let img = render(width, height, shapes);
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png)
        .map_err(|e| e.to_string())?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_text_pixels_from_the_font() {
        let img = render(
            20,
            12,
            &[Shape::Text {
                at: (1.0, 1.0),
                text: "1".into(),
                color: Color::BLACK,
                scale: 1,
                anchor: Anchor::Start,
                vertical: false,
            }],
        );
        // '1' = columns 0x00, 0x42, 0x7F, 0x40, 0x00: column 2 is all seven rows.
        for row in 0..7 {
            assert_eq!(img.get_pixel(3, 1 + row).0, [0, 0, 0]);
        }
        assert_eq!(img.get_pixel(1, 1).0, [255, 255, 255]);
    }

    #[test]
    fn line_and_disc_cover_their_pixels() {
        let c = Color(10, 20, 30);
        let img = render(
            10,
            10,
            &[
                Shape::Line {
                    from: (0.0, 5.0),
                    to: (9.0, 5.0),
                    color: c,
                    width: 1.0,
                },
                Shape::Circle {
                    at: (5.0, 2.0),
                    r: 1.0,
                    color: c,
                },
            ],
        );
        assert!((0..10).all(|x| img.get_pixel(x, 5).0 == [10, 20, 30]));
        assert_eq!(img.get_pixel(5, 1).0, [10, 20, 30]);
        assert_eq!(img.get_pixel(5, 8).0, [255, 255, 255]);
    }
}
