"""CEL validation rules (``x-kubernetes-validations``) evaluated offline, as the API server does on create.

- ``environment``: the CEL engine (cel-expr-python, Google's C++ CEL) with the Kubernetes libraries
  registered as functions (``library``), and each rule compiled once.
- ``syntax``: the compiled rule's checked syntax tree, read back to learn what a rule touches
  (``oldSelf``, the fields of ``self``) and to bound its cost.
- ``schema``: where the rules sit in a JSON schema, and how a value there is typed, defaulted and named.
- ``validator``: a schema's rules evaluated on an object, with the API server's cost limits (``cost``).
"""
