//! The Terraform plugin protocol (tfplugin6 over gRPC): values, schemas,
//! diagnostics, the gRPC service and go-plugin start-up. Names no service.

pub mod diagnostics;
pub mod ephemeral;
pub mod json;
pub mod logging;
pub mod msgpack;
pub mod plugin;
pub mod schema;
pub mod server;
pub mod tls;
pub mod types;
pub mod value;

/// Generated protobuf/gRPC code.
#[allow(clippy::all, missing_docs)]
pub mod pb {
    tonic::include_proto!("tfplugin6");
    pub mod plugin {
        tonic::include_proto!("plugin");
    }
}
