"""The names of what clusterforge creates, in one place: templates, policies and tests agree on them."""

LITELLM = "litellm"
LITELLM_SECRET = "litellm-secret"
LITELLM_CONFIG = "litellm-config"
LITELLM_PORT = 4000
MIGRATE_APP = "litellm-migrate"
METRICS_AUTH_SECRET = "litellm-metrics-auth"

DATABASE_APP = "litellm-db"
DATABASE_CLUSTER = "litellm-db"
DATABASE_OWNER_SECRET = "litellm-db-owner"
DATABASE_POOLER = "litellm-db-pooler-rw"
DATABASE_BACKUP_STORE = "litellm-db-backup"
DATABASE_BACKUP_SECRET = "litellm-db-backup-s3"

CACHE_APP = "litellm-cache"
CACHE_NAME = "litellm-cache"
CACHE_SECRET = "litellm-cache-auth"
CACHE_USER = "litellm"
REDIS_PORT = 6379

CNPG_OPERATOR = "cloudnative-pg"
CNPG_NAMESPACE = "cnpg-system"
BARMAN_PLUGIN = "plugin-barman-cloud"
BARMAN_PLUGIN_NAME = "barman-cloud.cloudnative-pg.io"
DRAGONFLY_OPERATOR = "dragonfly-operator"
DRAGONFLY_NAMESPACE = "dragonfly-operator-system"

SEALED_SECRETS = "sealed-secrets"
SEALED_SECRETS_NAMESPACE = "sealed-secrets"
SEALED_SECRETS_CONTROLLER = "sealed-secrets-controller"
EXTERNAL_SECRETS = "external-secrets"
EXTERNAL_SECRETS_NAMESPACE = "external-secrets"
SECRET_STORE_APP = "external-secrets-store"

ROUTE_APP = "litellm-route"
