//! nginx (Debian `nginx-light`) as a child process serving a directory on 127.0.0.1, with
//! the config generated from the template `tests/fixtures/nginx.conf`; killed on drop.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::peers::peer;
use super::WAIT;

/// The config template.
pub const TEMPLATE: &str = include_str!("../fixtures/nginx.conf");

/// A running nginx; dropping it kills the process.
pub struct Nginx {
    child: Child,
    addr: SocketAddr,
    _prefix: tempfile::TempDir,
}

impl Nginx {
    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts nginx serving `root`, or returns `None` (after printing why) when it is not
/// installed outside CI; panics under `CI=true` when it is missing.
pub fn start_nginx(root: &Path) -> Option<Nginx> {
    let nginx = peer("nginx", "nginx-light")?;
    // The port comes from binding :0 and letting go; another process could take it in
    // between, so a start that fails is tried again on a new port.
    let mut last_error = String::new();
    for _ in 0..3 {
        let prefix = tempfile::tempdir().expect("nginx prefix dir");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let conf = TEMPLATE
            .replace("{{PREFIX}}", &prefix.path().display().to_string())
            .replace("{{ROOT}}", &root.display().to_string())
            .replace("{{PORT}}", &port.to_string());
        let conf_path = prefix.path().join("nginx.conf");
        std::fs::write(&conf_path, conf).expect("write nginx.conf");
        let mut child = Command::new(&nginx)
            .arg("-p")
            .arg(prefix.path())
            .arg("-c")
            .arg(&conf_path)
            .args(["-g", "daemon off;"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn nginx");
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + WAIT;
        loop {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Some(Nginx {
                    child,
                    addr,
                    _prefix: prefix,
                });
            }
            let exited = child.try_wait().ok().flatten();
            if exited.is_some() || Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                last_error =
                    std::fs::read_to_string(prefix.path().join("error.log")).unwrap_or_default();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    panic!("nginx did not start: {last_error}");
}
