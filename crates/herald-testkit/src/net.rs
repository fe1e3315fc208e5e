//! Ports for servers a test starts as processes (an ephemeral port the OS has just handed out).

/// A port free at the time of asking.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("the OS hands out an ephemeral port")
}

/// A base URL nothing listens on (a port just released), for "provider unreachable" tests.
pub fn closed_url() -> String {
    format!("http://127.0.0.1:{}", free_port())
}
