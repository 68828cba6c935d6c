//! Writes laid-out primitives as an SVG document.

use super::layout::{Anchor, Shape};

/// Escapes text for XML.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// An SVG document of `width × height` pixels drawing `shapes` in order.
pub fn render(width: usize, height: usize, shapes: &[Shape]) -> String {
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\">\n"
    );
    for shape in shapes {
        match shape {
            Shape::Line {
                from,
                to,
                color,
                width,
            } => s.push_str(&format!(
                "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{}\" stroke-width=\"{width}\"/>\n",
                from.0,
                from.1,
                to.0,
                to.1,
                color.hex()
            )),
            Shape::Rect {
                at,
                size,
                fill,
                stroke,
            } => s.push_str(&format!(
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\"{}/>\n",
                at.0,
                at.1,
                size.0,
                size.1,
                fill.hex(),
                stroke.map_or(String::new(), |c| format!(" stroke=\"{}\"", c.hex()))
            )),
            Shape::Circle { at, r, color } => s.push_str(&format!(
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"{r}\" fill=\"{}\"/>\n",
                at.0,
                at.1,
                color.hex()
            )),
            Shape::Text {
                at,
                text,
                color,
                scale,
                anchor,
                vertical,
            } => {
                let size = 10 * scale;
                let a = match anchor {
                    Anchor::Start => "start",
                    Anchor::Middle => "middle",
                    Anchor::End => "end",
                };
                if *vertical {
                    s.push_str(&format!(
                        "<text x=\"{0:.1}\" y=\"{1:.1}\" font-size=\"{size}\" text-anchor=\"{a}\" fill=\"{2}\" transform=\"rotate(-90 {0:.1} {1:.1})\">{3}</text>\n",
                        at.0 + 8.0 * *scale as f64,
                        at.1,
                        color.hex(),
                        escape(text)
                    ));
                } else {
                    s.push_str(&format!(
                        "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"{size}\" text-anchor=\"{a}\" fill=\"{}\">{}</text>\n",
                        at.0,
                        at.1 + 8.0 * *scale as f64,
                        color.hex(),
                        escape(text)
                    ));
                }
            }
        }
    }
    s.push_str("</svg>\n");
    s
}
