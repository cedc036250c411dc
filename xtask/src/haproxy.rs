//! The load balancer's configuration, one text for `cargo xtask cluster` and the cluster
//! tests (`crates/hubbub/tests/it/cluster`, which include this file), so the cluster people
//! try is the one that is tested. Plain std: the tests cannot depend on xtask.

/// Round robin without stickiness (each request and each WebSocket goes to the next node),
/// WebSockets tunnelled for up to an hour, a node taken out after two failed checks of
/// `/api/health` 300 ms apart and back after one good one, and a request whose connection
/// to a dead node fails sent to another node. haproxy's stats (CSV at `/stats;csv`) are on
/// `stats_port`; the backend is `nodes` and its servers `node0`, `node1`, ...
pub fn config(port: u16, stats_port: u16, nodes: &[u16]) -> String {
    let mut config = format!(
        "global\n  maxconn 4096\n\n\
         defaults\n  mode http\n  timeout connect 2s\n  timeout client 60s\n  timeout server 60s\n  \
         timeout tunnel 1h\n  timeout http-request 10s\n  option redispatch\n  retries 3\n\n\
         frontend hubbub\n  bind 127.0.0.1:{port}\n  option forwardfor\n  default_backend nodes\n\n\
         backend nodes\n  balance roundrobin\n  option httpchk GET /api/health\n  \
         http-check expect status 200\n  default-server inter 300ms fall 2 rise 1\n"
    );
    for (index, node) in nodes.iter().enumerate() {
        config.push_str(&format!("  server node{index} 127.0.0.1:{node} check\n"));
    }
    config.push_str(&format!("\nlisten stats\n  bind 127.0.0.1:{stats_port}\n  stats enable\n  stats uri /stats\n"));
    config
}
