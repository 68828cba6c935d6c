//! skimage's `rgb2hsv` and `hsv2rgb`, per pixel, on values in `[0, 1]`.

/// skimage `rgb2hsv`: `v = max`, `s = (max - min) / v` (0 where `v = 0`), hue from the channel
/// that holds the max (blue over green over red on ties, as skimage's successive assignments
/// leave it), `h = (h / 6) mod 1`, 0 where `max = min`.
pub fn rgb_to_hsv(rgb: [f64; 3]) -> [f64; 3] {
    let [r, g, b] = rgb;
    let v = r.max(g).max(b);
    let delta = v - r.min(g).min(b);
    let s = if v == 0.0 { 0.0 } else { delta / v };
    let mut h = 0.0;
    if delta != 0.0 {
        if r == v {
            h = (g - b) / delta;
        }
        if g == v {
            h = 2.0 + (b - r) / delta;
        }
        if b == v {
            h = 4.0 + (r - g) / delta;
        }
        h = (h / 6.0).rem_euclid(1.0);
    }
    [h, s, v]
}

/// skimage `hsv2rgb`: `hi = floor(6h) mod 6`, `f = 6h - floor(6h)`, the six-sector choice of
/// `(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)`.
pub fn hsv_to_rgb(hsv: [f64; 3]) -> [f64; 3] {
    let [h, s, v] = hsv;
    let hi_f = (h * 6.0).floor();
    let f = h * 6.0 - hi_f;
    let p = v * (1.0 - s);
    let q = v * (1.0 - f * s);
    let t = v * (1.0 - (1.0 - f) * s);
    match (hi_f as i64).rem_euclid(6) {
        0 => [v, t, p],
        1 => [q, v, p],
        2 => [p, v, t],
        3 => [p, q, v],
        4 => [t, p, v],
        _ => [v, p, q],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_known_values() {
        assert_eq!(rgb_to_hsv([1.0, 0.0, 0.0]), [0.0, 1.0, 1.0]);
        let hsv = rgb_to_hsv([0.0, 0.0, 1.0]);
        assert!((hsv[0] - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(rgb_to_hsv([0.5, 0.5, 0.5]), [0.0, 0.0, 0.5]);
        for rgb in [
            [0.2, 0.7, 0.1],
            [0.9, 0.3, 0.6],
            [0.1, 0.2, 0.95],
            [0.4, 0.4, 0.1],
        ] {
            let back = hsv_to_rgb(rgb_to_hsv(rgb));
            for c in 0..3 {
                assert!((back[c] - rgb[c]).abs() < 1e-12, "{rgb:?} -> {back:?}");
            }
        }
    }
}
