"""The Kubernetes CEL libraries, on the examples the Kubernetes sources document for them
(k8s.io/apiserver/pkg/cel/library/*.go doc comments) and the API server's behaviour around them."""

from __future__ import annotations

from typing import Any

import pytest

from generator.cel.environment import CompileError, compile_rule


def _evaluate(expression: str, data: Any = None) -> Any:
    return compile_rule(expression).expression.eval(data={"self": data})


TRUE = [
    # lists.go
    "[1, 2, 3].isSorted()",
    "['a', 'b', 'b', 'c'].isSorted()",
    "![2.0, 1.0].isSorted()",
    "[].isSorted()",
    "[1, 3].sum() == 4",
    "[1.0, 3.0].sum() == 4.0",
    "[duration('1m'), duration('1s')].sum() == duration('1m1s')",
    "[1, 3].min() == 1",
    "[1, 3].max() == 3",
    "[1, 2, 2, 3].indexOf(2) == 1",
    "['a', 'b', 'b', 'c'].lastIndexOf('b') == 2",
    "[1.0].indexOf(1.1) == -1",
    "[timestamp('2020-01-01T00:00:00Z'), timestamp('2021-01-01T00:00:00Z')].max() == timestamp('2021-01-01T00:00:00Z')",
    # regex.go
    "'abc 123'.find('[0-9]+') == '123'",
    "'abc 123'.find('xyz') == ''",
    "'123 abc 456'.findAll('[0-9]+') == ['123', '456']",
    "'123 abc 456'.findAll('[0-9]+', 1) == ['123']",
    "'123 abc 456'.findAll('xyz') == []",
    # urls.go
    "isURL('https://user:pass@example.com:80/path?query=val#fragment')",
    "isURL('/absolute-path')",
    "!isURL('https://a:b:c/')",
    "!isURL('../relative-path')",
    "url('/path').getScheme() == ''",
    "url('https://example.com/').getScheme() == 'https'",
    "url('https://example.com:80/').getHost() == 'example.com:80'",
    "url('https://example.com/').getHost() == 'example.com'",
    "url('https://[::1]:80/').getHost() == '[::1]:80'",
    "url('https://[::1]/').getHost() == '[::1]'",
    "url('/path').getHost() == ''",
    "url('https://example.com:80/').getHostname() == 'example.com'",
    "url('https://127.0.0.1:80/').getHostname() == '127.0.0.1'",
    "url('https://[::1]:80/').getHostname() == '::1'",
    "url('https://example.com:80/').getPort() == '80'",
    "url('https://example.com/').getPort() == ''",
    "url('https://example.com/path').getEscapedPath() == '/path'",
    "url('https://example.com/path with spaces/').getEscapedPath() == '/path%20with%20spaces/'",
    "url('https://example.com').getEscapedPath() == ''",
    "url('https://example.com/path?k1=a&k2=b&k2=c').getQuery() == {'k1': ['a'], 'k2': ['b', 'c']}",
    "url('https://example.com/path?key with spaces=value with spaces').getQuery() == "
    "{'key with spaces': ['value with spaces']}",
    "url('https://example.com/path?').getQuery() == {}",
    "url('https://example.com/path').getQuery() == {}",
    # quantity.go
    "isQuantity('1.3G')",
    "isQuantity('1.3Gi')",
    "!isQuantity('1,3G')",
    "isQuantity('10000k')",
    "!isQuantity('200K')",
    "!isQuantity('Three')",
    "quantity('50000000G').isInteger()",
    "quantity('50k').isInteger()",
    "!quantity('9999999999999999999999999999999999999G').isInteger()",
    "quantity('50k').asInteger() == 50000",
    "quantity('50k').sub(20000).asApproximateFloat() == 30000.0",
    "quantity('50k').add(quantity('20k')) == quantity('70k')",
    "quantity('50k').add(20) == quantity('50020')",
    "quantity('50k').sub(quantity('20k')) == quantity('30k')",
    "quantity('50k').sub(20000) == quantity('30k')",
    "quantity('50k').add(20).sub(quantity('100k')).sub(-50000) == quantity('20')",
    "quantity('200M').compareTo(quantity('0.2G')) == 0",
    "quantity('50M').compareTo(quantity('50Mi')) == -1",
    "quantity('50Mi').compareTo(quantity('50M')) == 1",
    "quantity('150Mi').isGreaterThan(quantity('100Mi'))",
    "!quantity('50Mi').isGreaterThan(quantity('100Mi'))",
    "quantity('50M').isLessThan(quantity('100M'))",
    "!quantity('100M').isLessThan(quantity('50M'))",
    "quantity('1Gi') == quantity('1024Mi')",
    "quantity('0.1n') == quantity('1n')",  # non-zero values round up to 1n
    "quantity('-10').sign() == -1 && quantity('0').sign() == 0",
    # ip.go
    "ip('127.0.0.1').family() == 4",
    "ip('::1').family() == 6",
    "isIP('127.0.0.1')",
    "isIP('::1')",
    "!isIP('127.0.0.256')",
    "!isIP(':::1')",
    "!isIP('::ffff:1.2.3.4')",
    "!isIP('fe80::1%eth0')",
    "!isIP('127.0.0.01')",
    "ip.isCanonical('127.0.0.1')",
    "ip.isCanonical('2001:db8::abcd')",
    "!ip.isCanonical('2001:DB8::ABCD')",
    "!ip.isCanonical('2001:db8::0:0:0:abcd')",
    "ip('0.0.0.0').isUnspecified()",
    "!ip('127.0.0.1').isUnspecified()",
    "ip('::').isUnspecified()",
    "ip('127.0.0.1').isLoopback()",
    "!ip('192.168.0.1').isLoopback()",
    "ip('::1').isLoopback()",
    "!ip('2001:db8::abcd').isLoopback()",
    "ip('224.0.0.1').isLinkLocalMulticast()",
    "!ip('224.0.1.1').isLinkLocalMulticast()",
    "ip('ff02::1').isLinkLocalMulticast()",
    "!ip('fd00::1').isLinkLocalMulticast()",
    "ip('169.254.169.254').isLinkLocalUnicast()",
    "!ip('192.168.0.1').isLinkLocalUnicast()",
    "ip('fe80::1').isLinkLocalUnicast()",
    "!ip('fd80::1').isLinkLocalUnicast()",
    "ip('192.168.0.1').isGlobalUnicast()",
    "!ip('255.255.255.255').isGlobalUnicast()",
    "ip('2001:db8::abcd').isGlobalUnicast()",
    "!ip('ff00::1').isGlobalUnicast()",
    "string(ip('2001:DB8::0:0:0:ABCD')) == '2001:db8::abcd'",
    # cidr.go
    "isCIDR('192.168.0.0/16')",
    "!isCIDR('192.168.0.0/33')",
    "!isCIDR('192.168.0.0')",
    "cidr('192.168.0.0/24').containsIP(ip('192.168.0.1'))",
    "!cidr('192.168.0.0/24').containsIP(ip('192.168.1.1'))",
    "cidr('192.168.0.0/24').containsIP('192.168.0.1')",
    "cidr('192.168.0.0/24').containsCIDR(cidr('192.168.0.0/25'))",
    "!cidr('192.168.0.0/24').containsCIDR(cidr('192.168.0.0/23'))",
    "cidr('192.168.0.0/24').containsCIDR('192.168.0.0/25')",
    "cidr('192.168.0.0/24').ip() == ip('192.168.0.0')",
    "cidr('192.168.0.1/24').masked() == cidr('192.168.0.0/24')",
    "cidr('192.168.0.0/24').prefixLength() == 24",
    "string(cidr('192.168.0.1/24').masked()) == '192.168.0.0/24'",
    "cidr('::1/128').ip().family() == 6",
    # format.go
    "!format.dns1123Label().validate('my-label-name').hasValue()",
    "format.dns1123Label().validate('My_Label').hasValue()",
    "format.dns1123Label().validate('a.b').value() == ['must not contain dots']",
    "!format.dns1123Subdomain().validate('apiextensions.k8s.io').hasValue()",
    "!format.dns1035Label().validate('my-label-name').hasValue()",
    "format.dns1035Label().validate('1abc').hasValue()",
    "!format.qualifiedName().validate('apiextensions.k8s.io/v1beta1').hasValue()",
    "!format.dns1123LabelPrefix().validate('my-label-prefix-').hasValue()",
    "!format.labelValue().validate('').hasValue()",
    "!format.uri().validate('http://example.com').hasValue()",
    "format.uri().validate('example').hasValue()",
    "!format.uuid().validate('123e4567-e89b-12d3-a456-426614174000').hasValue()",
    "!format.byte().validate('aGVsbG8=').hasValue()",
    "format.byte().validate('not base64!').value() == ['invalid base64']",
    "!format.date().validate('2021-01-01').hasValue()",
    "!format.datetime().validate('2021-01-01T00:00:00Z').hasValue()",
    "format.named('dns1123Label').hasValue()",
    "!format.named('noSuchFormat').hasValue()",
    "!format.named('dns1123Label').value().validate('web').hasValue()",
    # cel-go ext.Strings (version 2) and ext.Sets
    "'hello'.charAt(1) == 'e'",
    "'hello mellow'.indexOf('ello') == 1",
    "'hello mellow'.indexOf('ello', 2) == 7",
    "'hello mellow'.lastIndexOf('ello') == 7",
    "'TacoCat'.lowerAscii() == 'tacocat'",
    "'TacoCÆt Xii'.upperAscii() == 'TACOCÆT XII'",
    "'hello hello'.replace('he', 'we') == 'wello wello'",
    "'hello hello'.replace('he', 'we', 1) == 'wello hello'",
    "'hello hello hello'.split(' ') == ['hello', 'hello', 'hello']",
    "'hello hello hello'.split(' ', 2) == ['hello', 'hello hello']",
    "'tacocat'.substring(4) == 'cat'",
    "'tacocat'.substring(0, 4) == 'taco'",
    "'  \\ttrim\\n    '.trim() == 'trim'",
    "['hello', 'mellow'].join() == 'hellomellow'",
    "['hello', 'mellow'].join(' ') == 'hello mellow'",
    "'%s is %d years old'.format(['Alice', 30]) == 'Alice is 30 years old'",
    'strings.quote(\'single-quote with "double quote"\') == \'"single-quote with \\\\"double quote\\\\""\'',
    "sets.contains([1, 2, 3, 4], [2, 3])",
    "sets.equivalent([1, 2, 3], [3, 2, 1])",
    "sets.intersects([1, 2, 3], [3, 4, 5])",
    "!sets.intersects([1, 2], [3])",
    # the API server compares int with double (cel.CrossTypeNumericComparisons)
    "1 < 1.5",
    "[1, 2].size() > 1.5",
    # optionals
    "{'a': 1}.?a.orValue(2) == 1",
    "{'a': 1}.?b.orValue(2) == 2",
    "optional.of(1).hasValue()",
    "!optional.none().hasValue()",
]


