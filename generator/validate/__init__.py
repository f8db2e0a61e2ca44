"""Validation of rendered trees and of any Flux or ArgoCD repository (``clusterforge validate``).

``run.validate(paths, Options) -> Report`` is the library entry point; ``entry`` adds the command's
defaults and output. Reading: ``documents`` (YAML), ``kustomization`` and ``kustomize`` (builds),
``scan`` and ``parallel`` (per-file work in worker processes). Schemas: ``locations``, ``fetch``,
``schemas``, ``schemacheck``, ``charts`` (Helm values). References: ``resources`` (objects and their
namespaces), ``refs_flux``, ``refs_pods``, ``refs_network``, ``refs_argocd``. ``kubeconform`` is the
alternative schema engine; ``rendered`` is what configure runs before it writes.
"""
