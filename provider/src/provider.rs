//! The `webide` provider: one optional configuration block per service, each
//! value also taken from the environment, and the list of resources.

use std::sync::Arc;

use async_trait::async_trait;

use crate::framework::{DataSource, EphemeralResource, Provider, Resource, StopToken};
use crate::protocol::diagnostics::Diagnostics;
use crate::protocol::schema::{Block, Nesting, Schema};
use crate::protocol::value::Value;
use crate::{authentik, coder, docker, gitea, litellm};
// At their old paths for the service modules (see the crate docs).
use webide_tfplugin::service::ClientOf;
pub use webide_tfplugin::service::{connect, ServiceConfig, ServiceSpec, Slot};

/// Everything resources need: one client per service.
pub struct Clients {
    pub litellm: Slot<litellm::Client>,
    pub authentik: Slot<authentik::Client>,
    pub gitea: Slot<gitea::Client>,
    pub coder: Slot<coder::Client>,
    pub docker: Slot<docker::Client>,
    /// Terraform's stop signal, for resources that build their own client (bootstrap steps
    /// that run before a service has credentials).
    pub stop: StopToken,
}

/// Each service's client, for resources that ask for one through [`ClientOf`].
macro_rules! client_of {
    ($($field:ident: $client:ty),*) => {$(
        impl ClientOf<$client> for Clients {
            fn client(&self) -> Result<&$client, Diagnostics> {
                self.$field.get()
            }
        }
    )*};
}

client_of!(
    litellm: litellm::Client,
    authentik: authentik::Client,
    gitea: gitea::Client,
    coder: coder::Client,
    docker: docker::Client
);

pub const LITELLM: ServiceSpec = ServiceSpec {
    block: "litellm",
    url_env: &["LITELLM_PROXY_URL", "LITELLM_API_BASE"],
    secret_attr: "master_key",
    secret_env: &["LITELLM_MASTER_KEY", "LITELLM_API_KEY"],
    secret_alias: Some((
        "api_key",
        "A virtual key instead of the master key: what it may do is what LiteLLM lets that key do. A provisioning key limited to `/key/generate`, `/key/info`, `/key/update`, `/key/delete` and `/key/list` of one team is enough for `webide_litellm_key` resources of that team (the contractor-workspace template uses one). Set this or `master_key`.",
    )),
};

/// The provider.
#[derive(Default)]
pub struct WebideProvider;

#[async_trait]
impl Provider for WebideProvider {
    type Data = Clients;

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            Block::new("Declares a Coder WebIDE platform: LiteLLM keys and teams, Authentik users, groups and SSO applications, Gitea users and repositories, Coder templates and users, and the Docker containers they run in. Every service block is optional; each value can also come from the environment.")
                .block("litellm", Nesting::Single, LITELLM.block("Master key (admin credential) of the proxy."), 1)
                .block("authentik", Nesting::Single, authentik::block(), 1)
                .block("gitea", Nesting::Single, gitea::block(), 1)
                .block("coder", Nesting::Single, coder::block(), 1)
                .block("docker", Nesting::Single, docker::block(), 1),
        )
    }

    async fn configure(&self, config: &Value, stop: StopToken) -> Result<Clients, Diagnostics> {
        let mut diags = Diagnostics::new();
        let litellm = connect(&LITELLM, config, &mut diags, |c| {
            litellm::Client::new(c, stop.clone())
        });
        let authentik = authentik::configure(config, &stop, &mut diags);
        let gitea = gitea::configure(config, &stop, &mut diags);
        let coder = coder::configure(config, &stop, &mut diags);
        let docker = docker::configure(config, &stop, &mut diags);
        diags.into_result()?;
        Ok(Clients {
            litellm,
            authentik,
            gitea,
            coder,
            docker,
            stop,
        })
    }

    fn resources(&self) -> Vec<Arc<dyn Resource<Clients>>> {
        let mut all: Vec<Arc<dyn Resource<Clients>>> = vec![
            Arc::new(litellm::key::KeyResource),
            Arc::new(litellm::team::TeamResource),
            Arc::new(litellm::model::ModelResource),
        ];
        all.extend(authentik::resources());
        all.extend(gitea::resources());
        all.extend(coder::resources());
        all.extend(docker::resources::<Clients>());
        all.extend(crate::tls::resources());
        all.extend(crate::random::resources());
        all
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource<Clients>>> {
        let mut all: Vec<Arc<dyn DataSource<Clients>>> =
            vec![Arc::new(litellm::key_data::KeyDataSource)];
        all.extend(authentik::data_sources());
        all.extend(gitea::data_sources());
        all.extend(coder::data_sources());
        all.extend(docker::data_sources::<Clients>());
        all
    }

    fn ephemeral_resources(&self) -> Vec<Arc<dyn EphemeralResource<Clients>>> {
        let mut all: Vec<Arc<dyn EphemeralResource<Clients>>> =
            vec![Arc::new(litellm::ephemeral_key::EphemeralKey)];
        all.extend(gitea::ephemeral_resources());
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::write_only::{contains_write_only, schema_errors};

    #[test]
    fn every_schema_of_the_provider_follows_the_rules() {
        let p = WebideProvider;
        let mut with_wo = Vec::new();
        for r in p.resources() {
            let b = r.schema().block;
            let errs = schema_errors(&b);
            assert!(errs.is_empty(), "{}: {errs:?}", r.type_name());
            if contains_write_only(&b) {
                with_wo.push(r.type_name());
            }
        }
        assert!(with_wo.contains(&"webide_gitea_user"), "{with_wo:?}");
        // Write-only arguments exist for managed resources only.
        assert!(!contains_write_only(&p.schema().block));
        for d in p.data_sources() {
            assert!(!contains_write_only(&d.schema().block), "{}", d.type_name());
        }
    }
}
