"""Boilerplate negatives: code in the spirit of what very many files hold, written here
(main guards, import blocks, getters/setters, license headers, argument parsing). None
of it is a finding: the truth for every one is `no_match`."""

from __future__ import annotations

import random
from collections.abc import Callable

from attrbench.transform import WORDS, new_name

PY_MODULES = [
    "os",
    "sys",
    "re",
    "json",
    "time",
    "logging",
    "argparse",
    "collections",
    "functools",
    "itertools",
    "typing",
    "pathlib",
    "subprocess",
    "shutil",
    "tempfile",
    "hashlib",
    "datetime",
    "math",
    "random",
    "threading",
]
JS_MODULES = [
    "fs",
    "path",
    "util",
    "events",
    "http",
    "https",
    "crypto",
    "os",
    "stream",
    "url",
    "assert",
    "child_process",
]
C_HEADERS = [
    "stdio",
    "stdlib",
    "string",
    "stdint",
    "stddef",
    "errno",
    "unistd",
    "assert",
    "limits",
    "ctype",
    "math",
]
GO_PACKAGES = [
    "fmt",
    "os",
    "io",
    "strings",
    "bytes",
    "errors",
    "sort",
    "strconv",
    "time",
    "sync",
    "context",
    "net/http",
]
JAVA_IMPORTS = [
    "java.util.List",
    "java.util.Map",
    "java.util.ArrayList",
    "java.util.HashMap",
    "java.io.IOException",
    "java.io.File",
    "java.util.Objects",
    "java.util.Optional",
    "java.nio.file.Path",
    "java.util.Set",
]
RUST_USES = [
    "std::collections::HashMap",
    "std::io",
    "std::fs",
    "std::path::PathBuf",
    "std::fmt",
    "std::sync::Arc",
    "std::error::Error",
    "std::io::Read",
    "std::io::Write",
]
LICENSES = (
    (
        "MIT",
        "Permission is hereby granted, free of charge, to any person obtaining a copy\n"
        'of this software and associated documentation files (the "Software"), to deal\n'
        "in the Software without restriction, including without limitation the rights\n"
        "to use, copy, modify, merge, publish, distribute, sublicense, and/or sell\n"
        "copies of the Software, and to permit persons to whom the Software is\n"
        "furnished to do so, subject to the following conditions:",
    ),
    (
        "Apache-2.0",
        'Licensed under the Apache License, Version 2.0 (the "License");\n'
        "you may not use this file except in compliance with the License.\n"
        "You may obtain a copy of the License at\n\n"
        "    http://www.apache.org/licenses/LICENSE-2.0\n\n"
        "Unless required by applicable law or agreed to in writing, software\n"
        'distributed under the License is distributed on an "AS IS" BASIS,\n'
        "WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.",
    ),
    (
        "GPL-2.0",
        "This program is free software; you can redistribute it and/or modify\n"
        "it under the terms of the GNU General Public License as published by\n"
        "the Free Software Foundation; either version 2 of the License, or\n"
        "(at your option) any later version.",
    ),
)
Maker = Callable[[random.Random], str]


def _pick(rng: random.Random, items: list[str] | tuple[str, ...], lo: int, hi: int) -> list[str]:
    return rng.sample(list(items), rng.randint(lo, min(hi, len(items))))


def main_guard(language: str, rng: random.Random) -> str:
    taken: set[str] = set()
    fn = new_name(rng, language, taken)
    return {
        "python": f'if __name__ == "__main__":\n    {fn}()\n',
        "javascript": f"if (require.main === module) {{\n  {fn}();\n}}\n",
        "typescript": f"if (require.main === module) {{\n  {fn}();\n}}\n",
        "c": f"int main(int argc, char **argv)\n{{\n    return {fn}(argc, argv);\n}}\n",
        "cpp": f"int main(int argc, char **argv) {{\n    return {fn}(argc, argv);\n}}\n",
        "go": f"func main() {{\n\tif err := {fn}(); err != nil {{\n\t\tos.Exit(1)\n\t}}\n}}\n",
        "java": f"public static void main(String[] args) {{\n    new App().{fn}(args);\n}}\n",
        "rust": f'fn main() {{\n    if let Err(e) = {fn}() {{\n        eprintln!("{{}}", e);\n'
        "        std::process::exit(1);\n    }\n}\n",
    }[language]


