//! Router lookup on a 141-route GitHub-API-like set (static routes, variables, regex
//! variables, `*` and `**` wildcards), side by side in one run with raw matchit (the
//! structural match alone) and axum's router.
//!
//! - `lookup/*`: one pass over 141 request paths, one per route. `httpstack` is
//!   `Router::lookup` (normalization, matchit, candidate checks, regexes, method); `matchit`
//!   is `matchit::Router::at` on the same routes in matchit's syntax (regex variables as
//!   plain ones, `**` as `{*rest}`; routes matchit refuses as conflicts are left out and
//!   counted). `httpstack` does not split the path for the variables until they are
//!   read (unless a regex or a fallback needed it); `httpstack_with_params` reads them,
//!   as `matchit_with_params` reads the matched parameters, which `at` alone
//!   leaves undone and a router must do. The goal is httpstack within 1.5x raw matchit.
//! - `dispatch/*`: the same paths through each router as a tower `Service` (`oneshot`
//!   with a handler answering an empty 200), httpstack's `Router` against axum's.
//!
//! Run: `cargo bench --bench router` (criterion; `-- --measurement-time 3` to shorten).
//! Per-lookup time = reported time / 141 (criterion also prints it as throughput).

use std::hint::black_box;
use std::time::Duration;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use futures_util::FutureExt;
use http::{Method, Request, Response};
use http_body_util::Empty;
use httpstack::router::{Lookup, Router};
use httpstack::Body;
use tower::ServiceExt;

