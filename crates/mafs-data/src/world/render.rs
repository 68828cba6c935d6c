//! Rasterises a [`Scene`] into an RGB image: the background row by row, then each object over
//! its bounding box only, with an inside test per pixel centre and no allocation per pixel.

use std::sync::OnceLock;

use image::RgbImage;
use mafs_core::seed::splitmix64;

use super::palette::{Shape, Texture};
use super::scene::{Background, Object, Scene};

/// Vertices of the unit five-pointed star (outer radius 1, inner 0.45, one point up).
fn star_vertices() -> &'static [(f32, f32); 10] {
    static STAR: OnceLock<[(f32, f32); 10]> = OnceLock::new();
    STAR.get_or_init(|| {
        let mut v = [(0.0, 0.0); 10];
        for (k, p) in v.iter_mut().enumerate() {
            let rad = if k % 2 == 0 { 1.0f32 } else { 0.45 };
            let a = (-90.0f32 + 36.0 * k as f32).to_radians();
            *p = (rad * a.cos(), rad * a.sin());
        }
        v
    })
}

/// Even-odd point-in-polygon test.
#[inline]
fn in_polygon(u: f32, v: f32, poly: &[(f32, f32)]) -> bool {
    let mut inside = false;
    let mut j = poly.len() - 1;
    for i in 0..poly.len() {
        let (xi, yi) = poly[i];
        let (xj, yj) = poly[j];
        if (yi > v) != (yj > v) && u < (xj - xi) * (v - yi) / (yj - yi) + xi {
            inside = !inside;
        }
        j = i;
    }
    inside
}

/// Whether the point `(u, v)`, in units of the object's radius from its centre (v down), is
/// inside the unit shape.
#[inline]
pub fn inside(shape: Shape, u: f32, v: f32) -> bool {
    match shape {
        Shape::Circle => u * u + v * v <= 1.0,
        Shape::Square => u.abs() <= 0.8 && v.abs() <= 0.8,
        Shape::Diamond => u.abs() + v.abs() <= 1.0,
        // Vertices (0, -1), (±0.866, 0.5).
        Shape::Triangle => v <= 0.5 && v >= -1.0 + 1.732 * u.abs(),
        // Flat-topped hexagon with vertices at angles 0, 60, ... degrees.
        Shape::Hexagon => v.abs() <= 0.866 && 0.866 * u.abs() + 0.5 * v.abs() <= 0.866,
        Shape::Cross => {
            let (a, b) = (u.abs(), v.abs());
            (a <= 0.3 && b <= 0.95) || (b <= 0.3 && a <= 0.95)
        }
        Shape::Star => {
            if u * u + v * v > 1.0 {
                false
            } else {
                in_polygon(u, v, star_vertices())
            }
        }
    }
}

fn fill_background(buf: &mut [u8], size: usize, bg: &Background) {
    let p = bg.period.max(2) as usize;
    let half = p / 2;
    let centre = size as f32 / 2.0;
    for y in 0..size {
        let row = &mut buf[y * size * 3..(y + 1) * size * 3];
        for x in 0..size {
            let second = match bg.texture {
                Texture::Plain | Texture::Noise => false,
                Texture::Stripes => (y / half.max(1)) % 2 == 1,
                Texture::Checks => ((x / p) + (y / p)) % 2 == 1,
                Texture::Dots => {
                    let (dx, dy) = ((x % p) as i32 - half as i32, (y % p) as i32 - half as i32);
                    let rad = (p as i32 / 4).max(1);
                    dx * dx + dy * dy <= rad * rad
                }
                Texture::Diagonal => ((x + y) / half.max(1)) % 2 == 1,
                Texture::Grid => x % p == 0 || y % p == 0,
                Texture::Rings => {
                    let d = ((x as f32 - centre).powi(2) + (y as f32 - centre).powi(2)).sqrt();
                    (d as usize / half.max(1)) % 2 == 1
                }
            };
            let mut c = if second { bg.tone2 } else { bg.tone };
            if bg.texture == Texture::Noise {
                let h = splitmix64(bg.noise_seed ^ ((y as u64) << 32 | x as u64));
                let n = (h & 0x3F) as i16 - 32;
                c = c.map(|v| (v as i16 + n).clamp(0, 255) as u8);
            }
            row[x * 3..x * 3 + 3].copy_from_slice(&c);
        }
    }
}

