//! Export for slides: the sequence diagram or the time–sequence graph as a standalone SVG
//! file, or as a PNG drawn from it at twice its size.
//!
//! The SVG is the one on screen, so it shows the moment on screen (the diagram's "now" line,
//! the graph's cursor), with a caption that names the scenario and the moment. Each element
//! carries the styles the page computed for it, so that it looks the same in a slide program
//! as on screen (the page's rules are scoped to the page and would not match on their own),
//! and the file has a size in millimetres, so that it prints at the width of a page.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

/// The printed width of an exported figure.
const PRINT_WIDTH_MM: f64 = 170.0;
/// How many device pixels a PNG has per unit of the SVG.
const PNG_SCALE: f64 = 2.0;

/// The SVG under `selector` as a standalone file with `caption` under the figure, or `None`
/// when there is no such figure on the page.
pub fn standalone_svg(selector: &str, caption: &str) -> Option<String> {
    let document = gloo::utils::document();
    let svg = document.query_selector(selector).ok()??;
    let copy: web_sys::Element = svg.clone_node_with_deep(true).ok()?.dyn_into().ok()?;
    let (width, height) = view_size(&copy)?;
    let caption_height = 22.0;
    let total = height + caption_height;
    inline_styles(&svg, &copy);
    copy.set_attribute("xmlns", "http://www.w3.org/2000/svg").ok()?;
    copy.set_attribute("viewBox", &format!("0 0 {width} {total}")).ok()?;
    copy.set_attribute("width", &format!("{PRINT_WIDTH_MM}mm")).ok()?;
    copy.set_attribute("height", &format!("{:.1}mm", PRINT_WIDTH_MM * total / width)).ok()?;
    // The panel's background, since a slide's may differ.
    let panel =
        svg.parent_element().map_or_else(|| "#ffffff".to_string(), |parent| computed(&parent, "background-color"));
    let background = document.create_element_ns(Some("http://www.w3.org/2000/svg"), "rect").ok()?;
    for (name, value) in [("x", "0"), ("y", "0"), ("width", "100%"), ("height", "100%"), ("fill", panel.as_str())] {
        background.set_attribute(name, value).ok()?;
    }
    copy.prepend_with_node_1(&background).ok()?;
    let ink = computed(&svg, "color");
    let text = document.create_element_ns(Some("http://www.w3.org/2000/svg"), "text").ok()?;
    for (name, value) in [
        ("x", "8".to_string()),
        ("y", format!("{}", height + 15.0)),
        ("font-size", "11".to_string()),
        ("font-family", "sans-serif".to_string()),
        ("fill", ink),
        ("data-testid", "export-caption".to_string()),
    ] {
        text.set_attribute(name, &value).ok()?;
    }
    // Text content, never markup: the caption quotes the scenario's title.
    text.set_text_content(Some(caption));
    copy.append_child(&text).ok()?;
    // XML, not HTML: the style sheet's text is escaped as XML wants.
    let xml = web_sys::XmlSerializer::new().ok()?.serialize_to_string(&copy).ok()?;
    Some(format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{xml}"))
}

/// The width and height of an SVG's view box.
fn view_size(svg: &web_sys::Element) -> Option<(f64, f64)> {
    let view_box = svg.get_attribute("viewBox")?;
    let numbers: Vec<f64> = view_box.split_whitespace().filter_map(|part| part.parse().ok()).collect();
    match numbers[..] {
        [_, _, width, height] if width > 0.0 && height > 0.0 => Some((width, height)),
        _ => None,
    }
}

/// The properties that make an SVG element look as it does.
const DRAWN: [&str; 12] = [
    "fill",
    "fill-opacity",
    "stroke",
    "stroke-width",
    "stroke-dasharray",
    "stroke-opacity",
    "opacity",
    "font-family",
    "font-size",
    "font-weight",
    "text-decoration",
    "visibility",
];

/// Writes the styles the page computed for each element of `original` onto the same element
/// of `copy` (a deep clone of it), as SVG presentation attributes: a `style` attribute would be
/// refused by the page's Content-Security-Policy, which forbids inline styles.
fn inline_styles(original: &web_sys::Element, copy: &web_sys::Element) {
    for name in DRAWN {
        let value = computed(original, name);
        if !value.is_empty() {
            let _ = copy.set_attribute(name, &value);
        }
    }
    let (mut from, mut to) = (original.first_element_child(), copy.first_element_child());
    while let (Some(original), Some(copy)) = (from, to) {
        inline_styles(&original, &copy);
        (from, to) = (original.next_element_sibling(), copy.next_element_sibling());
    }
}

/// One property of the style the page computed for `element`.
fn computed(element: &web_sys::Element, name: &str) -> String {
    gloo::utils::window()
        .get_computed_style(element)
        .ok()
        .flatten()
        .and_then(|style| style.get_property_value(name).ok())
        .unwrap_or_default()
}

/// Offers `svg` for download as `name`.svg.
pub fn download_svg(name: &str, svg: &str) -> Result<(), JsValue> {
    let blob = svg_blob(svg)?;
    offer(&blob, &format!("{name}.svg"))
}

/// Draws `svg` on a canvas at twice its size and offers it for download as `name`.png; the
/// browser answers later, so failure is told through `failed`.
pub fn download_png(name: &str, svg: &str, failed: impl Fn() + 'static) -> Result<(), JsValue> {
    let url = web_sys::Url::create_object_url_with_blob(&svg_blob(svg)?)?;
    let image = web_sys::HtmlImageElement::new()?;
    let file = format!("{name}.png");
    let loaded = {
        let (image, url) = (image.clone(), url.clone());
        Closure::once(move || {
            let drawn = (|| -> Result<(), JsValue> {
                let document = gloo::utils::document();
                let canvas: web_sys::HtmlCanvasElement = document.create_element("canvas")?.dyn_into()?;
                let (width, height) = (f64::from(image.natural_width()), f64::from(image.natural_height()));
                canvas.set_width((width * PNG_SCALE) as u32);
                canvas.set_height((height * PNG_SCALE) as u32);
                let context: web_sys::CanvasRenderingContext2d =
                    canvas.get_context("2d")?.ok_or("no 2d context")?.dyn_into()?;
                context.draw_image_with_html_image_element_and_dw_and_dh(
                    &image,
                    0.0,
                    0.0,
                    width * PNG_SCALE,
                    height * PNG_SCALE,
                )?;
                let file = file.clone();
                let done = Closure::once(move |blob: Option<web_sys::Blob>| {
                    if let Some(blob) = blob {
                        let _ = offer(&blob, &file);
                    }
                });
                canvas.to_blob(done.as_ref().unchecked_ref())?;
                done.forget();
                Ok(())
            })();
            let _ = web_sys::Url::revoke_object_url(&url);
            drop(drawn);
        })
    };
    image.set_onload(Some(loaded.as_ref().unchecked_ref()));
    loaded.forget();
    let on_error = Closure::once(failed);
    image.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    on_error.forget();
    image.set_src(&url);
    Ok(())
}

fn svg_blob(svg: &str) -> Result<web_sys::Blob, JsValue> {
    text_blob(svg, "image/svg+xml")
}

fn text_blob(text: &str, kind: &str) -> Result<web_sys::Blob, JsValue> {
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(kind);
    web_sys::Blob::new_with_str_sequence_and_options(&js_sys::Array::of1(&JsValue::from_str(text)), &options)
}

/// Offers JSON `text` (a scenario) as a file called `name`.
pub fn offer_text(name: &str, text: &str) -> Result<(), JsValue> {
    offer(&text_blob(text, "application/json")?, name)
}

/// Offers `blob` as a file called `name`.
fn offer(blob: &web_sys::Blob, name: &str) -> Result<(), JsValue> {
    let url = web_sys::Url::create_object_url_with_blob(blob)?;
    let link: web_sys::HtmlElement = gloo::utils::document().create_element("a")?.dyn_into()?;
    link.set_attribute("href", &url)?;
    link.set_attribute("download", name)?;
    link.click();
    // The browser has started the download: the URL may go once this task is done.
    let revoke = Closure::once(move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    let _ = gloo::utils::window().set_timeout_with_callback(revoke.as_ref().unchecked_ref());
    revoke.forget();
    Ok(())
}
