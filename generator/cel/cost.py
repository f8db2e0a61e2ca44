"""The API server's cost limits, applied through a bound on what a rule can cost on a given value.

The API server counts each rule's actual cost as it runs (cel-go's cost tracker: 1 per identifier,
field and call, string operations by length, list functions by size, every comprehension step)
and stops at 1,000,000 per rule and 10,000,000 for all rules of one object. The engine used here
counts nothing, so each rule's cost is bounded before it runs, by the same unit costs: at compile
time as a polynomial in N (the longest list or map) and L (the longest string) of what the rule
reads, and on each value by putting that value's N and L in. A rule whose bound is under its
limit cannot exceed it; one whose bound is over is not run, and says so, so a hostile object
cannot make validation run for ever. Limits from k8s.io/apiserver/pkg/apis/cel/config.go.
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.cel import syntax
from generator.cel.schema import Shape

PER_CALL_LIMIT = 1_000_000  # celconfig.PerCallLimit: one rule on one value
RUNTIME_BUDGET = 10_000_000  # celconfig.RuntimeCELCostBudget: every rule of one object
MAX_REQUEST_BYTES = 3 * 1024 * 1024  # celconfig.MaxRequestSizeBytes
MAX_MESSAGE_BYTES = 5 * 1024  # celconfig.MaxEvaluatedMessageExpressionSizeBytes

Term = tuple[int, int]  # powers of N and L
Poly = dict[Term, float]

ONE: Poly = {(0, 0): 1.0}
ZERO: Poly = {}
N: Poly = {(1, 0): 1.0}
L: Poly = {(0, 1): 1.0}

_STRING_FACTOR = 0.1  # common.StringTraversalCostFactor
_REGEX_FACTOR = 0.25  # common.RegexStringLengthCostFactor
_LIST_CREATE, _MAP_CREATE = 10.0, 30.0

_REGEX = frozenset({"matches", "find", "findAll"})
_LIST_TRAVERSAL = frozenset(
    {"isSorted", "sum", "min", "max", "sets.contains", "sets.equivalent", "sets.intersects", "@in", "join", "format"}
)
_STRING_TRAVERSAL = frozenset(
    {
        "contains", "startsWith", "endsWith", "lowerAscii", "upperAscii", "trim", "replace", "split", "substring",
        "charAt", "indexOf", "lastIndexOf", "join", "format", "strings.quote", "url", "isURL", "quantity",
        "isQuantity", "ip", "isIP", "cidr", "isCIDR", "ip.isCanonical", "containsIP", "containsCIDR",
        "kubernetesValidateFormat", "format.kubernetesNamed", "_<_", "_<=_", "_>_", "_>=_", "_+_", "string",
        "int", "double", "uint", "bytes", "duration", "timestamp", "size",
    }
)  # fmt: skip


def add(*polys: Poly) -> Poly:
    total: Poly = {}
    for poly in polys:
        for term, coefficient in poly.items():
            total[term] = total.get(term, 0.0) + coefficient
    return total


def mul(left: Poly, right: Poly) -> Poly:
    product: Poly = {}
    for (n1, l1), c1 in left.items():
        for (n2, l2), c2 in right.items():
            term = (n1 + n2, l1 + l2)
            product[term] = product.get(term, 0.0) + c1 * c2
    return product


def scale(poly: Poly, factor: float) -> Poly:
    return {term: coefficient * factor for term, coefficient in poly.items()}


def at_most_of_min(left: Poly, right: Poly) -> Poly:
    """A bound of min(left, right): the side with fewer terms (a constant side bounds the other)."""
    if not left or not right:
        return ZERO
    return left if len(left) <= len(right) and all(term == (0, 0) for term in left) else right


def at_most(left: Poly, right: Poly) -> Poly:
    """A bound of max(left, right): the larger coefficient of each term."""
    return {term: max(left.get(term, 0.0), right.get(term, 0.0)) for term in left.keys() | right.keys()}


def evaluate(poly: Poly, lists: int, strings: int) -> float:
    total = 0.0
    for (n, p), c in poly.items():
        total += c * float(lists) ** n * float(strings) ** p
    return total


@dataclass(frozen=True)
class Size:
    """Bounds of a value: its length as a list or map, its length as a string; for a value read from
    the object, its schema node too, which tells a list of strings from a string."""

    items: Poly
    chars: Poly
    shape: Shape | None = None


SCALAR = Size(ZERO, ZERO)
DATA = Size(N, L)  # anything read from the object: lists and maps up to N long, strings up to L


def data(shape: Shape | None) -> Size:
    """The size of a value read from the object at ``shape`` (anything, when the shape is unknown)."""
    if shape is None:
        return DATA
    kind = shape.kind
    if kind in ("list", "map", "object"):
        return Size(N, ZERO, shape)
    if kind in ("string", "bytes"):
        return Size(ZERO, L, shape)
    if kind == "dyn":
        return Size(N, L, shape)
    return Size(ZERO, ZERO, shape)


def _member(size: Size, name: str) -> Size:
    """A field or key of a value read from the object."""
    shape = size.shape
    if shape is None:
        return DATA
    if shape.kind == "object":
        field = shape.by_field.get(name)
        return data(shape.fields[field][1]) if field is not None else DATA
    if shape.kind == "map":
        return data(shape.values)
    return DATA


def _element(size: Size) -> Size:
    """An element of a list (or a key of a map) read from the object."""
    shape = size.shape
    if shape is None:
        return size
    if shape.kind == "list":
        return data(shape.items)
    if shape.kind in ("map", "object"):
        return Size(ZERO, L)  # keys are strings
    return DATA


def _traversal(size: Poly) -> Poly:
    return add(scale(size, _STRING_FACTOR), ONE)  # ceil(0.1 * n) <= 0.1 * n + 1


@dataclass(frozen=True)
class Bound:
    cost: Poly
    size: Size


def bound(checked: syntax.Checked, shape: Shape | None = None) -> Poly:
    """The rule's cost as a polynomial in N and L (see the module docstring); ``shape``: what ``self`` is."""
    return _bound(checked.expr, {"self": data(shape), "oldSelf": data(shape)}).cost


