//! `wss://`: nano-client over TLS (rustls) to a server with a self-signed certificate.

mod support;

use std::sync::Arc;

use bytes::Bytes;
use nano_client::{ClientBuilder, ClientError, rustls};
use nano_core::protocol::{Message, Route, RouteName};
use nano_ws::WsTransport;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::{Value, json};
use support::{ServerConn, ok_reply, tcp_listener};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A certificate for `localhost`, and a server configuration presenting it.
fn server_tls() -> (CertificateDer<'static>, Arc<rustls::ServerConfig>) {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert_der = cert.cert.der().clone();
    let key = PrivateKeyDer::try_from(cert.signing_key.serialize_der()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert_der.clone()], key)
        .unwrap();
    (cert_der, Arc::new(config))
}

/// A client configuration trusting only `cert`.
fn client_tls(cert: CertificateDer<'static>) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}

/// Accepts one TLS + WebSocket connection; `None` when the TLS handshake fails.
async fn accept_wss(
    listener: &TcpListener,
    tls: Arc<rustls::ServerConfig>,
) -> Option<ServerConn<impl nano_core::transport::PacketTransport>> {
    let (tcp, _) = listener.accept().await.unwrap();
    let stream = TlsAcceptor::from(tls).accept(tcp).await.ok()?;
    let ws = tokio_tungstenite::accept_async(stream).await.unwrap();
    Some(ServerConn::new(WsTransport::new(ws, 65_536)))
}

#[tokio::test]
async fn request_and_push_over_wss_with_a_self_signed_certificate() {
    let (listener, addr) = tcp_listener().await;
    let port = addr.rsplit(':').next().unwrap().to_owned();
    let (cert, server_config) = server_tls();
    tokio::spawn(async move {
        let mut conn = accept_wss(&listener, server_config).await.expect("TLS");
        conn.handshake(ok_reply(None, None)).await;
        let Message::Request { id, route, .. } = conn.recv_message(None).await else {
            panic!("expected a request")
        };
        assert_eq!(route.name().map(RouteName::as_str), Some("room.join"));
        let push = Message::Push {
            route: Route::Name(RouteName::from("onMembers")),
            payload: Bytes::from_static(br#"{"members":["ann"]}"#),
        };
        conn.send_message(&push, None).await;
        conn.respond(id, br#"{"code":0,"result":"ok"}"#).await;
        conn.try_recv_packet().await;
    });

    let client = ClientBuilder::new()
        .tls_config(client_tls(cert))
        .connect(&format!("wss://localhost:{port}/nano"))
        .await
        .expect("wss connection");
    let mut members = client.subscribe("onMembers");
    let joined: Value = client
        .request("room.join", &json!({ "name": "ann" }))
        .await
        .unwrap();
    assert_eq!(joined["result"], "ok");
    let push = members.recv().await.expect("a push");
    assert_eq!(
        push.decode::<Value>().unwrap(),
        json!({ "members": ["ann"] })
    );
}

#[tokio::test]
async fn a_certificate_the_client_does_not_trust_is_a_tls_error() {
    let (listener, addr) = tcp_listener().await;
    let port = addr.rsplit(':').next().unwrap().to_owned();
    let (_cert, server_config) = server_tls();
    tokio::spawn(async move {
        // Once with the system's roots, once trusting another self-signed certificate.
        let _ = accept_wss(&listener, server_config.clone()).await;
        let _ = accept_wss(&listener, server_config).await;
    });
    let url = format!("wss://localhost:{port}/nano");

    let err = ClientBuilder::new().connect(&url).await.unwrap_err();
    assert!(matches!(err, ClientError::Tls(_)), "{err}");

    let (other_cert, _) = server_tls();
    let err = ClientBuilder::new()
        .tls_config(client_tls(other_cert))
        .connect(&url)
        .await
        .unwrap_err();
    assert!(matches!(err, ClientError::Tls(_)), "{err}");
}

#[tokio::test]
async fn a_host_name_the_certificate_does_not_cover_is_a_tls_error() {
    let (listener, addr) = tcp_listener().await;
    let (cert, server_config) = server_tls();
    tokio::spawn(async move { accept_wss(&listener, server_config).await.is_none() });
    // The certificate names `localhost`, not `127.0.0.1`.
    let err = ClientBuilder::new()
        .tls_config(client_tls(cert))
        .connect(&format!("wss://{addr}/nano"))
        .await
        .unwrap_err();
    assert!(matches!(err, ClientError::Tls(_)), "{err}");
}
