//! terraform-provider-webide: a Terraform/OpenTofu provider that declares a
//! self-hosted Coder WebIDE platform (Coder, Gitea, Authentik, LiteLLM and
//! their containers).
//!
//! The plugin protocol and the resource framework live in the
//! `webide-tfplugin` crate, which knows no service; each service folder here
//! holds its API client and its resources.
//!
//! `protocol` and `framework` are re-exported under their old names, and
//! `provider` re-exports `Slot`, `ServiceSpec`, `ServiceConfig` and `connect`,
//! so that `crate::protocol::...` paths in the service modules (and branches
//! written before the split) keep compiling; new code may name
//! `webide_tfplugin` directly.

pub mod archive;
pub mod authentik;
pub mod coder;
pub mod docker;
pub mod docs;
pub mod drift;
#[doc(hidden)]
pub mod fuzzing;
pub mod gitea;
pub mod http;
pub mod litellm;
pub mod provider;
pub mod random;
pub mod snapshot;
pub mod tls;

pub use webide_tfplugin::{framework, protocol};
