"""clusterforge: one typed cluster.yaml rendered into a GitOps tree for the LiteLLM gateway."""

__version__ = "0.1.0"
