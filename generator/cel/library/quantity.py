"""The Kubernetes quantity library (k8s.io/apiserver/pkg/cel/library/quantity.go).

Parsing follows apimachinery's ``resource.ParseQuantity``: its scanner (so ``1.G`` and ``+.5`` parse,
``200K`` does not), its suffixes, its rounding of non-zero values up to 1n and its cap of binary-SI
values at 2^63-1. A quantity travels as its exact value, a mantissa without trailing zeros and a
power of ten (``15e8`` for 1.5G), so map equality is the API server's ``Equal`` and a huge exponent
(``1e999999999``) costs nothing to hold. One difference: apimachinery answers ``isInteger`` by how a
value is stored (``1.0`` and ``1.5Gi`` are held as decimals and say false); here an integral value
in int64 range is an integer.
"""

from __future__ import annotations

from generator.cel.library.values import OPAQUE, Function, NoSuchOverload, Overload, T, opaque, opaque_value

INT64_MAX = 2**63 - 1
NANO_EXPONENT = -9
ALIGN_LIMIT = 4096  # digits: sums of quantities further apart than this are refused, not computed
_DECIMAL_SI = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_BINARY_SI = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_SUFFIX_CHARS = frozenset("eEinumkKMGTP")
_FORMAT_WRONG = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"

Decimal = tuple[int, int]  # mantissa, power of ten


def _scan(text: str) -> tuple[bool, str, str, str]:
    """apimachinery's parseQuantityString: (positive, numerator, denominator, suffix)."""
    positive, pos, end = True, 0, len(text)
    if pos < end and text[0] in "+-":
        positive = text[0] == "+"
        pos += 1
    while pos < end and text[pos] == "0":
        pos += 1
    if pos >= end:
        return positive, "0", "", ""
    start = pos
    while pos < end and text[pos].isascii() and text[pos].isdigit():
        pos += 1
    numerator = text[start:pos] or "0"
    denominator = ""
    if pos < end and text[pos] == ".":
        pos += 1
        start = pos
        while pos < end and text[pos].isascii() and text[pos].isdigit():
            pos += 1
        denominator = text[start:pos]
    suffix_start = pos
    while pos < end and text[pos] in _SUFFIX_CHARS:
        pos += 1
    if pos < end and text[pos] in "+-":
        pos += 1
    while pos < end and text[pos].isascii() and text[pos].isdigit():
        pos += 1
    if pos < end:
        raise ValueError(_FORMAT_WRONG)
    return positive, numerator, denominator, text[suffix_start:]


def _ten(exponent: int) -> int:
    return int(10**exponent)


def _normal(mantissa: int, exponent: int) -> Decimal:
    if mantissa == 0:
        return 0, 0
    while mantissa % 10 == 0:
        mantissa //= 10
        exponent += 1
    return mantissa, exponent


def _digits(mantissa: int) -> int:
    return len(str(abs(mantissa)))


def _magnitude_order(value: Decimal) -> int:
    """floor(log10(|value|)) + 1, for non-zero values."""
    return _digits(value[0]) + value[1]


def _compare(left: Decimal, right: Decimal) -> int:
    (a, x), (b, y) = left, right
    if (a > 0) != (b > 0) or a == 0 or b == 0:
        return (a > b) - (a < b)
    sign = 1 if a > 0 else -1
    order_a, order_b = _magnitude_order(left), _magnitude_order(right)
    if order_a != order_b:
        return sign if order_a > order_b else -sign
    low = min(x, y)
    scaled_a, scaled_b = a * _ten(x - low), b * _ten(y - low)
    return (scaled_a > scaled_b) - (scaled_a < scaled_b)


def _round_up_to_nano(mantissa: int, exponent: int) -> Decimal:
    """Non-zero values below 1n become 1n; finer digits round away from zero (inf.RoundUp)."""
    if mantissa == 0 or exponent >= NANO_EXPONENT:
        return _normal(mantissa, exponent)
    shift = NANO_EXPONENT - exponent
    sign = 1 if mantissa > 0 else -1
    magnitude = abs(mantissa)
    if _digits(magnitude) <= shift:
        return _normal(sign, NANO_EXPONENT)
    whole, rest = divmod(magnitude, _ten(shift))
    return _normal(sign * (whole + (1 if rest else 0)), NANO_EXPONENT)


def parse(text: str) -> Decimal:
    """The exact value of a quantity string, or ValueError with apimachinery's message."""
    if not text:
        raise ValueError(_FORMAT_WRONG)
    positive, numerator, denominator, suffix = _scan(text)
    mantissa, exponent = int(numerator + denominator), -len(denominator)
    if suffix in _DECIMAL_SI:
        exponent += _DECIMAL_SI[suffix]
    elif suffix in _BINARY_SI:
        mantissa <<= _BINARY_SI[suffix]
        if _compare(_normal(mantissa, exponent), (INT64_MAX, 0)) > 0:
            mantissa, exponent = INT64_MAX, 0
    elif len(suffix) > 1 and suffix[0] in "eE" and _is_integer(suffix[1:]):
        exponent += _int32(int(suffix[1:]))
    else:
        raise ValueError("unable to parse quantity's suffix")
    return _round_up_to_nano(mantissa if positive else -mantissa, exponent)


def _int32(value: int) -> int:
    """Go's int32() of a parsed int64 exponent: it wraps."""
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def _is_integer(text: str) -> bool:
    digits = text[1:] if text[:1] in "+-" else text
    return digits.isascii() and digits.isdigit() and len(digits) <= 19


def _quantity(value: Decimal) -> dict[str, str]:
    mantissa, exponent = _normal(*value)
    return opaque("Quantity", f"{mantissa}e{exponent}")


