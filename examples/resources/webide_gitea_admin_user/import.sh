# <container>/<username>
terraform import webide_gitea_admin_user.bootstrap webide-gitea/gitea
