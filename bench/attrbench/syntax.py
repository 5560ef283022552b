"""Syntax facts the transformations need, from the tree-sitter tree of the whole file:
which identifiers are bound locally (renamable), which lines hold one statement, which
lines must not be touched (inside multi-line strings, macro continuations)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

# Identifier occurrences under these nodes (within a few levels) bind a local name.
BIND_TYPES = frozenset(
    {
        "parameters",
        "parameter",
        "formal_parameter",
        "formal_parameters",
        "parameter_declaration",
        "parameter_list",
        "default_parameter",
        "typed_parameter",
        "typed_default_parameter",
        "lambda_parameters",
        "required_parameter",
        "optional_parameter",
        "variable_declarator",
        "init_declarator",
        "pointer_declarator",
        "array_declarator",
        "reference_declarator",
        "var_spec",
        "const_spec",
        "let_declaration",
        "local_variable_declaration",
        "catch_clause",
        "catch_formal_parameter",
        "closure_parameters",
        "as_pattern_target",
        "pattern_list",
        "tuple_pattern",
        "spread_parameter",
        "variadic_parameter_declaration",
    }
)
# Assignment-like nodes: the identifiers in their `left` field are bound.
ASSIGN_TYPES = frozenset(
    {
        "assignment",
        "augmented_assignment",
        "assignment_expression",
        "short_var_declaration",
        "for_statement",
        "for_in_clause",
        "for_in_statement",
        "range_clause",
        "enhanced_for_statement",
        "for_expression",
    }
)
# An occurrence in one of these (node type, field) positions is not a variable reference.
NOT_A_VARIABLE = frozenset(
    {
        ("attribute", "attribute"),
        ("keyword_argument", "name"),
        ("method_invocation", "name"),
        ("field_access", "field"),
        ("call_expression", "function"),
        ("call", "function"),
        ("macro_invocation", "macro"),
        ("scoped_identifier", "name"),
        ("scoped_identifier", "path"),
        ("qualified_identifier", "name"),
        ("qualified_identifier", "scope"),
        ("labeled_statement", "label"),
    }
)
STOP_TYPES = frozenset({"block", "compound_statement", "statement_block", "module", "program"})
STATEMENT_TYPES = frozenset(
    {
        "expression_statement",
        "return_statement",
        "declaration",
        "local_variable_declaration",
        "lexical_declaration",
        "variable_declaration",
        "let_declaration",
        "short_var_declaration",
        "assignment_statement",
        "inc_statement",
        "dec_statement",
        "send_statement",
        "break_statement",
        "continue_statement",
        "pass_statement",
        "raise_statement",
        "throw_statement",
        "assert_statement",
        "delete_statement",
        "call_expression",
        "var_declaration",
        "const_declaration",
        "go_statement",
        "defer_statement",
    }
)
COMMON_NAMES = frozenset(
    [
        "self",
        "cls",
        "this",
        "super",
        "args",
        "kwargs",
        "argc",
        "argv",
        "err",
        "ok",
        "ctx",
        "_",
        "__",
        "i",
        "j",
        "print",
        "len",
        "range",
        "str",
        "int",
        "list",
        "dict",
        "set",
        "tuple",
        "object",
        "type",
        "None",
        "True",
        "False",
        "console",
        "window",
        "document",
        "module",
        "exports",
        "require",
        "undefined",
        "null",
        "std",
        "printf",
        "malloc",
        "free",
        "size_t",
        "NULL",
        "errno",
        "stdin",
        "stdout",
        "stderr",
    ]
)


@cache
def parser(language: str) -> Any:
    import tree_sitter

    from attribution.core.languages import grammar

    return tree_sitter.Parser(grammar(language))


def parse(data: bytes, language: str) -> Any:
    return parser(language).parse(data)


def walk(node: Any) -> Iterator[Any]:
    """Every node under node (pre-order)."""
    cursor = node.walk()
    while True:
        yield cursor.node
        if cursor.goto_first_child():
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return


def nodes_in(tree: Any, b0: int, b1: int) -> Iterator[Any]:
    """Nodes lying wholly inside the byte range [b0, b1)."""
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.end_byte <= b0 or node.start_byte >= b1:
            continue
        if node.start_byte >= b0 and node.end_byte <= b1:
            yield node
        stack.extend(reversed(node.children))


def _field_of(node: Any) -> str | None:
    parent = node.parent
    if parent is None:
        return None
    for i, child in enumerate(parent.children):
        if child.id == node.id:
            name: str | None = parent.field_name_for_child(i)
            return name
    return None


def is_reference(node: Any) -> bool:
    """An identifier occurrence that names a variable (not an attribute, call or label)."""
    parent = node.parent
    return parent is None or (parent.type, _field_of(node)) not in NOT_A_VARIABLE


def is_binding(node: Any) -> bool:
    """An identifier occurrence that declares or assigns a local name."""
    child, parent = node, node.parent
    for _ in range(4):
        if parent is None or parent.type in STOP_TYPES:
            return False
        if parent.type in BIND_TYPES:
            return True
        if parent.type in ASSIGN_TYPES:
            left = parent.child_by_field_name("left") or parent.child_by_field_name("pattern")
            return left is not None and left.start_byte <= node.start_byte < left.end_byte
        child, parent = parent, parent.parent
    del child
    return False


@dataclass
class Occurrence:
    name: str
    start: int
    end: int
    reference: bool


def identifiers(tree: Any, data: bytes, b0: int, b1: int) -> tuple[list[Occurrence], set[str]]:
    """Plain identifier occurrences in [b0, b1) and the names bound there."""
    occ: list[Occurrence] = []
    bound: set[str] = set()
    for node in nodes_in(tree, b0, b1):
        if node.type != "identifier":
            continue
        name = data[node.start_byte : node.end_byte].decode("utf-8", "replace")
        occ.append(Occurrence(name, node.start_byte, node.end_byte, is_reference(node)))
        if is_binding(node):
            bound.add(name)
    return occ, bound


def literals(tree: Any, b0: int, b1: int) -> list[tuple[str, int, int]]:
    """("string" | "number", start, end) of literals in [b0, b1)."""
    from attribution.core.languages import NUMBER_TYPES, STRING_TYPES

    out = []
    for node in nodes_in(tree, b0, b1):
        if node.type in STRING_TYPES:
            out.append(("string", node.start_byte, node.end_byte))
        elif node.type in NUMBER_TYPES:
            out.append(("number", node.start_byte, node.end_byte))
    return out


def statement_rows(tree: Any, data: bytes, b0: int, b1: int) -> dict[int, Any]:
    """0-based rows that hold one single-line statement, alone on its line."""
    rows: dict[int, Any] = {}
    for node in nodes_in(tree, b0, b1):
        if node.type not in STATEMENT_TYPES or node.start_point.row != node.end_point.row:
            continue
        line_start = data.rfind(b"\n", 0, node.start_byte) + 1
        line_end = data.find(b"\n", node.end_byte)
        line_end = len(data) if line_end < 0 else line_end
        if data[line_start : node.start_byte].strip() or data[node.end_byte : line_end].strip(
            b" \t;\r"
        ):
            continue
        rows.setdefault(node.start_point.row, node)
    return rows


def protected_rows(tree: Any, data: bytes) -> set[int]:
    """Rows that a layout change must leave alone: the rows after the first of a
    multi-line token (strings, template literals, block comments), and the rows on both
    sides of a backslash line continuation."""
    rows: set[int] = set()
    for node in walk(tree.root_node):
        if node.start_point.row == node.end_point.row:
            continue
        if node.child_count == 0 or node.type in (
            "string",
            "template_string",
            "raw_string_literal",
            "string_literal",
            "concatenated_string",
            "interpreted_string_literal",
            "preproc_def",
            "preproc_function_def",
        ):
            rows.update(range(node.start_point.row + 1, node.end_point.row + 1))
    for row, line in enumerate(data.split(b"\n")):
        if line.rstrip().endswith(b"\\"):
            rows.update((row, row + 1))
    return rows