/// GitHub's REST API (141 routes), in HTTP.jl's pattern syntax.
const ROUTES: &[&str] = &[
    "/authorizations",
    "/authorizations/{id}",
    "/applications/{client_id}/tokens/{access_token}",
    "/events",
    "/repos/{owner}/{repo}/events",
    "/networks/{owner}/{repo}/events",
    "/orgs/{org}/events",
    "/users/{user}/received_events",
    "/users/{user}/received_events/public",
    "/users/{user}/events",
    "/users/{user}/events/public",
    "/users/{user}/events/orgs/{org}",
    "/feeds",
    "/notifications",
    "/repos/{owner}/{repo}/notifications",
    "/notifications/threads/{id}",
    "/notifications/threads/{id}/subscription",
    "/repos/{owner}/{repo}/stargazers",
    "/users/{user}/starred",
    "/user/starred",
    "/user/starred/{owner}/{repo}",
    "/repos/{owner}/{repo}/subscribers",
    "/users/{user}/subscriptions",
    "/user/subscriptions",
    "/repos/{owner}/{repo}/subscription",
    "/user/subscriptions/{owner}/{repo}",
    "/users/{user}/gists",
    "/gists",
    "/gists/public",
    "/gists/starred",
    "/gists/{id}",
    "/gists/{id}/star",
    "/gists/{id}/forks",
    "/gists/*/comments",
    "/repos/{owner}/{repo}/git/blobs/{sha}",
    "/repos/{owner}/{repo}/git/commits/{sha}",
    "/repos/{owner}/{repo}/git/refs",
    "/repos/{owner}/{repo}/git/refs/**",
    "/repos/{owner}/{repo}/git/tags/{sha}",
    "/repos/{owner}/{repo}/git/trees/{sha}",
    "/issues",
    "/user/issues",
    "/orgs/{org}/issues",
    "/repos/{owner}/{repo}/issues",
    "/repos/{owner}/{repo}/issues/{number:[0-9]+}",
    "/repos/{owner}/{repo}/assignees",
    "/repos/{owner}/{repo}/assignees/{assignee}",
    "/repos/{owner}/{repo}/issues/{number:[0-9]+}/comments",
    "/repos/{owner}/{repo}/issues/{number:[0-9]+}/events",
    "/repos/{owner}/{repo}/labels",
    "/repos/{owner}/{repo}/labels/{name}",
    "/repos/{owner}/{repo}/issues/{number:[0-9]+}/labels",
    "/repos/{owner}/{repo}/milestones/{number:[0-9]+}/labels",
    "/repos/{owner}/{repo}/milestones",
    "/repos/{owner}/{repo}/milestones/{number:[0-9]+}",
    "/emojis",
    "/gitignore/templates",
    "/gitignore/templates/{name}",
    "/markdown",
    "/markdown/raw",
    "/meta",
    "/rate_limit",
    "/users/{user}/orgs",
    "/user/orgs",
    "/orgs/{org}",
    "/orgs/{org}/members",
    "/orgs/{org}/members/{user}",
    "/orgs/{org}/public_members",
    "/orgs/{org}/public_members/{user}",
    "/orgs/{org}/teams",
    "/orgs/{org:[a-z0-9-]+}/hooks",
    "/teams/{id}",
    "/teams/{id}/members",
    "/teams/{id}/members/{user}",
    "/teams/{id}/repos",
    "/teams/{id}/repos/{owner}/{repo}",
    "/user/teams",
    "/repos/{owner}/{repo}/pulls",
    "/repos/{owner}/{repo}/pulls/{number:[0-9]+}",
    "/repos/{owner}/{repo}/pulls/{number:[0-9]+}/commits",
    "/repos/{owner}/{repo}/pulls/{number:[0-9]+}/files",
    "/repos/{owner}/{repo}/pulls/{number:[0-9]+}/merge",
    "/repos/{owner}/{repo}/pulls/{number:[0-9]+}/comments",
    "/user/repos",
    "/users/{user}/repos",
    "/orgs/{org}/repos",
    "/repositories",
    "/repos/{owner}/{repo}",
    "/repos/{owner}/{repo}/contributors",
    "/repos/{owner}/{repo}/languages",
    "/repos/{owner}/{repo}/teams",
    "/repos/{owner}/{repo}/tags",
    "/repos/{owner}/{repo}/branches",
    "/repos/{owner}/{repo}/branches/{branch}",
    "/repos/{owner}/{repo}/collaborators",
    "/repos/{owner}/{repo}/collaborators/{user}",
    "/repos/{owner}/{repo}/comments",
    "/repos/{owner}/{repo}/commits/{sha}/comments",
    "/repos/{owner}/{repo}/comments/{id}",
    "/repos/{owner}/{repo}/commits",
    "/repos/{owner}/{repo}/commits/{sha}",
    "/repos/{owner}/{repo}/readme",
    "/repos/{owner}/{repo}/contents/**",
    "/repos/{owner}/{repo}/keys",
    "/repos/{owner}/{repo}/keys/{id}",
    "/repos/{owner}/{repo}/downloads",
    "/repos/{owner}/{repo}/downloads/{id}",
    "/repos/{owner}/{repo}/forks",
    "/repos/{owner}/{repo}/hooks",
    "/repos/{owner}/{repo}/hooks/{id}",
    "/repos/{owner}/{repo}/releases",
    "/repos/{owner}/{repo}/releases/{id}",
    "/repos/{owner}/{repo}/releases/{id}/assets",
    "/repos/{owner}/{repo}/stats/contributors",
    "/repos/{owner}/{repo}/stats/commit_activity",
    "/repos/{owner}/{repo}/stats/code_frequency",
    "/repos/{owner}/{repo}/stats/participation",
    "/repos/{owner}/{repo}/stats/punch_card",
    "/repos/{owner}/{repo}/statuses/{ref}",
    "/search/repositories",
    "/search/code",
    "/search/issues",
    "/search/users",
    "/legacy/issues/search/{owner}/{repository}/{state}/{keyword}",
    "/legacy/repos/search/{keyword}",
    "/legacy/user/search/{keyword}",
    "/legacy/user/email/{email}",
    "/users/{user}",
    "/user",
    "/users",
    "/user/emails",
    "/users/{user}/followers",
    "/user/followers",
    "/users/{user}/following",
    "/user/following",
    "/user/following/{user}",
    "/users/{user}/following/{target_user}",
    "/users/{user}/keys",
    "/user/keys",
    "/user/keys/{id}",
    "/static/**",
];

/// A request path for `pattern`: numbers for regex variables, names for the others.
fn path_for(pattern: &str) -> String {
    let mut path = String::new();
    for segment in pattern.split('/').filter(|s| !s.is_empty()) {
        path.push('/');
        path.push_str(match segment {
            "*" => "anything",
            "**" => "a/b/c.txt",
            s if s.starts_with('{') && s.contains(':') => "1347",
            s if s.starts_with('{') => "octocat",
            s => s,
        });
    }
    path
}

