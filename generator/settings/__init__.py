"""Typed settings: the models of cluster.yaml and models.yaml (models.py), their loading with
positions for errors (load.py, diagnostics.py) and the rules that span several settings (rules.py)."""
