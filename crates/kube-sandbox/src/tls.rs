//! A throwaway certificate authority, a server certificate for 127.0.0.1, and a client
//! certificate for the admin user (what kubeadm writes into admin.conf).

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose, SanType};
use rustls::pki_types::{CertificateDer, PrivatePkcs8KeyDer};
use std::net::{IpAddr, Ipv4Addr};

/// PEM material the server needs and the kubeconfig hands to clients.
pub struct TlsMaterial {
    pub ca_pem: String,
    pub ca_der: CertificateDer<'static>,
    pub server_cert_der: CertificateDer<'static>,
    pub server_key_der: PrivatePkcs8KeyDer<'static>,
    /// A client certificate and key (PEM) that authenticate as the admin.
    pub client_cert_pem: String,
    pub client_key_pem: String,
}

/// Generates a fresh CA and a server certificate signed by it, valid for 127.0.0.1 and localhost.
pub fn generate() -> Result<TlsMaterial, rcgen::Error> {
    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "kube-sandbox-ca");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key)?;

    let server_key = KeyPair::generate()?;
    let mut params = CertificateParams::new(vec!["localhost".to_string()])?;
    params
        .distinguished_name
        .push(DnType::CommonName, "kube-apiserver");
    params
        .subject_alt_names
        .push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
    let server_cert = params.signed_by(&server_key, &ca)?;

    let client_key = KeyPair::generate()?;
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params
        .distinguished_name
        .push(DnType::CommonName, crate::CERT_ADMIN_USER);
    params
        .distinguished_name
        .push(DnType::OrganizationName, "system:masters");
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    let client_cert = params.signed_by(&client_key, &ca)?;

    Ok(TlsMaterial {
        ca_pem: ca.pem(),
        ca_der: ca.der().clone(),
        server_cert_der: server_cert.der().clone(),
        server_key_der: PrivatePkcs8KeyDer::from(server_key.serialize_der()),
        client_cert_pem: client_cert.pem(),
        client_key_pem: client_key.serialize_pem(),
    })
}
