# <container>/<name of the source>
terraform import webide_gitea_login_source.authentik webide-gitea/authentik
