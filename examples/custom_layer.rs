//! HTTP.jl's auth-layer example: a custom layer that reads its own per-request option.
//!
//! In HTTP.jl the layer takes an `authcreds=` keyword; here the option is a typed request
//! extension, set with `RequestBuilder::extension`. The layer is pushed onto a client
//! (`push_layer`, HTTP.jl `pushlayer!`) and onto an API client made with `client!`
//! (HTTP.jl `@client`). Runs against a local server and exits.
//!
//! ```text
//! cargo run --example custom_layer
//! ```

use http::{Request, Response};
use httpstack::client::ClientService;
use httpstack::server::{handler_fn, serve};
use httpstack::{Body, Client};
use tower::ServiceExt;

/// The per-request option the layer reads (HTTP.jl: the `authcreds` keyword).
#[derive(Clone)]
struct AuthCreds {
    token: String,
}

/// Adds `Authorization: Bearer <token>` when the request carries [`AuthCreds`].
fn auth_layer() -> impl tower::Layer<ClientService, Service = ClientService> + Clone + Send + Sync {
    tower::layer::layer_fn(|inner: ClientService| {
        ClientService::new(tower::service_fn(move |mut req: Request<Body>| {
            if let Some(creds) = req.extensions().get::<AuthCreds>() {
                match format!("Bearer {}", creds.token).parse() {
                    Ok(value) => {
                        req.headers_mut().insert(http::header::AUTHORIZATION, value);
                    }
                    Err(_) => eprintln!("token is not a valid header value; sent without it"),
                }
            }
            inner.clone().oneshot(req)
        }))
    })
}

httpstack::client! {
    /// A client for one API: its own base URL, headers and the auth layer.
    struct Api {
        base_url: "http://127.0.0.1:8080/api",
        headers: [("accept", "text/plain")],
        layers: [auth_layer()],
    }
}

impl Api {
    /// An endpoint of the API as a method of its own.
    fn whoami(&self) -> httpstack::RequestBuilder {
        self.get("/whoami")
    }
}

#[tokio::main]
async fn main() -> Result<(), httpstack::Error> {
    // A server that says who it thinks you are.
    let server = serve(
        "127.0.0.1:0",
        handler_fn(|req: Request<httpstack::Body>| async move {
            let who = match req.headers().get("authorization") {
                Some(value) => format!("authorized as {value:?}"),
                None => "anonymous".to_owned(),
            };
            Response::new(Body::from(who))
        }),
    )
    .await?;
    let url = format!("http://127.0.0.1:{}/", server.port());

    // HTTP.jl `pushlayer!` on a client of our own.
    let client = Client::builder().push_layer(auth_layer()).build()?;
    let creds = AuthCreds {
        token: "s3cr3t".into(),
    };
    let resp = client.get(&url).extension(creds.clone()).await?;
    println!("with creds:    {}", resp.text());
    let resp = client.get(&url).await?;
    println!("without creds: {}", resp.text());

    // HTTP.jl `@client`: the API's base URL (here known only at run time), headers and
    // layers, in one value that clones share (one pool, one cookie jar).
    let api = Api::builder()
        .base_url(format!("http://127.0.0.1:{}/api", server.port()))
        .build()?;
    let resp = api
        .whoami()
        .extension(AuthCreds {
            token: "api".into(),
        })
        .await?;
    println!("api.whoami():  {}", resp.text());
    // A token from configuration, for every request of this instance.
    let api = Api::builder()
        .base_url(format!("http://127.0.0.1:{}/api", server.port()))
        .bearer_auth("from-config")
        .build()?;
    println!("bearer_auth:   {}", api.whoami().await?.text());

    server.close().await;
    Ok(())
}
