//! A `nats-server` of a test's own, on a free port, for tests that must stop and restart the
//! broker (the shared one on 4222 must stay up for everyone else). Behind the `testing`
//! feature.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where Debian puts the server; `HUBBUB_TEST_NATS_SERVER` overrides it.
fn binary() -> String {
    std::env::var("HUBBUB_TEST_NATS_SERVER").unwrap_or_else(|_| "/usr/sbin/nats-server".to_owned())
}

pub struct NatsServer {
    port: u16,
    child: Option<Child>,
}

impl NatsServer {
    /// Starts a server on a free port and waits until it accepts connections.
    pub fn start() -> NatsServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut server = NatsServer { port, child: None };
        server.restart();
        server
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Kills the server at once (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Freezes the server (SIGSTOP): connections stay open but nothing moves, as in a long
    /// GC pause or a stalled VM.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Lets a paused server go on (SIGCONT).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let Some(child) = &self.child else { return };
        let status = Command::new("kill").args([signal, &child.id().to_string()]).status().expect("run kill");
        assert!(status.success(), "kill {signal} failed");
    }

    /// Starts it again on the same port.
    pub fn restart(&mut self) {
        self.kill();
        let child = Command::new(binary())
            .args(["-a", "127.0.0.1", "-p", &self.port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary()));
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "nats-server did not listen on {}", self.port);
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        // A stopped process takes SIGKILL too, but resume it so it never lingers stopped.
        self.resume();
        self.kill();
    }
}
