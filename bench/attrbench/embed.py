"""Embedding: the verbatim function between two new functions (wrapped in a class where
the language needs methods in one), with the fragment's query rows as the truth."""

from __future__ import annotations

import random
import re

from attrbench.transform import Cut, _indent, new_name

_WORD = re.compile(r"[A-Za-z_]\w*")

FUNCS = {
    "python": "def {f}({a}, {b}):\n    {v} = {a} + {b}\n    if {v} > {n}:\n"
    "        return {v} - {n}\n    return {v}\n",
    "javascript": "function {f}({a}, {b}) {{\n  const {v} = {a} + {b};\n  if ({v} > {n}) {{\n"
    "    return {v} - {n};\n  }}\n  return {v};\n}}\n",
    "typescript": "function {f}({a}: number, {b}: number): number {{\n  const {v} = {a} + {b};\n"
    "  if ({v} > {n}) {{\n    return {v} - {n};\n  }}\n  return {v};\n}}\n",
    "c": "static int {f}(int {a}, int {b})\n{{\n    int {v} = {a} + {b};\n    if ({v} > {n})\n"
    "        return {v} - {n};\n    return {v};\n}}\n",
    "java": "static int {f}(int {a}, int {b}) {{\n    int {v} = {a} + {b};\n"
    "    if ({v} > {n}) {{\n        return {v} - {n};\n    }}\n    return {v};\n}}\n",
    "go": "func {f}({a}, {b} int) int {{\n\t{v} := {a} + {b}\n\tif {v} > {n} {{\n"
    "\t\treturn {v} - {n}\n\t}}\n\treturn {v}\n}}\n",
    "rust": "fn {f}({a}: i64, {b}: i64) -> i64 {{\n    let {v} = {a} + {b};\n"
    "    if {v} > {n} {{\n        return {v} - {n};\n    }}\n    {v}\n}}\n",
}
FUNCS["cpp"] = FUNCS["c"]
FUNCS["tsx"] = FUNCS["typescript"]
CLASS_WRAP = {
    "python": ("class {c}:\n", "    "),
    "java": ("public class {c} {{\n", "    "),
    "javascript": ("class {c} {{\n", "  "),
    "typescript": ("class {c} {{\n", "  "),
}


def new_function(language: str, rng: random.Random, taken: set[str], indent: str = "") -> str:
    names = {k: new_name(rng, language, taken) for k in ("f", "a", "b", "v")}
    text = FUNCS[language].format(n=rng.randint(2, 99), **names)
    return "".join(indent + line if line else line for line in text.splitlines(True))


def embed(cut: Cut, rng: random.Random) -> tuple[str, tuple[int, int]] | None:
    """The verbatim function between two new ones; also the fragment's query rows (1-based)."""
    body = cut.text()
    base = _indent(body.splitlines()[0])
    taken = set(_WORD.findall(cut.data.decode("utf-8", "replace")))
    wrap = cut.language == "java" or (base and cut.language in CLASS_WRAP)
    head, tail = "", ""
    if wrap:
        opener, member_indent = CLASS_WRAP[cut.language]
        if cut.language == "python" and base != member_indent:
            return None
        head = opener.format(c=new_name(rng, "java", taken).capitalize())
        tail = "" if cut.language == "python" else "}\n"
        inner = base or member_indent
    else:
        if base and cut.language == "python":
            return None
        inner = base
    method = wrap and cut.language in ("javascript", "typescript")

    def fresh() -> str:
        text = new_function(cut.language, rng, taken, inner)
        return text.replace("function ", "", 1) if method else text

    before = head + fresh() + "\n"
    after = "\n" + fresh() + tail
    first = before.count("\n") + 1
    return before + body + after, (first, first + body.count("\n") - 1)
