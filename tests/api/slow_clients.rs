//! Slow and idle clients over raw TCP: headers and bodies sent a byte at a time are cut off
//! within the configured time, and a flood of idle connections does not keep `/healthz` from
//! answering.

use crate::cases;
use crate::support::TestApp;
use postgate::config::RawSettings;
use reqwest::StatusCode;
use serde_json::Value;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

cases![
    headers_sent_slowly_are_cut_off,
    the_next_request_on_a_connection_cannot_trickle_its_headers,
    a_trickled_body_is_answered_408_on_every_kind_of_route,
    a_big_body_that_keeps_moving_is_not_cut_off,
    healthz_answers_through_a_flood_of_idle_connections,
];

/// One second for headers, for a body's gaps and for lingering after a refusal, and 100
/// bytes per second on average.
fn impatient(raw: &mut RawSettings) {
    raw.http_header_timeout_seconds = 1;
    raw.http_disconnect_timeout_seconds = 1;
    raw.http_body_idle_timeout_seconds = 1;
    raw.http_body_min_bytes_per_second = 100;
}

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.address.trim_start_matches("http://"))
        .await
        .expect("connect")
}

/// Writes `prefix`, then `drip` one byte every 100 ms (repeating it), until the server closes
/// the connection: what the server sent, and when it closed. Panics past `limit`.
async fn trickle(
    stream: TcpStream,
    prefix: &[u8],
    drip: &[u8],
    limit: Duration,
) -> (String, Duration) {
    let started = Instant::now();
    let (mut read, mut write) = stream.into_split();
    write.write_all(prefix).await.expect("prefix");
    let reader = async {
        let mut answer = Vec::new();
        // The server closing (EOF or reset) ends the read.
        let _ = read.read_to_end(&mut answer).await;
        String::from_utf8_lossy(&answer).into_owned()
    };
    let writer = async {
        for byte in drip.iter().cycle() {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if write.write_all(&[*byte]).await.is_err() {
                break;
            }
        }
        // The server stopped taking bytes: let the reader see the rest.
        std::future::pending::<()>().await;
    };
    let answer = tokio::time::timeout(limit, async {
        tokio::select! {
            answer = reader => answer,
            () = writer => unreachable!("the writer never ends"),
        }
    })
    .await
    .unwrap_or_else(|_| panic!("the server still held the connection after {limit:?}"));
    (answer, started.elapsed())
}

