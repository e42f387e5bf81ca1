//! `wss://`: a TLS connection (rustls) under the WebSocket, behind the `tls` feature.

use std::io;
use std::sync::Arc;

use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::ClientError;

/// A rustls client configuration trusting the system's root certificates.
///
/// # Errors
///
/// [`ClientError::Tls`] when the system has no usable root certificate.
pub(crate) fn native_roots_config() -> Result<Arc<rustls::ClientConfig>, ClientError> {
    let mut roots = rustls::RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    let (added, _ignored) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        return Err(ClientError::Tls(io::Error::other(
            "no root certificate found on this system; pass a rustls configuration with ClientBuilder::tls_config",
        )));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| ClientError::Tls(io::Error::other(err)))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Opens `url` (`wss://host[:port]/path`): TCP, then TLS verified against `tls`, then the
/// WebSocket upgrade.
pub(crate) async fn connect(
    url: String,
    tls: Arc<rustls::ClientConfig>,
    ws_config: WebSocketConfig,
) -> Result<WebSocketStream<TlsStream<TcpStream>>, ClientError> {
    let invalid = || ClientError::InvalidTarget(url.clone());
    let request = url.as_str().into_client_request().map_err(|_| invalid())?;
    let host = request.uri().host().ok_or_else(invalid)?;
    // `[::1]` in a URL is `::1` for the socket and the certificate check.
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = request.uri().port_u16().unwrap_or(443);
    let server_name = ServerName::try_from(host.clone()).map_err(|_| invalid())?;

    let tcp = TcpStream::connect((host.as_str(), port)).await?;
    tcp.set_nodelay(true)?;
    let stream = TlsConnector::from(tls)
        .connect(server_name, tcp)
        .await
        .map_err(ClientError::Tls)?;
    let (ws, _response) =
        tokio_tungstenite::client_async_with_config(request, stream, Some(ws_config))
            .await
            .map_err(|err| ClientError::WebSocket(Box::new(err)))?;
    Ok(ws)
}
