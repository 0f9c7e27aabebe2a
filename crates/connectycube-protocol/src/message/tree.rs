//! Building the everyday outbound elements directly as `minidom` trees.
//!
//! Going through xso's derived `From<T> for Element` turns a value into XML events and the
//! events back into a tree, and `xmpp_parsers::message::Message` then replays every payload
//! tree once more: six times the cost of serializing the result (docs/PERFORMANCE.md). The
//! builders here make the same tree in one step; tests compare them with the xso-built ones.

use minidom::{Element, IntoAttributeValue};
use xso::exports::rxml::{Namespace, NcName};

/// Adds attribute `name` to a new element when `value` is given.
///
/// `name` is always a literal XML name from this crate (the tests build every one), so the
/// conversion cannot fail; were it to, the attribute would be missing and the tests fail.
/// Inserting into the map directly skips `Element::set_attr`'s lookup for an old value, which
/// a new element does not have.
pub(crate) fn set_attr(e: &mut Element, name: &'static str, value: impl IntoAttributeValue) {
    if let (Ok(name), Some(value)) = (NcName::try_from(name), value.into_attribute_value()) {
        e.attrs_mut().insert(Namespace::NONE, name, value);
    }
}

/// `<name xmlns=ns>text</name>`, with the text node xso writes even when it is empty.
pub(crate) fn leaf(name: &str, ns: &str, text: String) -> Element {
    let mut e = Element::bare(name, ns);
    e.append_text_node(text);
    e
}