fn draw_object(buf: &mut [u8], size: usize, o: &Object) {
    let x0 = ((o.cx - o.r).floor().max(0.0)) as usize;
    let x1 = ((o.cx + o.r).ceil() as usize).min(size);
    let y0 = ((o.cy - o.r).floor().max(0.0)) as usize;
    let y1 = ((o.cy + o.r).ceil() as usize).min(size);
    let inv = 1.0 / o.r;
    // Outline width: 30% of the radius, at least 1.5 px.
    let t = (0.3 * o.r).max(1.5);
    let inner_scale = o.r / (o.r - t).max(0.5);
    for y in y0..y1 {
        let v = (y as f32 + 0.5 - o.cy) * inv;
        let row = &mut buf[y * size * 3..(y + 1) * size * 3];
        for x in x0..x1 {
            let u = (x as f32 + 0.5 - o.cx) * inv;
            if !inside(o.shape, u, v) {
                continue;
            }
            if !o.filled && inside(o.shape, u * inner_scale, v * inner_scale) {
                continue;
            }
            row[x * 3..x * 3 + 3].copy_from_slice(&o.rgb);
        }
    }
}

/// Renders a scene into a new `size x size` RGB image.
pub fn render(scene: &Scene) -> RgbImage {
    let size = scene.size as usize;
    let mut buf = vec![0u8; size * size * 3];
    fill_background(&mut buf, size, &scene.background);
    for o in &scene.objects {
        draw_object(&mut buf, size, o);
    }
    RgbImage::from_raw(scene.size, scene.size, buf).expect("buffer has size*size*3 bytes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::palette::{Colour, PaletteVariant, Size};

    fn scene_with(shape: Shape, filled: bool) -> Scene {
        Scene {
            size: 32,
            objects: vec![Object {
                shape,
                colour: Colour::Red,
                size: Size::Large,
                filled,
                cx: 16.0,
                cy: 16.0,
                r: 10.0,
                rgb: [250, 0, 0],
            }],
            background: Background {
                texture: Texture::Plain,
                tone: [100, 100, 100],
                tone2: [130, 130, 130],
                period: 6,
                noise_seed: 0,
            },
            palette: PaletteVariant::Standard,
        }
    }

    fn red_pixels(img: &RgbImage) -> usize {
        img.pixels().filter(|p| p.0 == [250, 0, 0]).count()
    }

    #[test]
    fn every_shape_covers_a_sensible_area_and_outlines_are_hollow() {
        for shape in Shape::ALL {
            let filled = render(&scene_with(shape, true));
            let n = red_pixels(&filled);
            // Between the cross (~40 px) and the circle (~314 px) for r = 10.
            assert!((40..=330).contains(&n), "{shape:?}: {n} px");
            let outlined = render(&scene_with(shape, false));
            let m = red_pixels(&outlined);
            assert!(m > 0 && m < n, "{shape:?}: outline {m} vs filled {n}");
        }
        let circle = render(&scene_with(Shape::Circle, true));
        assert_eq!(circle.get_pixel(16, 16).0, [250, 0, 0]);
        assert_eq!(circle.get_pixel(0, 0).0, [100, 100, 100]);
        let ring = render(&scene_with(Shape::Circle, false));
        assert_eq!(ring.get_pixel(16, 16).0, [100, 100, 100]);
    }

    #[test]
    fn textures_differ() {
        let mut seen = std::collections::HashSet::new();
        for texture in Texture::SEEN.iter().chain(Texture::UNSEEN.iter()) {
            let mut sc = scene_with(Shape::Circle, true);
            sc.objects.clear();
            sc.background.texture = *texture;
            sc.background.noise_seed = 3;
            let img = render(&sc);
            assert!(
                seen.insert(img.into_raw()),
                "{texture:?} renders like another"
            );
        }
    }
}
