"""``clusterforge diff LEFT RIGHT``: how two rendered trees differ, secrets redacted.

``targets.resolve`` turns an argument into a ``Tree``; ``walk`` reads the files a tree holds (what
clusterforge generates, YAML and JSON; symlinks as their target, never followed); ``redact`` hides
secret values on the parsed YAML, never decrypting anything; ``prefix`` puts ``<tree>`` for the
tree's own place in the repository; ``compare`` pairs the files; ``report`` prints the result.
"""