def imports(language: str, rng: random.Random) -> str:
    if language == "python":
        return "".join(f"import {m}\n" for m in sorted(_pick(rng, PY_MODULES, 4, 10)))
    if language in ("javascript", "typescript"):
        mods = _pick(rng, JS_MODULES, 3, 8)
        return "".join(f"const {m.replace('_', '')} = require('{m}');\n" for m in mods)
    if language in ("c", "cpp"):
        return "".join(f"#include <{h}.h>\n" for h in _pick(rng, C_HEADERS, 3, 8))
    if language == "go":
        return "import (\n" + "".join(f'\t"{p}"\n' for p in _pick(rng, GO_PACKAGES, 3, 8)) + ")\n"
    if language == "java":
        return "".join(f"import {i};\n" for i in sorted(_pick(rng, JAVA_IMPORTS, 3, 8)))
    return "".join(f"use {u};\n" for u in _pick(rng, RUST_USES, 3, 7))


def accessors(language: str, rng: random.Random) -> str:
    taken: set[str] = set()
    fields = [new_name(rng, "java", taken) for _ in range(rng.randint(2, 3))]
    out = []
    for f in fields:
        cap = f[0].upper() + f[1:]
        if language == "python":
            out.append(
                f"    @property\n    def {f}(self):\n        return self._{f}\n\n"
                f"    @{f}.setter\n    def {f}(self, value):\n        self._{f} = value\n"
            )
        elif language in ("javascript", "typescript"):
            out.append(
                f"  get{cap}() {{\n    return this.{f};\n  }}\n\n"
                f"  set{cap}(value) {{\n    this.{f} = value;\n  }}\n"
            )
        elif language == "go":
            out.append(f"func (o *Options) {cap}() string {{\n\treturn o.{f}\n}}\n")
        elif language == "rust":
            out.append(f"    pub fn {f}(&self) -> &str {{\n        &self.{f}\n    }}\n")
        elif language in ("c", "cpp"):
            out.append(f"int get_{f}(const struct options *o)\n{{\n    return o->{f};\n}}\n")
        else:
            out.append(
                f"    public String get{cap}() {{\n        return {f};\n    }}\n\n"
                f"    public void set{cap}(String {f}) {{\n        this.{f} = {f};\n    }}\n"
            )
    return "\n".join(out)


def license_header(language: str, rng: random.Random) -> str:
    _spdx, text = rng.choice(LICENSES)
    year = rng.randint(1998, 2025)
    holder = f"{rng.choice(WORDS).capitalize()} {rng.choice(WORDS).capitalize()}"
    body = [f"Copyright (c) {year} {holder}", "", *text.splitlines()]
    if language == "python":
        head = "".join(f"# {ln}".rstrip() + "\n" for ln in body)
        return head + "\nimport os\n"
    head = "/*\n" + "".join(f" * {ln}".rstrip() + "\n" for ln in body) + " */\n"
    trivial = {
        "javascript": "'use strict';\n",
        "typescript": "export {};\n",
        "c": "#include <stdio.h>\n",
        "cpp": "#include <string>\n",
        "go": "package main\n",
        "java": "package org.example;\n",
        "rust": "use std::io;\n",
    }[language]
    return head + "\n" + trivial


def argparse_setup(language: str, rng: random.Random) -> str:
    taken: set[str] = set()
    opts = [new_name(rng, "python", taken) for _ in range(rng.randint(3, 6))]
    if language == "python":
        lines = ["parser = argparse.ArgumentParser(description=__doc__)"]
        for o in opts:
            flag = o.replace("_", "-")
            lines.append(f'parser.add_argument("--{flag}", help="the {o.replace("_", " ")}")')
        lines.append("args = parser.parse_args()")
        return "\n".join(lines) + "\n"
    if language == "go":
        lines = [f'var {o.split("_")[0]} = flag.String("{o}", "", "{o}")' for o in opts]
        return "\n".join([*lines, "flag.Parse()"]) + "\n"
    lines = ["program"] + [
        f"  .option('--{o.replace('_', '-')} <value>', '{o.replace('_', ' ')}')" for o in opts
    ]
    return "\n".join([*lines, "  .parse(process.argv);"]) + "\n"


KINDS: dict[str, tuple[str, ...]] = {
    "main_guard": ("python", "javascript", "c", "go", "java", "rust"),
    "imports": ("python", "javascript", "c", "go", "java", "rust"),
    "accessors": ("python", "javascript", "java", "go", "cpp"),
    "license_header": ("python", "javascript", "c", "go", "java", "rust"),
    "argparse": ("python", "go", "javascript"),
}
MAKERS = {
    "main_guard": main_guard,
    "imports": imports,
    "accessors": accessors,
    "license_header": license_header,
    "argparse": argparse_setup,
}


def boilerplate(rng: random.Random, per_kind: int) -> list[tuple[str, str, str]]:
    """(kind, language, text) of per_kind snippets of every kind, languages in turn."""
    out = []
    for kind, langs in KINDS.items():
        for i in range(per_kind):
            lang = langs[i % len(langs)]
            out.append((kind, lang, MAKERS[kind](lang, rng)))
    return out