async fn headers_sent_slowly_are_cut_off(app: &TestApp) {
    let slow = TestApp::spawn_with(app.test_db.backend, impatient).await;
    let (answer, took) = trickle(
        connect(&slow).await,
        b"GET /healthz HTTP/1.1\r\nHost: x\r\n",
        b"X-Slow: a\r\n",
        Duration::from_secs(4),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(took < Duration::from_millis(2500), "{took:?}");
    slow.stop().await;
}

async fn the_next_request_on_a_connection_cannot_trickle_its_headers(app: &TestApp) {
    // actix-web times only a connection's first request head: one fast request, then the next
    // one a byte at a time, must not hold the connection.
    let slow = TestApp::spawn_with(app.test_db.backend, impatient).await;
    let (answer, took) = trickle(
        connect(&slow).await,
        b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n",
        b"X-Slow: a\r\n",
        Duration::from_secs(4),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(answer.matches("HTTP/1.1").count(), 1, "{answer}");
    assert!(took < Duration::from_millis(2500), "{took:?}");
    slow.stop().await;
}

/// The JSON error at the end of an HTTP answer.
fn json_body(answer: &str) -> Value {
    let body = answer.split("\r\n\r\n").nth(1).expect("a body");
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {answer}"))
}

async fn a_trickled_body_is_answered_408_on_every_kind_of_route(app: &TestApp) {
    let slow = TestApp::spawn_with(app.test_db.backend, impatient).await;
    let requests = [
        // A JSON body under an API key, its length declared.
        format!(
            "POST /api/uploadposts/users HTTP/1.1\r\nHost: x\r\nAuthorization: Apikey {}\r\n\
             Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"username\": \"",
            slow.api_key
        ),
        // An unauthenticated form of the connect page, chunked.
        "POST /connect/start HTTP/1.1\r\nHost: x\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n\
         6\r\ntoken=\r\n"
            .to_owned(),
        // A multipart upload.
        format!(
            "POST /api/upload_text HTTP/1.1\r\nHost: x\r\nAuthorization: Apikey {}\r\n\
             Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 100000\r\n\r\n\
             --b\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\n",
            slow.api_key
        ),
    ];
    for request in requests {
        // 10 bytes per second: far below the 100 required.
        let drip: &[u8] = if request.contains("chunked") {
            b"1\r\na\r\n"
        } else {
            b"a"
        };
        let (answer, took) = trickle(
            connect(&slow).await,
            request.as_bytes(),
            drip,
            Duration::from_secs(5),
        )
        .await;
        assert!(answer.starts_with("HTTP/1.1 408"), "{request}: {answer}");
        assert_eq!(
            json_body(&answer),
            serde_json::json!({
                "success": false,
                "message": "The request body arrived too slowly",
                "error_code": "REQUEST_TIMEOUT"
            })
        );
        // The answer after about a second, then a second's linger for the client to stop.
        assert!(took < Duration::from_millis(3500), "{request}: {took:?}");
    }
    slow.stop().await;
}

async fn a_big_body_that_keeps_moving_is_not_cut_off(app: &TestApp) {
    // 3 KB over three seconds (1 KB/s): three times the idle timeout in all, but never idle
    // and well above the minimum rate.
    let slow = TestApp::spawn_with(app.test_db.backend, impatient).await;
    let body = format!(r#"{{"username": "steady"{}}}"#, " ".repeat(2980));
    let head = format!(
        "POST /api/uploadposts/users HTTP/1.1\r\nHost: x\r\nAuthorization: Apikey {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        slow.api_key,
        body.len()
    );
    let mut stream = connect(&slow).await;
    stream.write_all(head.as_bytes()).await.unwrap();
    for chunk in body.as_bytes().chunks(100) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        stream.write_all(chunk).await.unwrap();
    }
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer))
        .await
        .expect("answered")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with(&format!("HTTP/1.1 {}", StatusCode::CREATED.as_u16())),
        "{answer}"
    );
    slow.stop().await;
}

async fn healthz_answers_through_a_flood_of_idle_connections(app: &TestApp) {
    // Two connections per worker (the test app has two); idle ones are cut after a second.
    let bounded = TestApp::spawn_with(app.test_db.backend, |raw| {
        impatient(raw);
        raw.http_max_connections = 4;
    })
    .await;
    let started = Instant::now();
    let mut idle = Vec::new();
    for _ in 0..8 {
        idle.push(connect(&bounded).await);
    }
    let closed_after = |mut stream: TcpStream| async move {
        let mut sink = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(6), stream.read_to_end(&mut sink)).await;
        started.elapsed()
    };
    let closings: Vec<_> = idle
        .into_iter()
        .map(|s| tokio::spawn(closed_after(s)))
        .collect();
    let health = reqwest::Client::new()
        .get(bounded.url("/healthz"))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .expect("/healthz answered");
    assert_eq!(health.status(), StatusCode::OK);
    // Behind two waves of idle connections, each cut by the header timeout.
    let answered = started.elapsed();
    assert!(answered < Duration::from_millis(4500), "{answered:?}");
    let mut closed = Vec::new();
    for closing in closings {
        closed.push(closing.await.unwrap());
    }
    closed.sort();
    // Only the first four were let in at once: the last were not even accepted (and so not
    // timed) until those were cut.
    assert!(closed[0] < Duration::from_millis(1800), "{closed:?}");
    assert!(closed[7] >= Duration::from_millis(1800), "{closed:?}");
    assert!(closed[7] < Duration::from_secs(4), "{closed:?}");
    bounded.stop().await;
}
