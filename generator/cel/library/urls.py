"""The Kubernetes URL library (k8s.io/apiserver/pkg/cel/library/urls.go): ``url``, ``isURL`` and the getters.

A URL is what Go's ``net/url.ParseRequestURI`` accepts (an absolute URI or an absolute path); its
parts are what ``net/url.Parse`` makes of it. Both are followed here: scheme, authority (userinfo,
host, port checks), path and query, with Go's percent-escaping rules for hosts and paths.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

from generator.cel.library.values import OPAQUE, Function, NoSuchOverload, Overload, T, opaque, opaque_value

_HEX = "0123456789abcdefABCDEF"
_UNRESERVED = frozenset("-_.~")
_HOST_ALLOWED = frozenset("!$&'()*+,;=:[]<>\"")
_PATH_ALLOWED = frozenset("$&+,/:;=@")
_VALID_ENCODED = frozenset("!$&'()*+,;=:@[]%")


class URLError(ValueError):
    pass


@dataclass
class ParsedURL:
    scheme: str = ""
    opaque: str = ""
    host: str = ""
    path: str = ""
    raw_path: str = ""
    raw_query: str = ""


def _alnum(char: str) -> bool:
    return char.isascii() and char.isalnum()


def _should_escape(char: str, mode: str) -> bool:
    """Go's net/url shouldEscape for the modes used here: "host" and "path"."""
    if _alnum(char):
        return False
    if mode == "host" and char in _HOST_ALLOWED:
        return False
    if char in _UNRESERVED:
        return False
    return not (mode == "path" and char in _PATH_ALLOWED)


def _unescape(text: str, mode: str) -> str:
    index = 0
    while index < len(text):
        char = text[index]
        if char == "%":
            if index + 2 >= len(text) or text[index + 1] not in _HEX or text[index + 2] not in _HEX:
                raise URLError(f'invalid URL escape "{text[index : index + 3]}"')
            if mode == "host" and int(text[index + 1], 16) < 8 and text[index : index + 3] != "%25":
                raise URLError(f'invalid URL escape "{text[index : index + 3]}"')
            index += 3
            continue
        if mode == "host" and ord(char) < 0x80 and _should_escape(char, mode):
            raise URLError(f'invalid character "{char}" in host name')
        index += 1
    if mode == "query":
        text = text.replace("+", " ")
    return unquote_to_bytes(text).decode("utf-8", "replace") if "%" in text else text


def _escape(text: str, mode: str) -> str:
    out = []
    for char in text:
        if ord(char) < 0x80 and not _should_escape(char, mode):
            out.append(char)
        else:
            out.extend(f"%{byte:02X}" for byte in char.encode("utf-8"))
    return "".join(out)


def _valid_port(port: str) -> bool:
    return port == "" or (port[0] == ":" and all(c in "0123456789" for c in port[1:]))


def _scheme(raw: str) -> tuple[str, str]:
    for index, char in enumerate(raw):
        if char.isascii() and char.isalpha():
            continue
        if char.isascii() and (char.isdigit() or char in "+-."):
            if index == 0:
                return "", raw
            continue
        if char == ":":
            if index == 0:
                raise URLError("missing protocol scheme")
            return raw[:index], raw[index + 1 :]
        return "", raw
    return "", raw


def _host(host: str) -> str:
    if host.startswith("["):
        end = host.rfind("]")
        if end < 0:
            raise URLError("missing ']' in host")
        port = host[end + 1 :]
        if not _valid_port(port):
            raise URLError(f'invalid port "{port}" after host')
    else:
        colon = host.rfind(":")
        if colon != -1 and not _valid_port(host[colon:]):
            raise URLError(f'invalid port "{host[colon:]}" after host')
    return _unescape(host, "host")


def _authority(authority: str) -> str:
    at = authority.rfind("@")
    host = _host(authority[at + 1 :] if at >= 0 else authority)
    if at >= 0:
        userinfo = authority[:at]
        for char in userinfo:
            if not (_alnum(char) or char in "-._:~!$&'()*+,;=%@"):
                raise URLError("net/url: invalid userinfo")
        _unescape(userinfo, "userinfo")
    return host


def parse_request_uri(raw: str) -> ParsedURL:
    """Go's ``url.ParseRequestURI`` (absolute URI or absolute path; a fragment stays in the path or query)."""
    return _parse(raw, via_request=True)


