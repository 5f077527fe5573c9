//! Compiles our plugin-protocol definitions with a vendored `protoc`.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::var_os("PROTOC").is_none() {
        std::env::set_var("PROTOC", protoc_bin_vendored::protoc_bin_path()?);
    }
    tonic_build::configure().build_client(true).compile_protos(
        &["proto/tfplugin6.proto", "proto/goplugin.proto"],
        &[
            std::path::PathBuf::from("proto"),
            // google/protobuf/timestamp.proto (ephemeral resources' renew_at).
            protoc_bin_vendored::include_path()?,
        ],
    )?;
    println!("cargo:rerun-if-changed=proto");
    Ok(())
}
