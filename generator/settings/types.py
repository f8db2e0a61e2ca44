"""Types shared by the settings models: strict base model, names, quantities, URLs, durations."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from generator.settings.diagnostics import describe_pattern as _p


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


DnsLabel = Annotated[
    str,
    StringConstraints(
        pattern=_p(
            r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
            "a Kubernetes name: lowercase letters, digits and '-', starting and ending with a letter or digit",
        ),
        max_length=63,
    ),
]
"""A Kubernetes name: lowercase letters, digits and '-', at most 63 characters."""

SecretName = Annotated[
    str,
    StringConstraints(
        pattern=_p(r"^[a-z][a-z0-9_]*$", "a secret name: lowercase letters, digits and '_', starting with a letter"),
        max_length=63,
    ),
]
"""A key of the secrets file: lowercase letters, digits and '_'."""

Hostname = Annotated[
    str,
    StringConstraints(
        pattern=_p(
            r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
            "a lowercase DNS name such as example.com",
        ),
        max_length=253,
    ),
]

_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")


def _quantity(value: object) -> object:
    # A bare number (cpu: 1) is a valid quantity; keep it a string so output stays stable.
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        value = format(value, "g")
    if isinstance(value, str) and not _QUANTITY.match(value):
        raise ValueError(f"'{value}' is not a Kubernetes quantity such as 500m, 1, 512Mi or 2Gi")
    return value


Quantity = Annotated[str, BeforeValidator(_quantity)]

PositiveInt = Annotated[int, Field(gt=0)]
Duration = Annotated[
    str, StringConstraints(pattern=_p(r"^[1-9][0-9]*[smhd]$", "a duration such as 30s, 15m, 12h or 30d"))
]
PositiveNumber = Annotated[float, Field(gt=0)]

HttpUrl = Annotated[str, StringConstraints(pattern=_p(r"^https?://[^\s/$.?#][^\s]*$", "an http:// or https:// URL"))]


class ResourceList(Strict):
    cpu: Quantity | None = None
    memory: Quantity | None = None


class Resources(Strict):
    requests: ResourceList = ResourceList()
    limits: ResourceList = ResourceList()


class Storage(Strict):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)

    size: Quantity = "10Gi"
    storage_class: DnsLabel | None = Field(
        None, alias="class", description="StorageClass; the cluster default when unset."
    )
