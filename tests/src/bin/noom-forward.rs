//! Forwards TCP: `noom-forward LISTEN TARGET` accepts on LISTEN (port 0 picks one), prints
//! `listening on ADDR`, and joins each connection to a new one to TARGET. Tests run it inside
//! a network namespace to reach a Chromium DevTools port that listens on that namespace's
//! loopback only.

use tokio::net::{TcpListener, TcpStream};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(listen), Some(target)) = (args.next(), args.next()) else {
        eprintln!("usage: noom-forward LISTEN TARGET");
        std::process::exit(2);
    };
    let listener = TcpListener::bind(&listen).await.expect("bind LISTEN");
    let addr = listener.local_addr().expect("the bound address");
    println!("listening on {addr}");
    loop {
        let Ok((mut inbound, _)) = listener.accept().await else {
            continue;
        };
        let target = target.clone();
        tokio::spawn(async move {
            if let Ok(mut outbound) = TcpStream::connect(&target).await {
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            }
        });
    }
}
