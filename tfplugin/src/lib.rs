//! webide-tfplugin: the Terraform plugin protocol v6 and a small resource
//! framework on top of it. Knows no service: a provider crate brings its
//! configuration, clients and resources.
//!
//! - [`protocol`]: the wire layer (values, schemas, msgpack/JSON, the gRPC
//!   service and go-plugin start-up), like terraform-plugin-go `tfprotov6`.
//! - [`framework`]: provider/resource/data-source traits and the plan rules
//!   Terraform enforces, like terraform-plugin-framework `internal/fwserver`.
//! - [`service`]: one service's connection block (url, secret, TLS) resolved
//!   against the environment into a client [`service::Slot`].

pub mod framework;
pub mod protocol;
pub mod service;
