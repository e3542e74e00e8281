//! `parse_multipart_form` on arbitrary bodies, form-data and mixed: never panics; reading
//! stops at the end or at a typed error.
#![no_main]

use bytes::Bytes;
use http::Request;
use httpstack::server::parse_multipart_form;
use httpstack::Body;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    for content_type in [
        "multipart/form-data; boundary=XyZ",
        "multipart/mixed; boundary=\"a b\"",
    ] {
        let req = Request::post("/")
            .header("content-type", content_type)
            .body(Body::from(Bytes::copy_from_slice(data)))
            .expect("request");
        let Ok(mut form) = parse_multipart_form(req) else {
            continue;
        };
        runtime.block_on(async {
            for _ in 0..=data.len() {
                match form.next_part().await {
                    Ok(Some(mut part)) => while let Ok(Some(_)) = part.chunk().await {},
                    Ok(None) | Err(_) => break,
                }
            }
        });
    }
});
