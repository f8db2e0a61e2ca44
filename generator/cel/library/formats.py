"""The Kubernetes format library (k8s.io/apiserver/pkg/cel/library/format.go): ``format.named(name)``,
``format.<name>()`` and ``<Format>.validate(string)``, with apimachinery's validation messages.

``validate`` and ``format.named`` return optionals, which a function written in Python cannot give
the engine; generator.cel.rewrite turns ``X.validate(s)`` into ``X.kubernetesValidateFormat(s)[?0]``
and ``format.named(n)`` into ``format.kubernetesNamed(n)[?0]``: these return an empty list or a
one-element list, and the optional index makes the optional.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import re
from collections.abc import Callable

from generator.cel.library import urls
from generator.cel.library.values import OPAQUE, Function, NoSuchOverload, Overload, T, opaque, opaque_value

_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_SUBDOMAIN = _LABEL + "(\\." + _LABEL + ")*"
_DNS1035 = "[a-z]([-a-z0-9]*[a-z0-9])?"
_QNAME = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_LABEL_VALUE = "(" + _QNAME + ")?"
_UUID = re.compile(r"^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$", re.IGNORECASE)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?$|^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}$"
)


def _full(pattern: str, value: str) -> bool:
    return re.fullmatch(pattern, value) is not None


def _regex_error(message: str, pattern: str, *examples: str) -> str:
    if not examples:
        return f"{message} (regex used for validation is '{pattern}')"
    shown = " or ".join(f"'{example}', " for example in examples)
    return f"{message} (e.g. {shown}regex used for validation is '{pattern}')"


def _max_length(length: int) -> str:
    return f"must be no more than {length} characters"


def dns1123_label(value: str) -> list[str]:
    errors = [_max_length(63)] if len(value) > 63 else []
    if not _full(_LABEL, value):
        if _full(_SUBDOMAIN, value):
            errors.append("must not contain dots")
        else:
            message = (
                "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
                "and must start and end with an alphanumeric character"
            )
            errors.append(_regex_error(message, _LABEL, "my-name", "123-abc"))
    return errors


def dns1123_subdomain(value: str) -> list[str]:
    errors = [_max_length(253)] if len(value) > 253 else []
    if not _full(_SUBDOMAIN, value):
        message = (
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
            "and must start and end with an alphanumeric character"
        )
        errors.append(_regex_error(message, _SUBDOMAIN, "example.com"))
    return errors


def dns1035_label(value: str) -> list[str]:
    errors = [_max_length(63)] if len(value) > 63 else []
    if not _full(_DNS1035, value):
        message = (
            "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
            "alphabetic character, and end with an alphanumeric character"
        )
        errors.append(_regex_error(message, _DNS1035, "my-name", "abc-123"))
    return errors


_QNAME_MESSAGE = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
)


def qualified_name(value: str) -> list[str]:
    errors: list[str] = []
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errors.append("prefix part must be non-empty")
        else:
            errors += [f"prefix part {message}" for message in dns1123_subdomain(prefix)]
    else:
        return [
            "a qualified name "
            + _regex_error(_QNAME_MESSAGE, _QNAME, "MyName", "my.name", "123-abc")
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    if not name:
        errors.append("name part must be non-empty")
    elif len(name) > 63:
        errors.append("name part " + _max_length(63))
    if not _full(_QNAME, name):
        errors.append("name part " + _regex_error(_QNAME_MESSAGE, _QNAME, "MyName", "my.name", "123-abc"))
    return errors


def label_value(value: str) -> list[str]:
    errors = [_max_length(63)] if len(value) > 63 else []
    if not _full(_LABEL_VALUE, value):
        message = (
            "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
            "and must start and end with an alphanumeric character"
        )
        errors.append(_regex_error(message, _LABEL_VALUE, "MyValue", "my_value", "12345"))
    return errors


def _masked(value: str) -> str:
    """apimachinery's maskTrailingDash: a name that is only a prefix may end with '-'."""
    return value[:-2] + "a" if len(value) > 1 and value.endswith("-") else value


def _uri(value: str) -> list[str]:
    try:
        urls.parse_request_uri(value)
    except urls.URLError as exc:
        return [f'parse "{value}": {exc}']
    return []


def _base64(value: str) -> list[str]:
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return ["invalid base64"]
    return []


def _date(value: str) -> list[str]:
    try:
        if _DATE.match(value):
            datetime.date.fromisoformat(value)
            return []
    except ValueError:
        pass
    return ["invalid date"]


def _datetime(value: str) -> list[str]:
    if _DATETIME.match(value):
        try:
            datetime.datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00").replace("t", "T"))
            return []
        except ValueError:
            pass
    return ["invalid datetime"]


FORMATS: dict[str, Callable[[str], list[str]]] = {
    "dns1123Label": dns1123_label,
    "dns1123Subdomain": dns1123_subdomain,
    "dns1035Label": dns1035_label,
    "qualifiedName": qualified_name,
    "dns1123LabelPrefix": lambda value: dns1123_label(_masked(value)),
    "dns1123SubdomainPrefix": lambda value: dns1123_subdomain(_masked(value)),
    "dns1035LabelPrefix": lambda value: dns1035_label(_masked(value)),
    "labelValue": label_value,
    "uri": _uri,
    "uuid": lambda value: [] if _UUID.match(value) else ["does not match the UUID format"],
    "byte": _base64,
    "date": _date,
    "datetime": _datetime,
}


def validate(format_value: object, text: object) -> list[list[str]]:
    """[] when ``text`` is valid, else [its errors] (made an optional by the ``[?0]`` the rewrite adds)."""
    name = opaque_value(format_value, "Format", "validate")
    if not isinstance(text, str):
        raise NoSuchOverload("validate", format_value, text)
    errors = FORMATS[name](text)
    return [errors] if errors else []


def named(name: object) -> list[dict[str, str]]:
    if not isinstance(name, str):
        raise NoSuchOverload("format.named", name)
    return [opaque("Format", name)] if name in FORMATS else []


def _constant(name: str) -> Function:
    return Function(f"format.{name}", (Overload(f"format_{name}", (), OPAQUE, lambda: opaque("Format", name)),))


FUNCTIONS: tuple[Function, ...] = (
    *(_constant(name) for name in FORMATS),
    Function(
        "kubernetesValidateFormat",
        (Overload("format_validate", (OPAQUE, T.STRING), T.List(T.List(T.STRING)), validate, member=True),),
    ),
    Function("format.kubernetesNamed", (Overload("format_named", (T.STRING,), T.List(OPAQUE), named),)),
)