def _value(value: object, function: str) -> Decimal:
    mantissa, _, exponent = opaque_value(value, "Quantity", function).partition("e")
    return int(mantissa), int(exponent)


def to_quantity(value: object) -> dict[str, str]:
    if not isinstance(value, str):
        raise NoSuchOverload("quantity", value)
    return _quantity(parse(value))


def is_quantity(value: object) -> bool:
    if not isinstance(value, str):
        raise NoSuchOverload("isQuantity", value)
    try:
        parse(value)
    except ValueError:
        return False
    return True


def _integer(value: object, function: str) -> int | None:
    mantissa, exponent = _value(value, function)
    if exponent < 0 or exponent > 19:
        return None if mantissa else 0
    whole = mantissa * _ten(exponent)
    return whole if -(2**63) <= whole <= INT64_MAX else None


def is_integer(value: object) -> bool:
    return _integer(value, "isInteger") is not None


def as_integer(value: object) -> int:
    result = _integer(value, "asInteger")
    if result is None:
        raise ValueError("cannot convert value to integer")
    return result


def as_float(value: object) -> float:
    mantissa, exponent = _value(value, "asApproximateFloat")
    if mantissa == 0:
        return 0.0
    if _magnitude_order((mantissa, exponent)) > 310:
        return float("inf") if mantissa > 0 else float("-inf")
    if _magnitude_order((mantissa, exponent)) < -330:
        return 0.0
    return float(mantissa) * 10.0**exponent if exponent >= 0 else mantissa / 10.0 ** (-exponent)


def sign(value: object) -> int:
    mantissa, _ = _value(value, "sign")
    return (mantissa > 0) - (mantissa < 0)


def _operand(value: object, function: str) -> Decimal:
    if isinstance(value, int) and not isinstance(value, bool):
        return _normal(value, 0)
    return _value(value, function)


def _sum(left: Decimal, right: Decimal, function: str) -> Decimal:
    (a, x), (b, y) = left, right
    if a == 0 or b == 0:
        return left if b == 0 else right
    if abs(x - y) > ALIGN_LIMIT:
        raise ValueError(f"{function}: quantities too far apart to add exactly")
    low = min(x, y)
    return _normal(a * _ten(x - low) + b * _ten(y - low), low)


def add(left: object, right: object) -> dict[str, str]:
    return _quantity(_sum(_value(left, "add"), _operand(right, "add"), "add"))


def subtract(left: object, right: object) -> dict[str, str]:
    mantissa, exponent = _operand(right, "sub")
    return _quantity(_sum(_value(left, "sub"), (-mantissa, exponent), "sub"))


def multiply(left: object, factor: object) -> dict[str, str]:
    if not isinstance(factor, int) or isinstance(factor, bool):
        raise NoSuchOverload("mul", left, factor)
    mantissa, exponent = _value(left, "mul")
    return _quantity((mantissa * factor, exponent))


def _ordering(function: str, left: object, right: object) -> int:
    return _compare(_value(left, function), _value(right, function))


def compare_to(left: object, right: object) -> int:
    return _ordering("compareTo", left, right)


def is_greater_than(left: object, right: object) -> bool:
    return _ordering("isGreaterThan", left, right) == 1


def is_less_than(left: object, right: object) -> bool:
    return _ordering("isLessThan", left, right) == -1


def _member(name: str, overload: str, params: tuple[object, ...], result: object, impl: object) -> Overload:
    return Overload(overload, params, result, impl, member=True)  # type: ignore[arg-type]


FUNCTIONS: tuple[Function, ...] = (
    Function("quantity", (Overload("string_to_quantity", (T.STRING,), OPAQUE, to_quantity),)),
    Function("isQuantity", (Overload("is_quantity_string", (T.STRING,), T.BOOL, is_quantity),)),
    Function(
        "sign",
        (
            Overload("quantity_sign", (OPAQUE,), T.INT, sign),
            _member("sign", "quantity_sign_member", (OPAQUE,), T.INT, sign),
        ),
    ),
    Function("isInteger", (_member("isInteger", "quantity_is_integer", (OPAQUE,), T.BOOL, is_integer),)),
    Function("asInteger", (_member("asInteger", "quantity_get_int", (OPAQUE,), T.INT, as_integer),)),
    Function(
        "asApproximateFloat", (_member("asApproximateFloat", "quantity_get_float", (OPAQUE,), T.DOUBLE, as_float),)
    ),
    Function(
        "add",
        (
            _member("add", "quantity_add", (OPAQUE, OPAQUE), OPAQUE, add),
            _member("add", "quantity_add_int", (OPAQUE, T.INT), OPAQUE, add),
        ),
    ),
    Function(
        "sub",
        (
            _member("sub", "quantity_sub", (OPAQUE, OPAQUE), OPAQUE, subtract),
            _member("sub", "quantity_sub_int", (OPAQUE, T.INT), OPAQUE, subtract),
        ),
    ),
    Function("mul", (_member("mul", "quantity_multiply_int", (OPAQUE, T.INT), OPAQUE, multiply),)),
    Function("compareTo", (_member("compareTo", "quantity_compare_to", (OPAQUE, OPAQUE), T.INT, compare_to),)),
    Function(
        "isGreaterThan",
        (_member("isGreaterThan", "quantity_is_greater_than", (OPAQUE, OPAQUE), T.BOOL, is_greater_than),),
    ),
    Function("isLessThan", (_member("isLessThan", "quantity_is_less_than", (OPAQUE, OPAQUE), T.BOOL, is_less_than),)),
)
