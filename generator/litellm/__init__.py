"""The LiteLLM domain: providers, the proxy's config.yaml and the env it reads."""