def parse(raw: str) -> ParsedURL:
    """Go's ``url.Parse``: the fragment split off first."""
    without_fragment = raw.split("#", 1)[0]
    return _parse(without_fragment, via_request=False)


def _parse(raw: str, via_request: bool) -> ParsedURL:
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in raw):
        raise URLError("net/url: invalid control character in URL")
    if raw == "" and via_request:
        raise URLError("empty url")
    url = ParsedURL()
    if raw == "*":
        url.path = "*"
        return url
    scheme, rest = _scheme(raw)
    url.scheme = scheme.lower()
    if rest.endswith("?") and rest.count("?") == 1:
        rest = rest[:-1]
    else:
        rest, _, url.raw_query = rest.partition("?")
    if not rest.startswith("/"):
        if url.scheme:
            url.opaque = rest
            return url
        if via_request:
            raise URLError("invalid URI for request")
        if ":" in rest.split("/", 1)[0]:
            raise URLError("first path segment in URL cannot contain colon")
    if (url.scheme or (not via_request and not rest.startswith("///"))) and rest.startswith("//"):
        authority, slash, tail = rest[2:].partition("/")
        rest = slash + tail
        url.host = _authority(authority)
    url.path = _unescape(rest, "path")
    url.raw_path = "" if _escape(url.path, "path") == rest else rest
    return url


def escaped_path(url: ParsedURL) -> str:
    if url.raw_path and all(c in _VALID_ENCODED or not _should_escape(c, "path") for c in url.raw_path):
        try:
            if _unescape(url.raw_path, "path") == url.path:
                return url.raw_path
        except URLError:
            pass
    if url.path == "*":
        return "*"
    return _escape(url.path, "path")


def hostname(url: ParsedURL) -> str:
    host = url.host
    colon = host.rfind(":")
    if colon != -1 and _valid_port(host[colon:]):
        host = host[:colon]
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host


def port(url: ParsedURL) -> str:
    host = url.host
    colon = host.find(":")
    if colon == -1:
        return ""
    closing = host.find("]:")
    if closing != -1:
        return host[closing + 2 :]
    if "]" in host:
        return ""
    return host[colon + 1 :]


def query(url: ParsedURL) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    remaining = url.raw_query
    while remaining:
        key, _, remaining = remaining.partition("&")
        if ";" in key or not key:
            continue
        name, _, value = key.partition("=")
        try:
            values.setdefault(_unescape(name, "query"), []).append(_unescape(value, "query"))
        except URLError:
            continue
    return values


def _text(value: object, function: str) -> str:
    if not isinstance(value, str):
        raise NoSuchOverload(function, value)
    return value


def to_url(value: object) -> dict[str, str]:
    text = _text(value, "url")
    try:
        parse_request_uri(text)
        parse(text)
    except URLError as exc:
        raise ValueError(f'URL parse error during conversion from string: parse "{text}": {exc}') from None
    return opaque("URL", text)


def is_url(value: object) -> bool:
    try:
        parse_request_uri(_text(value, "isURL"))
    except URLError:
        return False
    return True


def _getter(name: str, part: str) -> Overload:
    def get(value: object) -> object:
        url = parse(opaque_value(value, "URL", name))
        if part == "scheme":
            return url.scheme
        if part == "host":
            return url.host
        if part == "hostname":
            return hostname(url)
        if part == "port":
            return port(url)
        if part == "path":
            return escaped_path(url)
        return query(url)

    result = T.Map(T.STRING, T.List(T.STRING)) if part == "query" else T.STRING
    return Overload(f"url_get_{part}", (OPAQUE,), result, get, member=True)


FUNCTIONS: tuple[Function, ...] = (
    Function("url", (Overload("string_to_url", (T.STRING,), OPAQUE, to_url),)),
    Function("isURL", (Overload("is_url_string", (T.STRING,), T.BOOL, is_url),)),
    Function("getScheme", (_getter("getScheme", "scheme"),)),
    Function("getHost", (_getter("getHost", "host"),)),
    Function("getHostname", (_getter("getHostname", "hostname"),)),
    Function("getPort", (_getter("getPort", "port"),)),
    Function("getEscapedPath", (_getter("getEscapedPath", "path"),)),
    Function("getQuery", (_getter("getQuery", "query"),)),
)