/// The same route in matchit's (and axum's) syntax.
fn matchit_syntax(pattern: &str) -> String {
    let mut out = String::new();
    for segment in pattern.split('/').filter(|s| !s.is_empty()) {
        out.push('/');
        match segment {
            "*" => out.push_str("{star}"),
            "**" => out.push_str("{*rest}"),
            s if s.starts_with('{') => {
                let name = s[1..s.len() - 1].split(':').next().unwrap_or("x");
                out.push_str(&format!("{{{name}}}"));
            }
            s => out.push_str(s),
        }
    }
    out
}

type ReqBody = Empty<Bytes>;

fn benches(c: &mut Criterion) {
    let paths: Vec<String> = ROUTES.iter().map(|r| path_for(r)).collect();

    let mut ours = Router::<ReqBody>::new();
    for route in ROUTES {
        ours.register(Method::GET, route, |_req: Request<ReqBody>| async {
            Response::new(Body::empty())
        })
        .expect(route);
    }
    for (route, path) in ROUTES.iter().zip(&paths) {
        match ours.lookup(&Method::GET, path) {
            Lookup::Found(found) => assert_eq!(found.route(), *route, "{path}"),
            other => panic!("{path}: {other:?}"),
        }
    }

    let mut raw = matchit::Router::new();
    let mut accepted = Vec::new();
    for route in ROUTES {
        let syntax = matchit_syntax(route);
        if raw.insert(syntax.clone(), ()).is_ok() {
            accepted.push(syntax);
        }
    }
    let mut axum_app = axum::Router::new();
    for route in &accepted {
        axum_app = axum_app.route(route, axum::routing::get(|| async {}));
    }
    println!(
        "{} routes; matchit and axum accept {} of them (the rest conflict in matchit's syntax)",
        ROUTES.len(),
        accepted.len()
    );

    let n = paths.len() as u64;
    let mut group = c.benchmark_group("lookup");
    group.throughput(Throughput::Elements(n));
    group.bench_function("httpstack", |b| {
        b.iter(|| {
            for path in &paths {
                black_box(ours.lookup(&Method::GET, black_box(path)));
            }
        })
    });
    group.bench_function("httpstack_with_params", |b| {
        b.iter(|| {
            for path in &paths {
                if let Lookup::Found(found) = ours.lookup(&Method::GET, black_box(path)) {
                    for param in found.raw_params() {
                        black_box(param);
                    }
                }
            }
        })
    });
    group.bench_function("matchit", |b| {
        b.iter(|| {
            for path in &paths {
                let _ = black_box(raw.at(black_box(path)));
            }
        })
    });
    // matchit's lookup alone does not read the parameters; a router must.
    group.bench_function("matchit_with_params", |b| {
        b.iter(|| {
            for path in &paths {
                if let Ok(matched) = raw.at(black_box(path)) {
                    for param in matched.params.iter() {
                        black_box(param);
                    }
                }
            }
        })
    });
    group.finish();

    let requests = |paths: &[String]| -> Vec<Request<ReqBody>> {
        paths
            .iter()
            .map(|p| Request::get(p.as_str()).body(Empty::new()).unwrap())
            .collect()
    };
    let mut group = c.benchmark_group("dispatch");
    group.throughput(Throughput::Elements(n));
    group.bench_function("httpstack", |b| {
        b.iter_batched(
            || requests(&paths),
            |reqs| {
                for req in reqs {
                    let resp = ours.clone().oneshot(req).now_or_never();
                    black_box(resp);
                }
            },
            criterion::BatchSize::SmallInput,
        )
    });
    group.bench_function("axum", |b| {
        b.iter_batched(
            || requests(&paths),
            |reqs| {
                for req in reqs {
                    let resp = axum_app.clone().oneshot(req).now_or_never();
                    black_box(resp);
                }
            },
            criterion::BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30)
}

criterion_group! {
    name = router;
    config = config();
    targets = benches
}
criterion_main!(router);
