//! A Redis server of a test's own, on a port it picks, that the test can start late, restart
//! or drop.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A Redis of this test's own on a free port, so restarting it (losing everything: it keeps
/// nothing on disk, like the project's Redis) disturbs nothing else.
pub struct PrivateRedis {
    port: u16,
    child: Child,
}

impl PrivateRedis {
    pub fn start(port: u16) -> Self {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server (scripts/test.sh installs it)");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { port, child }
    }

    pub fn restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        *self = Self::start(self.port);
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
