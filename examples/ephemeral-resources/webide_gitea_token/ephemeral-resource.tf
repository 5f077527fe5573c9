# Gitea makes access tokens only for basic authentication: configure the
# provider's gitea block with username and password (e.g. GITEA_USERNAME and
# GITEA_PASSWORD), not with a token.

# A read-only token for this run: created when the run needs it, deleted when
# it is done, never written to state or plan (Terraform >= 1.10).
ephemeral "webide_gitea_token" "clone" {
  username = "ci-bot"
  scopes   = ["read:repository"]
}

resource "terraform_data" "checkout" {
  provisioner "local-exec" {
    command = "git clone \"https://ci-bot:$TOKEN@git.example.com/platform/templates.git\" /tmp/templates"
    environment = {
      TOKEN = ephemeral.webide_gitea_token.clone.token
    }
  }
}
