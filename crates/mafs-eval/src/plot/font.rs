//! The embedded font: DejaVu Sans (`assets/DejaVuSans.ttf`, Bitstream Vera licence with
//! public-domain DejaVu changes, `assets/DejaVuSans-LICENSE.txt`), registered with plotters'
//! `ab_glyph` text renderer as the `sans-serif` family, so no system font is looked up and a
//! PNG renders the same on every machine. SVG files name the family `sans-serif`; a viewer
//! sets their text in its own sans-serif font with the layout computed from DejaVu's metrics.

use std::sync::Once;

use plotters::style::{FontStyle, register_font};

/// The font file's bytes.
pub static DEJAVU_SANS: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

/// Registers the embedded font for every style plotters may ask for (idempotent).
pub fn register() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for style in [
            FontStyle::Normal,
            FontStyle::Bold,
            FontStyle::Italic,
            FontStyle::Oblique,
        ] {
            // The font is a valid TrueType file shipped with the crate; a failure is a bug.
            if register_font("sans-serif", style, DEJAVU_SANS).is_err() {
                panic!("the embedded DejaVu Sans font does not parse");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_embedded_font_registers() {
        super::register();
        super::register();
    }
}