@pytest.mark.parametrize("expression", TRUE)
def test_documented_examples(expression: str) -> None:
    result = _evaluate(expression)
    assert result.value() is True, (expression, result.type(), result.value())


ERRORS = [
    ("[].min()", "min called on empty list"),
    ("quantity('200K') == quantity('1')", "unable to parse quantity's suffix"),
    ("quantity('9999999999999999999999999999999999999G').asInteger() == 1", "cannot convert value to integer"),
    ("url('../relative-path') == url('/')", "invalid URI for request"),
    ("ip('127.0.0.256') == ip('127.0.0.1')", "parse error"),
    ("ip('::ffff:1.2.3.4') == ip('::1')", "IPv4-mapped IPv6 address"),
    ("'abc'.find('(') == ''", "Illegal regex"),
    ("'abc'.charAt(4) == ''", "charAt"),
]


@pytest.mark.parametrize(("expression", "error"), ERRORS)
def test_documented_errors(expression: str, error: str) -> None:
    result = _evaluate(expression)
    assert error in str(result.value())


def test_a_function_not_provided_does_not_compile() -> None:
    with pytest.raises(CompileError, match="undeclared reference to 'semverish'"):
        compile_rule("semverish(self) == 1")


def test_a_rule_must_be_a_bool() -> None:
    with pytest.raises(CompileError, match="must evaluate to a bool"):
        compile_rule("'text'")


def test_quantity_with_a_huge_exponent_is_held_without_expanding_it() -> None:
    assert _evaluate("quantity('1e999999999').isGreaterThan(quantity('1e999999998'))").value() is True
    assert _evaluate("quantity('1e-999999999') == quantity('1n')").value() is True