def _bound(node: syntax.Expr, scope: dict[str, Size]) -> Bound:
    if isinstance(node, syntax.Const):
        value = node.value
        length = float(len(value)) if isinstance(value, str | bytes) else 0.0
        return Bound(ZERO, Size(ZERO, {(0, 0): length}))
    if isinstance(node, syntax.Ident):
        return Bound(ONE, scope.get(node.name, DATA))
    if isinstance(node, syntax.Select):
        operand = _bound(node.operand, scope)
        return Bound(add(operand.cost, ONE), SCALAR if node.test_only else _member(operand.size, node.field))
    if isinstance(node, syntax.ListExpr):
        elements = [_bound(element, scope) for element in node.elements]
        chars = ZERO
        for element in elements:
            chars = at_most(chars, element.size.chars)
        items = {(0, 0): float(len(elements))}
        for element in elements:
            items = at_most(items, element.size.items)
        return Bound(add({(0, 0): _LIST_CREATE}, *(e.cost for e in elements)), Size(items, chars))
    if isinstance(node, syntax.MapExpr):
        parts = [_bound(part, scope) for part in syntax.children(node)]
        size = Size({(0, 0): float(len(node.entries))}, ZERO)
        for part in parts:
            size = Size(at_most(size.items, part.size.items), at_most(size.chars, part.size.chars))
        return Bound(add({(0, 0): _MAP_CREATE}, *(p.cost for p in parts)), size)
    if isinstance(node, syntax.Comprehension):
        return _comprehension(node, scope)
    return _call(node, scope)


def _comprehension(node: syntax.Comprehension, scope: dict[str, Size]) -> Bound:
    iter_range = _bound(node.iter_range, scope)
    steps = iter_range.size.items
    element = _element(iter_range.size)
    init = _bound(node.accu_init, scope)
    inner = dict(scope)
    inner[node.iter_var] = element
    if node.iter_var2:
        inner[node.iter_var2] = element
    # the accumulator: a bool or count for all/exists/exists_one, a list of up to `steps` for map/filter
    inner[node.accu_var] = Size(add(init.size.items, steps), at_most(init.size.chars, element.chars))
    condition = _bound(node.loop_condition, inner)
    step = _bound(node.loop_step, inner)
    result = _bound(node.result, inner)
    cost = add(iter_range.cost, init.cost, mul(steps, add(condition.cost, step.cost)), result.cost)
    return Bound(cost, result.size)


def _call(node: syntax.Call, scope: dict[str, Size]) -> Bound:
    args = [_bound(arg, scope) for arg in ([node.target] if node.target is not None else []) + node.args]
    cost = add(ONE, *(arg.cost for arg in args))
    name = node.function
    sizes = [arg.size for arg in args]
    chars = add(*(size.chars for size in sizes)) if sizes else ZERO
    items = add(*(size.items for size in sizes)) if sizes else ZERO
    if name in ("_==_", "_!=_") and len(sizes) == 2:  # cel-go: the shorter side is traversed
        shorter = Size(at_most_of_min(sizes[0].items, sizes[1].items), at_most_of_min(sizes[0].chars, sizes[1].chars))
        cost = add(cost, _traversal(shorter.chars), shorter.items)
    elif name in _REGEX and len(sizes) >= 2:
        cost = add(cost, mul(_traversal(add(sizes[0].chars, ONE)), add(scale(sizes[1].chars, _REGEX_FACTOR), ONE)))
    elif name == "contains" and len(sizes) >= 2:
        cost = add(cost, mul(_traversal(sizes[0].chars), _traversal(sizes[1].chars)))
    elif name in _LIST_TRAVERSAL or name in ("indexOf", "lastIndexOf"):
        cost = add(cost, items, _traversal(chars))
    elif name in _STRING_TRAVERSAL:
        cost = add(cost, _traversal(chars))
    return Bound(cost, _result(name, sizes))


def _result(name: str, sizes: list[Size]) -> Size:
    """The size of what a call returns."""
    chars = add(*(size.chars for size in sizes)) if sizes else ZERO
    if name in ("split", "findAll"):
        first = sizes[0].chars if sizes else ZERO
        return Size(add(first, ONE), first)
    if name == "replace" and len(sizes) >= 3:
        source, replacement = sizes[0].chars, sizes[2].chars
        return Size(ZERO, add(source, mul(add(source, ONE), replacement)))
    if name in ("join", "format") and sizes:
        per_item = add(*(size.chars for size in sizes), {(0, 0): 32.0})  # a number or short value per item
        return Size(ZERO, add(chars, mul(add(*(size.items for size in sizes)), per_item)))
    if name == "_+_":
        return Size(add(*(size.items for size in sizes)), chars)
    if name in ("_[_]", "_[?_]") and sizes:
        return _element(sizes[0]) if sizes[0].shape is not None and sizes[0].shape.kind == "list" else sizes[0]
    if name in ("orValue", "value", "optional.of", "dyn", "getQuery"):
        return sizes[0] if sizes else DATA
    if name in ("string", "strings.quote", "lowerAscii", "upperAscii", "trim", "substring", "charAt", "find"):
        return Size(ZERO, add(scale(chars, 2.0), {(0, 0): 32.0}))
    return Size(ZERO, chars) if chars else SCALAR
