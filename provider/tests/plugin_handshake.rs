//! Starts the real binary the way go-plugin does and talks gRPC to it over
//! AutoMTLS with a P-521 client certificate (what Terraform sends).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use base64::Engine;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use webide_provider::protocol::pb;
use webide_provider::protocol::plugin::{MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE};

const BIN: &str = env!("CARGO_BIN_EXE_terraform-provider-webide");

/// A Terraform-like client certificate: self-signed ECDSA P-521, CA=true.
fn client_identity() -> (String, CertificateDer<'static>, Vec<u8>) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let mut params = CertificateParams::new(vec!["localhost".into()]).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).unwrap();
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), cert.der().clone(), key.serialize_der())
}

struct Plugin {
    child: Child,
    addr: String,
    server_cert: CertificateDer<'static>,
}

impl Drop for Plugin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(client_pem: &str) -> Plugin {
    let mut child = Command::new(BIN)
        .env(MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
        .env("PLUGIN_CLIENT_CERT", client_pem)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let parts: Vec<&str> = line.trim().split('|').collect();
    assert_eq!(parts.len(), 6, "handshake line: {line}");
    assert_eq!(&parts[..3], &["1", "6", "tcp"]);
    assert!(parts[3].starts_with("127.0.0.1:"), "{line}");
    assert_eq!(parts[4], "grpc");
    assert!(
        !parts[5].ends_with('='),
        "certificate must be base64 without padding"
    );
    let der = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(parts[5])
        .unwrap();
    Plugin {
        child,
        addr: parts[3].to_string(),
        server_cert: CertificateDer::from(der),
    }
}

/// Trusts exactly the certificate from the handshake line, as go-plugin's
/// client does (it is both the root and the leaf).
#[derive(Debug)]
struct PinnedServer {
    cert: CertificateDer<'static>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl rustls::client::danger::ServerCertVerifier for PinnedServer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.cert.as_ref() {
            Ok(rustls::client::danger::ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(
                "unexpected server certificate".into(),
            ))
        }
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            m,
            c,
            d,
            &self.provider.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            m,
            c,
            d,
            &self.provider.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Connects with an optional client identity, trusting only the announced server cert.
async fn connect(
    p: &Plugin,
    identity: Option<(CertificateDer<'static>, Vec<u8>)>,
) -> Result<tonic::transport::Channel, tonic::transport::Error> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = Arc::new(PinnedServer {
        cert: p.server_cert.clone(),
        provider: provider.clone(),
    });
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = match identity {
        Some((cert, key)) => builder
            .with_client_auth_cert(
                vec![cert],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key)),
            )
            .unwrap(),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let addr = p.addr.clone();
    tonic::transport::Endpoint::from_static("http://localhost")
        .connect_with_connector(tower::service_fn(move |_| {
            let connector = connector.clone();
            let addr = addr.clone();
            async move {
                let tcp = tokio::net::TcpStream::connect(addr).await?;
                let tls = connector
                    .connect(ServerName::try_from("localhost").unwrap(), tcp)
                    .await?;
                Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(tls))
            }
        }))
        .await
}

#[tokio::test]
async fn serves_schema_over_mtls_and_refuses_other_clients() {
    let (pem, cert, key) = client_identity();
    let plugin = start(&pem);

    let channel = connect(&plugin, Some((cert, key)))
        .await
        .expect("mTLS connect");
    let mut client = pb::provider_client::ProviderClient::new(channel.clone());
    let schema = client
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("GetProviderSchema")
        .into_inner();
    assert!(schema.resource_schemas.contains_key("webide_litellm_key"));
    let key_schema = &schema.resource_schemas["webide_litellm_key"];
    let secret = key_schema
        .block
        .as_ref()
        .unwrap()
        .attributes
        .iter()
        .find(|a| a.name == "key")
        .unwrap();
    assert!(secret.sensitive && secret.computed);

    // A client without the certificate is refused.
    let refused = async {
        let ch = connect(&plugin, None).await?;
        pb::provider_client::ProviderClient::new(ch)
            .get_provider_schema(pb::get_provider_schema::Request {})
            .await
            .map_err(|s| std::io::Error::other(s.to_string()))
            .map(|_| ())
            .map_err(|e| e.into())
    };
    let r: Result<(), Box<dyn std::error::Error>> = refused.await;
    assert!(
        r.is_err(),
        "a client without PLUGIN_CLIENT_CERT must be refused"
    );

    // Another certificate is refused too.
    let (_, other_cert, other_key) = client_identity();
    let r = match connect(&plugin, Some((other_cert, other_key))).await {
        Ok(ch) => pb::provider_client::ProviderClient::new(ch)
            .get_provider_schema(pb::get_provider_schema::Request {})
            .await
            .map(|_| ()),
        Err(e) => Err(tonic::Status::unavailable(e.to_string())),
    };
    assert!(
        r.is_err(),
        "a client with a different certificate must be refused"
    );

    // Health service reports the plugin as serving.
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel.clone());
    let h = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: "plugin".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        h.status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );

    // GRPCController.Shutdown ends the process.
    let mut ctl = pb::plugin::grpc_controller_client::GrpcControllerClient::new(channel);
    ctl.shutdown(pb::plugin::Empty {}).await.unwrap();
    let mut plugin = plugin;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if let Some(status) = plugin.child.try_wait().unwrap() {
            assert!(status.success(), "exit status {status}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "plugin did not exit after Shutdown"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[test]
fn run_by_hand_prints_a_message_and_exits_1() {
    let out = Command::new(BIN)
        .env_remove(MAGIC_COOKIE_KEY)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("This binary is a plugin"));
    assert!(out.stdout.is_empty());
}

#[test]
fn refuses_clients_without_protocol_6() {
    let out = Command::new(BIN)
        .env(MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "4,5")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("protocol 6"));
}

