//! Small helpers to set attributes on minidom elements by string name (minidom 0.19 takes
//! checked XML names; ours are all literals, and a bad one is skipped rather than panicking).

use minidom::{Element, ElementBuilder};
use rxml::{Namespace, NcName};

/// Sets attributes by name on a builder.
pub(crate) trait Attr {
    /// Adds attribute `name` = `value`.
    fn a(self, name: &str, value: impl Into<String>) -> Self;
}

impl Attr for ElementBuilder {
    fn a(self, name: &str, value: impl Into<String>) -> Self {
        match NcName::try_from(name) {
            Ok(n) => self.attr(n, value.into()),
            Err(_) => self,
        }
    }
}

/// Sets (or replaces) attribute `name` on an element.
pub(crate) fn set(el: &mut Element, name: &str, value: impl Into<String>) {
    if let Ok(n) = NcName::try_from(name) {
        el.set_attr(Namespace::NONE, n, value.into());
    }
}
