//! terraform-provider-webide: a Terraform/OpenTofu provider that declares a
//! self-hosted Coder WebIDE platform (Coder, Gitea, Authentik, LiteLLM and
//! their containers).
//!
//! `protocol` and `framework` know no service; each service folder holds its
//! API client and its resources.

pub mod archive;
pub mod authentik;
pub mod coder;
pub mod docker;
pub mod docs;
pub mod drift;
pub mod framework;
#[doc(hidden)]
pub mod fuzzing;
pub mod gitea;
pub mod http;
pub mod litellm;
pub mod protocol;
pub mod provider;
pub mod random;
pub mod snapshot;
pub mod tls;
