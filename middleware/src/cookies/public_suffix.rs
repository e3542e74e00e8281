//! The public suffixes a [`CookieJar`](super::CookieJar) refuses as a cookie's `Domain`.
//!
//! RFC 6265 §5.3 step 5: a cookie whose `Domain` is a public suffix (`com`, `co.uk`,
//! `github.io`) would reach every site under it, so it is refused (or kept host-only when
//! the suffix is the request's own host). `cookie_store` applies the rule with a
//! `publicsuffix::List`, which must be given the list's text; neither crate embeds it.
//!
//! httpstack bundles the subset below: the generic and most-used country TLDs, their
//! common second-level registries, and the most-used private suffixes (hosting platforms
//! where sites of different owners share a parent domain). A suffix not listed is treated
//! as an ordinary domain. An application that needs the whole list loads Mozilla's
//! `public_suffix_list.dat` itself and passes it to
//! [`CookieJar::with_public_suffix_list`](super::CookieJar::with_public_suffix_list).

use std::sync::OnceLock;

/// The bundled subset, in the list's own format (see the module docs).
pub const BUNDLED_PUBLIC_SUFFIXES: &str = "\
// ===BEGIN ICANN DOMAINS===
com
net
org
edu
gov
mil
int
info
biz
name
pro
io
co
me
tv
cc
ai
app
dev
page
xyz
online
site
tech
store
cloud
eu
us
ca
mx
de
fr
it
es
nl
be
ch
at
se
no
dk
fi
pl
cz
pt
ie
ru
ua
tr
gr
il
in
co.in
cn
com.cn
net.cn
org.cn
hk
com.hk
tw
com.tw
sg
com.sg
kr
co.kr
uk
co.uk
org.uk
ac.uk
gov.uk
me.uk
ltd.uk
plc.uk
jp
co.jp
ne.jp
or.jp
ac.jp
go.jp
au
com.au
net.au
org.au
edu.au
gov.au
nz
co.nz
org.nz
br
com.br
net.br
org.br
ar
com.ar
za
co.za
// ===END ICANN DOMAINS===
// ===BEGIN PRIVATE DOMAINS===
github.io
githubusercontent.com
gitlab.io
herokuapp.com
blogspot.com
appspot.com
firebaseapp.com
web.app
netlify.app
vercel.app
pages.dev
workers.dev
azurewebsites.net
cloudfront.net
s3.amazonaws.com
fly.dev
onrender.com
// ===END PRIVATE DOMAINS===
";

/// The bundled subset, parsed once.
pub(crate) fn bundled() -> &'static publicsuffix::List {
    static LIST: OnceLock<publicsuffix::List> = OnceLock::new();
    LIST.get_or_init(|| {
        // The text is a constant checked by a test, so parsing cannot fail at run time;
        // an empty list (no refusals) is the harmless fallback all the same.
        BUNDLED_PUBLIC_SUFFIXES.parse().unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use publicsuffix::Psl;

    #[test]
    fn the_bundled_list_parses_and_knows_multi_label_suffixes() {
        let list: publicsuffix::List = super::BUNDLED_PUBLIC_SUFFIXES.parse().unwrap();
        for (domain, suffix) in [
            ("example.com", "com"),
            ("a.b.co.uk", "co.uk"),
            ("me.github.io", "github.io"),
            ("x.com.au", "com.au"),
        ] {
            let got = list.suffix(domain.as_bytes()).unwrap();
            assert!(got.is_known(), "{domain}");
            assert_eq!(got.as_bytes(), suffix.as_bytes(), "{domain}");
        }
        assert!(!list.suffix(b"example.unknowntld").unwrap().is_known());
    }
}
