"""The Kubernetes CEL libraries the engine lacks, as Python functions registered with it.

Each module declares its functions as ``Function`` entries (a name and typed overloads); the engine
dispatches at run time on argument kinds, so every overload of one name takes distinct kinds.
Kubernetes' own value types (Quantity, URL, IP, CIDR, Format) travel through the engine as maps
with one key naming the type (see ``values.opaque``); their canonical form makes map equality the
API server's equality.

Sources of the semantics: k8s.io/apiserver/pkg/cel/library (lists, regex, urls, quantity, ip, cidr,
format) and cel-go's ext.Strings (version 2) and ext.Sets, which the API server's base environment
includes.
"""

from __future__ import annotations

from generator.cel.library import formats, lists, net, quantity, regex, sets, strings, urls
from generator.cel.library.values import Function

LIBRARIES: dict[str, tuple[Function, ...]] = {
    "strings": strings.FUNCTIONS,
    "lists": lists.FUNCTIONS,
    "sets": sets.FUNCTIONS,
    "regex": regex.FUNCTIONS,
    "urls": urls.FUNCTIONS,
    "quantity": quantity.FUNCTIONS,
    "net": net.FUNCTIONS,
    "format": formats.FUNCTIONS,
}


def all_functions() -> list[Function]:
    """Every function, overloads of one name merged (the engine takes one declaration per name)."""
    merged: dict[str, Function] = {}
    for functions in LIBRARIES.values():
        for function in functions:
            known = merged.get(function.name)
            merged[function.name] = function if known is None else known.merged(function)
    return list(merged.values())
