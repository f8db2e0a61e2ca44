"""The Kubernetes IP and CIDR libraries (k8s.io/apiserver/pkg/cel/library/ip.go, cidr.go).

Addresses are what Go's ``netip.ParseAddr``/``ParsePrefix`` accept, minus zones and IPv4-mapped IPv6
addresses, which the API server refuses; leading zeros in IPv4 octets are refused too. An address
travels as its canonical text (RFC 5952 for IPv6, as ``netip.Addr.String``), a prefix as
``address/bits`` with the address as written (``netip.Prefix`` keeps host bits until ``masked``).
"""

from __future__ import annotations

import ipaddress

from generator.cel.library.values import (
    OPAQUE,
    Function,
    NoSuchOverload,
    Overload,
    T,
    opaque,
    opaque_kind,
    opaque_value,
)

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _address(text: str) -> Address:
    if "%" in text:
        raise ValueError(f"IP address {text!r} with zone value is not allowed")
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise ValueError(f"IP Address {text!r} parse error during conversion from string") from None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        raise ValueError(f"IPv4-mapped IPv6 address {text!r} is not allowed")
    return address


def _prefix(text: str) -> tuple[Address, int]:
    address_text, slash, bits_text = text.partition("/")
    if not slash:
        raise ValueError(f"network address parse error during conversion from string: no '/' in {text!r}")
    if "%" in address_text:
        raise ValueError(f"CIDR {text!r} with zone value is not allowed")
    address = _address(address_text)
    if not bits_text.isascii() or not bits_text.isdigit() or (len(bits_text) > 1 and bits_text[0] == "0"):
        raise ValueError(f"network address parse error during conversion from string: bad bits in {text!r}")
    bits = int(bits_text)
    if bits > address.max_prefixlen:
        raise ValueError(f"network address parse error during conversion from string: bits out of range in {text!r}")
    return address, bits


def _text(value: object, function: str) -> str:
    if not isinstance(value, str):
        raise NoSuchOverload(function, value)
    return value


def _ip_value(value: object, function: str) -> Address:
    return ipaddress.ip_address(opaque_value(value, "IP", function))


def _cidr_value(value: object, function: str) -> tuple[Address, int]:
    address, _, bits = opaque_value(value, "CIDR", function).partition("/")
    return ipaddress.ip_address(address), int(bits)


def _ip(address: Address) -> dict[str, str]:
    return opaque("IP", str(address))


def _cidr(address: Address, bits: int) -> dict[str, str]:
    return opaque("CIDR", f"{address}/{bits}")


def to_ip(value: object) -> dict[str, str]:
    return _ip(_address(_text(value, "ip")))


def is_ip(value: object) -> bool:
    try:
        _address(_text(value, "isIP"))
    except ValueError:
        return False
    return True


def is_canonical(value: object) -> bool:
    text = _text(value, "ip.isCanonical")
    return str(_address(text)) == text


def family(value: object) -> int:
    return _ip_value(value, "family").version


def is_unspecified(value: object) -> bool:
    return _ip_value(value, "isUnspecified").is_unspecified


def is_loopback(value: object) -> bool:
    address = _ip_value(value, "isLoopback")
    return address in ipaddress.ip_network("127.0.0.0/8") if address.version == 4 else address.is_loopback


def is_link_local_multicast(value: object) -> bool:
    address = _ip_value(value, "isLinkLocalMulticast")
    if address.version == 4:
        return address in ipaddress.ip_network("224.0.0.0/24")
    return (int(address) >> 112) & 0xFF0F == 0xFF02  # Go: ff02::/16 with any flag bits


def is_link_local_unicast(value: object) -> bool:
    address = _ip_value(value, "isLinkLocalUnicast")
    network = "169.254.0.0/16" if address.version == 4 else "fe80::/10"
    return address in ipaddress.ip_network(network)


def is_global_unicast(value: object) -> bool:
    """Go's netip IsGlobalUnicast: private and ULA addresses count as global unicast."""
    address = _ip_value(value, "isGlobalUnicast")
    if address.version == 4:
        if int(address) in (0, 0xFFFFFFFF):
            return False
        loopback = address in ipaddress.ip_network("127.0.0.0/8")
        multicast = address in ipaddress.ip_network("224.0.0.0/4")
        link_local = address in ipaddress.ip_network("169.254.0.0/16")
        return not (loopback or multicast or link_local)
    return not (
        address.is_unspecified
        or address.is_loopback
        or address in ipaddress.ip_network("ff00::/8")
        or address in ipaddress.ip_network("fe80::/10")
    )


