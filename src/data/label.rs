//! Study labels held together: a million labels are a few buffers, not a
//! million allocations, and a label is shared, not copied, by the table and
//! the studies computed from it.

use std::fmt;
use std::sync::Arc;

/// A study's label: text in a buffer shared with the labels read with it.
/// It reads as a `&str` (it dereferences to one) and compares, hashes,
/// prints and serialises as its text.
///
/// ```
/// use cochran::data::Label;
/// let label = Label::from("Aronson 1948");
/// assert_eq!(label, "Aronson 1948");
/// assert!(label.starts_with("Aronson"));
/// assert_eq!(format!("{label}"), "Aronson 1948");
/// ```
#[derive(Clone)]
pub struct Label {
    buffer: Arc<Buffer>,
    index: usize,
}

/// Labels one after another, each ending where `ends` says.
#[derive(Default)]
struct Buffer {
    text: String,
    ends: Vec<usize>,
}

impl Label {
    /// The label's text.
    pub fn as_str(&self) -> &str {
        let i = self.index;
        let start = if i == 0 { 0 } else { self.buffer.ends[i - 1] };
        &self.buffer.text[start..self.buffer.ends[i]]
    }
}

/// Labels written one after another, then handed out as [`Label`]s that
/// share the buffer.
#[derive(Default)]
pub(crate) struct LabelWriter {
    buffer: Buffer,
}

impl LabelWriter {
    /// Adds a label.
    pub(crate) fn push(&mut self, label: &str) {
        self.buffer.text.push_str(label);
        self.buffer.ends.push(self.buffer.text.len());
    }

    /// Makes room for `labels` more labels.
    pub(crate) fn reserve(&mut self, labels: usize) {
        self.buffer.ends.reserve(labels);
    }

    /// The number of labels written.
    pub(crate) fn len(&self) -> usize {
        self.buffer.ends.len()
    }

    /// The labels written, in order.
    /// The labels written, in order.
    pub(crate) fn finish(self) -> Vec<Label> {
        let buffer = Arc::new(self.buffer);
        (0..buffer.ends.len())
            .map(|index| Label {
                buffer: buffer.clone(),
                index,
            })
            .collect()
    }
}

impl From<&str> for Label {
    fn from(text: &str) -> Self {
        Label {
            buffer: Arc::new(Buffer {
                text: text.to_string(),
                ends: vec![text.len()],
            }),
            index: 0,
        }
    }
}

impl From<String> for Label {
    fn from(text: String) -> Self {
        Label::from(text.as_str())
    }
}

impl Default for Label {
    fn default() -> Self {
        Label::from("")
    }
}

impl std::ops::Deref for Label {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Label {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl std::borrow::Borrow<str> for Label {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl fmt::Debug for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq for Label {
    fn eq(&self, other: &Label) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Label {}

impl PartialEq<str> for Label {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Label {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl std::hash::Hash for Label {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl PartialOrd for Label {
    fn partial_cmp(&self, other: &Label) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Label {
    fn cmp(&self, other: &Label) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl serde::Serialize for Label {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_written_together_read_back_apart() {
        let mut writer = LabelWriter::default();
        for text in ["A", "", "Müller 2001", "B"] {
            writer.push(text);
        }
        let labels = writer.finish();
        assert_eq!(labels, ["A", "", "Müller 2001", "B"]);
        assert_eq!(std::mem::size_of::<Label>(), 16);
    }
}