/// Protocol 6.8 RPCs the provider does not serve answer UNIMPLEMENTED over the
/// wire, and the capabilities/metadata advertise none of them.
#[tokio::test]
async fn unserved_protocol_6_8_rpcs_answer_unimplemented() {
    let (pem, cert, key) = client_identity();
    let plugin = start(&pem);
    let channel = connect(&plugin, Some((cert, key)))
        .await
        .expect("mTLS connect");
    let mut client = pb::provider_client::ProviderClient::new(channel);

    let meta = client
        .get_metadata(pb::get_metadata::Request {})
        .await
        .expect("GetMetadata")
        .into_inner();
    assert!(meta.functions.is_empty());
    assert!(!meta.server_capabilities.unwrap().move_resource_state);
    assert!(meta
        .resources
        .iter()
        .any(|r| r.type_name == "webide_litellm_key"));

    let code = |r: Result<(), tonic::Status>| r.expect_err("must not succeed").code();
    assert_eq!(
        code(
            client
                .get_functions(pb::get_functions::Request {})
                .await
                .map(|_| ())
        ),
        tonic::Code::Unimplemented
    );
    assert_eq!(
        code(
            client
                .call_function(pb::call_function::Request {
                    name: "anything".into(),
                    arguments: vec![],
                })
                .await
                .map(|_| ())
        ),
        tonic::Code::Unimplemented
    );
    assert_eq!(
        code(
            client
                .move_resource_state(pb::move_resource_state::Request {
                    target_type_name: "webide_litellm_key".into(),
                    ..Default::default()
                })
                .await
                .map(|_| ())
        ),
        tonic::Code::Unimplemented
    );
}

/// Ephemeral resources over the wire: listed in GetMetadata and GetProviderSchema (secrets
/// sensitive), bad configuration refused on its attribute (at validate, and at open without
/// opening anything), and a close of something never opened (empty private data) a no-op.
#[tokio::test]
async fn ephemeral_resources_are_served() {
    let (pem, cert, key) = client_identity();
    let plugin = start(&pem);
    let channel = connect(&plugin, Some((cert, key)))
        .await
        .expect("mTLS connect");
    let mut client = pb::provider_client::ProviderClient::new(channel);

    let meta = client
        .get_metadata(pb::get_metadata::Request {})
        .await
        .expect("GetMetadata")
        .into_inner();
    let names: Vec<&str> = meta
        .ephemeral_resources
        .iter()
        .map(|e| e.type_name.as_str())
        .collect();
    assert_eq!(names, ["webide_gitea_token", "webide_litellm_key"]);

    let schema = client
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("GetProviderSchema")
        .into_inner();
    for (t, secret) in [
        ("webide_litellm_key", "key"),
        ("webide_gitea_token", "token"),
    ] {
        let s = &schema.ephemeral_resource_schemas[t];
        let a = s
            .block
            .as_ref()
            .unwrap()
            .attributes
            .iter()
            .find(|a| a.name == secret)
            .unwrap_or_else(|| panic!("{t}.{secret}"));
        assert!(a.sensitive && a.computed, "{t}.{secret}");
    }

    // {"username": "ci", "scopes": ["read:repo"]} as msgpack (fixmap 2).
    let mut config = vec![0x82, 0xa8];
    config.extend_from_slice(b"username");
    config.extend_from_slice(&[0xa2, b'c', b'i', 0xa6]);
    config.extend_from_slice(b"scopes");
    config.extend_from_slice(&[0x91, 0xa9]);
    config.extend_from_slice(b"read:repo");
    let dv = Some(pb::DynamicValue {
        msgpack: config,
        json: vec![],
    });
    let v = client
        .validate_ephemeral_resource_config(pb::validate_ephemeral_resource_config::Request {
            type_name: "webide_gitea_token".into(),
            config: dv.clone(),
        })
        .await
        .expect("ValidateEphemeralResourceConfig")
        .into_inner();
    assert_eq!(v.diagnostics.len(), 1, "{:?}", v.diagnostics);
    let path = v.diagnostics[0]
        .attribute
        .as_ref()
        .expect("on an attribute");
    assert_eq!(path.steps.len(), 2, "scopes[0]: {path:?}");

    let open = client
        .open_ephemeral_resource(pb::open_ephemeral_resource::Request {
            type_name: "webide_gitea_token".into(),
            config: dv,
            client_capabilities: None,
        })
        .await
        .expect("OpenEphemeralResource")
        .into_inner();
    assert!(open.private.is_none() && open.result.is_none());
    assert_eq!(open.diagnostics.len(), 1, "{:?}", open.diagnostics);
    assert_eq!(open.diagnostics[0].summary, "Invalid Gitea token scope");

    let close = client
        .close_ephemeral_resource(pb::close_ephemeral_resource::Request {
            type_name: "webide_litellm_key".into(),
            private: None,
        })
        .await
        .expect("CloseEphemeralResource")
        .into_inner();
    assert!(close.diagnostics.is_empty());
}