def to_string(value: object) -> str:
    if opaque_kind(value) == "CIDR":
        address, bits = _cidr_value(value, "string")
        return f"{address}/{bits}"
    return str(_ip_value(value, "string"))


def to_cidr(value: object) -> dict[str, str]:
    return _cidr(*_prefix(_text(value, "cidr")))


def is_cidr(value: object) -> bool:
    try:
        _prefix(_text(value, "isCIDR"))
    except ValueError:
        return False
    return True


def _network(address: Address, bits: int) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(f"{address}/{bits}", strict=False)


def contains_ip(value: object, other: object) -> bool:
    address, bits = _cidr_value(value, "containsIP")
    candidate = _address(other) if isinstance(other, str) else _ip_value(other, "containsIP")
    return candidate.version == address.version and candidate in _network(address, bits)


def contains_cidr(value: object, other: object) -> bool:
    address, bits = _cidr_value(value, "containsCIDR")
    inner, inner_bits = _prefix(other) if isinstance(other, str) else _cidr_value(other, "containsCIDR")
    if inner.version != address.version or inner_bits < bits:
        return False
    return inner in _network(address, bits)


def cidr_ip(value: object) -> dict[str, str]:
    address, _ = _cidr_value(value, "ip")
    return _ip(address)


def masked(value: object) -> dict[str, str]:
    address, bits = _cidr_value(value, "masked")
    return _cidr(_network(address, bits).network_address, bits)


def prefix_length(value: object) -> int:
    return _cidr_value(value, "prefixLength")[1]


def _member(overload: str, params: tuple[object, ...], result: object, impl: object) -> Overload:
    return Overload(overload, params, result, impl, member=True)  # type: ignore[arg-type]


FUNCTIONS: tuple[Function, ...] = (
    Function(
        "ip",
        (
            Overload("string_to_ip", (T.STRING,), OPAQUE, to_ip),
            _member("cidr_ip", (OPAQUE,), OPAQUE, cidr_ip),
        ),
    ),
    Function("isIP", (Overload("is_ip", (T.STRING,), T.BOOL, is_ip),)),
    Function("ip.isCanonical", (Overload("ip_is_canonical", (T.STRING,), T.BOOL, is_canonical),)),
    Function("family", (_member("ip_family", (OPAQUE,), T.INT, family),)),
    Function("isUnspecified", (_member("ip_is_unspecified", (OPAQUE,), T.BOOL, is_unspecified),)),
    Function("isLoopback", (_member("ip_is_loopback", (OPAQUE,), T.BOOL, is_loopback),)),
    Function(
        "isLinkLocalMulticast", (_member("ip_is_link_local_multicast", (OPAQUE,), T.BOOL, is_link_local_multicast),)
    ),
    Function("isLinkLocalUnicast", (_member("ip_is_link_local_unicast", (OPAQUE,), T.BOOL, is_link_local_unicast),)),
    Function("isGlobalUnicast", (_member("ip_is_global_unicast", (OPAQUE,), T.BOOL, is_global_unicast),)),
    Function("cidr", (Overload("string_to_cidr", (T.STRING,), OPAQUE, to_cidr),)),
    Function("isCIDR", (Overload("is_cidr", (T.STRING,), T.BOOL, is_cidr),)),
    Function(
        "containsIP",
        (
            _member("cidr_contains_ip_string", (OPAQUE, T.STRING), T.BOOL, contains_ip),
            _member("cidr_contains_ip_ip", (OPAQUE, OPAQUE), T.BOOL, contains_ip),
        ),
    ),
    Function(
        "containsCIDR",
        (
            _member("cidr_contains_cidr_string", (OPAQUE, T.STRING), T.BOOL, contains_cidr),
            _member("cidr_contains_cidr", (OPAQUE, OPAQUE), T.BOOL, contains_cidr),
        ),
    ),
    Function("masked", (_member("cidr_masked", (OPAQUE,), OPAQUE, masked),)),
    Function("prefixLength", (_member("cidr_prefix_length", (OPAQUE,), T.INT, prefix_length),)),
    # string(ip) and string(cidr): the engine's standard library owns `string`, so generator.cel.rewrite
    # sends string(x) of a Kubernetes value here
    Function("kubernetesString", (Overload("kubernetes_value_to_string", (OPAQUE,), T.STRING, to_string),)),
)
