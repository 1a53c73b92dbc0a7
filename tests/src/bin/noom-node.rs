//! A Noom node in a process of its own, for tests that kill one (`kill -9`). Takes the
//! server's flags; prints `listening on ADDR` once it accepts connections.

use clap::Parser;
use noom_server::Config;

#[tokio::main]
async fn main() {
    let config = Config::parse();
    let listener = noom_server::bind(config.listen).expect("bind the listen address");
    let addr = listener.local_addr().expect("the bound address");
    println!("listening on {addr}");
    noom_server::run(listener, config, std::future::pending())
        .await
        .expect("the node starts");
}
