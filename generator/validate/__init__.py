"""Validation of rendered trees and of any Flux or ArgoCD repository."""
