# Coder over HTTPS on :7443 (the seeds: extension webviews and the OAuth cookie need it).
resource "webide_tls_certificate" "coder" {
  common_name   = "coder"
  dns_names     = ["localhost", "coder", "host.docker.internal"]
  ip_addresses  = ["127.0.0.1"]
  covers_urls   = ["https://localhost:7443"]
  validity_days = 365
}

# The server gets both PEMs (e.g. through sensitive_env and a small entrypoint that writes
# them to CODER_TLS_CERT_FILE / CODER_TLS_KEY_FILE); clients trust cert_pem as their CA.
output "coder_ca_pem" {
  value = webide_tls_certificate.coder.cert_pem
}
