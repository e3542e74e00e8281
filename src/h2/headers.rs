//! [`Headers`]: an ordered list of header fields, pseudo-headers included, as HTTP2.jl's
//! `Headers(":method" => "GET", …)`.

use bytes::Bytes;

use super::hpack::Field;

/// An ordered list of name/value pairs as sent in one header block, pseudo-headers
/// (`:method`, `:status`, …) first. Names are lowercase in HTTP/2 (RFC 9113 §8.2.1);
/// this type does not change them, and the session refuses to receive a malformed list.
///
/// ```
/// use httpstack::h2::Headers;
///
/// let mut headers = Headers::from_iter([(":status", "200"), ("server", "httpstack")]);
/// headers.push("content-type", "text/plain");
/// assert_eq!(headers.get(":status"), Some("200"));
/// assert_eq!(headers.len(), 3);
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Headers {
    fields: Vec<Field>,
}

impl Headers {
    /// An empty list.
    pub fn new() -> Headers {
        Headers::default()
    }

    /// Appends a field.
    pub fn push(&mut self, name: impl AsRef<[u8]>, value: impl AsRef<[u8]>) {
        self.fields.push(Field::new(name, value));
    }

    /// Appends a field that is never to be indexed by HPACK (RFC 7541 §7.1.3).
    pub fn push_sensitive(&mut self, name: impl AsRef<[u8]>, value: impl AsRef<[u8]>) {
        self.fields.push(Field::sensitive(name, value));
    }

    /// The first value of `name` as text (`None` when absent or not UTF-8).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.get_bytes(name)
            .and_then(|v| std::str::from_utf8(v).ok())
    }

    /// The first value of `name` as bytes.
    pub fn get_bytes(&self, name: &str) -> Option<&[u8]> {
        self.fields
            .iter()
            .find(|f| f.name == name.as_bytes())
            .map(|f| &f.value[..])
    }

    /// Every value of `name`, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Bytes> + 'a {
        self.fields
            .iter()
            .filter(move |f| f.name == name.as_bytes())
            .map(|f| &f.value)
    }

    /// The fields, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Field> {
        self.fields.iter()
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The fields as a slice.
    pub fn as_slice(&self) -> &[Field] {
        &self.fields
    }

    /// The size RFC 9113 §6.5.2 counts for `SETTINGS_MAX_HEADER_LIST_SIZE`.
    pub fn list_size(&self) -> usize {
        self.fields.iter().map(Field::size).sum()
    }
}

impl From<Vec<Field>> for Headers {
    fn from(fields: Vec<Field>) -> Headers {
        Headers { fields }
    }
}

impl From<Headers> for Vec<Field> {
    fn from(headers: Headers) -> Vec<Field> {
        headers.fields
    }
}

impl<N: AsRef<[u8]>, V: AsRef<[u8]>> FromIterator<(N, V)> for Headers {
    fn from_iter<I: IntoIterator<Item = (N, V)>>(iter: I) -> Headers {
        Headers {
            fields: iter.into_iter().map(|(n, v)| Field::new(n, v)).collect(),
        }
    }
}

impl<'a> IntoIterator for &'a Headers {
    type Item = &'a Field;
    type IntoIter = std::slice::Iter<'a, Field>;
    fn into_iter(self) -> Self::IntoIter {
        self.fields.iter()
    }
}

impl IntoIterator for Headers {
    type Item = Field;
    type IntoIter = std::vec::IntoIter<Field>;
    fn into_iter(self) -> Self::IntoIter {
        self.fields.into_iter()
    }
}

impl std::fmt::Debug for Headers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(&self.fields).finish()
    }
}
