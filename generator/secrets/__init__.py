"""Secret values: the age key, the sops wrapper, the secrets file and the providers that ship Secrets."""
