terraform import webide_litellm_team.platform 6f1c2a4e-0b7d-4c55-9a39-2f1e0c8d9b11
