# By token id (the SHA-256 LiteLLM stores; the secret stays unknown in state):
terraform import webide_litellm_key.contractor1 8d3c0f...e41a
# By the key itself (the secret is kept in state):
terraform import webide_litellm_key.contractor1 sk-0123456789abcdef
