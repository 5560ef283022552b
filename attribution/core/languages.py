"""The languages the engine knows: names, file names, shebangs and grammar node classes."""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

# Token classes of the abstracted view (stored as one byte per token).
OTHER, IDENTIFIER, STRING, NUMBER = 0, 1, 2, 3
CLASS_NAMES = {OTHER: "other", IDENTIFIER: "identifier", STRING: "string", NUMBER: "number"}

COMMENT_TYPES = frozenset(
    {"comment", "line_comment", "block_comment", "doc_comment", "html_comment"}
)
STRING_TYPES = frozenset(
    {
        "string",
        "template_string",
        "string_literal",
        "raw_string_literal",
        "char_literal",
        "character_literal",
        "interpreted_string_literal",
        "rune_literal",
        "system_lib_string",
    }
)
NUMBER_TYPES = frozenset(
    {
        "integer",
        "float",
        "number",
        "number_literal",
        "int_literal",
        "float_literal",
        "imaginary_literal",
        "integer_literal",
        "decimal_integer_literal",
        "hex_integer_literal",
        "octal_integer_literal",
        "binary_integer_literal",
        "decimal_floating_point_literal",
        "hex_floating_point_literal",
    }
)
UNIT_TYPES = frozenset(
    {
        "function_definition",
        "function_declaration",
        "function_item",
        "method_definition",
        "method_declaration",
        "constructor_declaration",
        "func_literal",
        "function_expression",
        "generator_function_declaration",
        "arrow_function",
    }
)


@dataclass(frozen=True)
class Language:
    """One language: its name, how files are recognised, and its grammar (if any)."""

    name: str
    extensions: tuple[str, ...]
    grammar: tuple[str, str] | None = None  # (module, function) of a tree-sitter wheel
    shebangs: tuple[str, ...] = ()
    filenames: tuple[str, ...] = ()
    line_comments: tuple[str, ...] = ()  # for the fallback lexer and attribution comments
    block_comments: tuple[tuple[str, str], ...] = ()


_C_LINE = ("//",)
_C_BLOCK = (("/*", "*/"),)

LANGUAGES: dict[str, Language] = {
    lang.name: lang
    for lang in (
        Language(
            "python",
            (".py", ".pyw", ".pyi"),
            ("tree_sitter_python", "language"),
            ("python", "python2", "python3"),
            line_comments=("#",),
        ),
        Language(
            "javascript",
            (".js", ".mjs", ".cjs", ".jsx"),
            ("tree_sitter_javascript", "language"),
            ("node", "nodejs", "deno"),
            line_comments=_C_LINE,
            block_comments=_C_BLOCK,
        ),
        Language(
            "typescript",
            (".ts", ".mts", ".cts"),
            ("tree_sitter_typescript", "language_typescript"),
            ("ts-node",),
            line_comments=_C_LINE,
            block_comments=_C_BLOCK,
        ),
        Language(
            "tsx",
            (".tsx",),
            ("tree_sitter_typescript", "language_tsx"),
            line_comments=_C_LINE,
            block_comments=_C_BLOCK,
        ),
        Language(
            "c",
            (".c", ".h"),
            ("tree_sitter_c", "language"),
            line_comments=_C_LINE,
            block_comments=_C_BLOCK,
        ),
        Language(
            "cpp",
            (".cc", ".cpp", ".cxx", ".c++", ".hh", ".hpp", ".hxx", ".h++", ".ipp", ".tcc", ".inl"),
            ("tree_sitter_cpp", "language"),
            line_comments=_C_LINE,
            block_comments=_C_BLOCK,
        ),
        Language(
            "java",
            (".java",),
            ("tree_sitter_java", "language"),
            line_comments=_C_LINE,
            block_comments=_C_BLOCK,
        ),
        Language(
            "go",
            (".go",),
            ("tree_sitter_go", "language"),
            line_comments=_C_LINE,
            block_comments=_C_BLOCK,
        ),
        Language(
            "rust",
            (".rs",),
            ("tree_sitter_rust", "language"),
            line_comments=_C_LINE,
            block_comments=_C_BLOCK,
        ),
        # Languages read with the fallback lexer (see DESIGN.md).
        Language(
            "shell",
            (".sh", ".bash", ".zsh", ".ksh"),
            None,
            ("sh", "bash", "zsh", "ksh", "dash"),
            line_comments=("#",),
        ),
        Language("cython", (".pyx", ".pxd", ".pxi"), None, line_comments=("#",)),
        Language("ruby", (".rb",), None, ("ruby",), ("Rakefile", "Gemfile"), ("#",)),
        Language("perl", (".pl", ".pm", ".t"), None, ("perl",), line_comments=("#",)),
        Language("lua", (".lua",), None, ("lua",), line_comments=("--",)),
        Language("tcl", (".tcl",), None, ("tclsh", "wish"), line_comments=("#",)),
        Language("php", (".php",), None, ("php",), line_comments=("//", "#")),
        Language("csharp", (".cs",), None, line_comments=_C_LINE, block_comments=_C_BLOCK),
        Language("kotlin", (".kt", ".kts"), None, line_comments=_C_LINE, block_comments=_C_BLOCK),
        Language("scala", (".scala",), None, line_comments=_C_LINE, block_comments=_C_BLOCK),
        Language("swift", (".swift",), None, line_comments=_C_LINE, block_comments=_C_BLOCK),
        Language("objc", (".m", ".mm"), None, line_comments=_C_LINE, block_comments=_C_BLOCK),
        Language("assembly", (".s", ".S", ".asm"), None, line_comments=(";", "#", "//")),
        Language("r", (".r", ".R"), None, ("Rscript",), line_comments=("#",)),
        Language("julia", (".jl",), None, ("julia",), line_comments=("#",)),
        Language("haskell", (".hs",), None, line_comments=("--",)),
        Language("dart", (".dart",), None, line_comments=_C_LINE, block_comments=_C_BLOCK),
        Language("zig", (".zig",), None, line_comments=("//",)),
        Language("makefile", (".mk", ".mak"), None, (), ("Makefile", "GNUmakefile"), ("#",)),
        Language("cmake", (".cmake",), None, (), ("CMakeLists.txt",), ("#",)),
    )
}

ALIASES = {
    "py": "python",
    "python3": "python",
    "js": "javascript",
    "node": "javascript",
    "jsx": "javascript",
    "ts": "typescript",
    "c++": "cpp",
    "cxx": "cpp",
    "golang": "go",
    "rs": "rust",
    "sh": "shell",
    "bash": "shell",
    "c#": "csharp",
    "objective-c": "objc",
}

_BY_EXTENSION = {ext: lang.name for lang in LANGUAGES.values() for ext in lang.extensions}
_BY_FILENAME = {fn: lang.name for lang in LANGUAGES.values() for fn in lang.filenames}
_BY_INTERPRETER = {sb: lang.name for lang in LANGUAGES.values() for sb in lang.shebangs}
_SHEBANG = re.compile(rb"^#!\s*(?:/\S*/)?(?:env\s+(?:-\S+\s+)*)?([A-Za-z_][\w.+-]*)")


class UnknownLanguageError(ValueError):
    """A language name the engine does not know."""


def normalize_language(name: str) -> str:
    """Canonical name of a language given by a user; raises UnknownLanguageError."""
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    if key not in LANGUAGES:
        known = ", ".join(sorted(LANGUAGES))
        raise UnknownLanguageError(f"unknown language {name!r}; known: {known}")
    return key


def language_for_path(path: str) -> str | None:
    """Language of a file from its name alone, or None."""
    name = path.rsplit("/", 1)[-1]
    if name in _BY_FILENAME:
        return _BY_FILENAME[name]
    dot = name.rfind(".")
    if dot <= 0:
        return None
    ext = name[dot:]
    return _BY_EXTENSION.get(ext) or _BY_EXTENSION.get(ext.lower())


def language_for_shebang(head: bytes) -> str | None:
    """Language named by a `#!` line at the start of a file, or None."""
    m = _SHEBANG.match(head[:200])
    if not m:
        return None
    interpreter = m.group(1).decode("ascii", "replace")
    interpreter = re.sub(r"[\d.]+$", "", interpreter) or interpreter
    return _BY_INTERPRETER.get(interpreter)


def detect_language(path: str | None, head: bytes, explicit: str | None = None) -> str | None:
    """Language from an explicit name, then the file name, then a shebang line."""
    if explicit:
        return normalize_language(explicit)
    if path:
        lang = language_for_path(path)
        if lang:
            return lang
    return language_for_shebang(head)


def has_grammar(name: str) -> bool:
    """True when the language is parsed with tree-sitter (else the fallback lexer)."""
    return LANGUAGES[name].grammar is not None


@cache
def grammar(name: str) -> Any:
    """The tree-sitter Language object of a language with a grammar wheel."""
    import tree_sitter

    spec = LANGUAGES[name].grammar
    if spec is None:
        raise UnknownLanguageError(f"language {name!r} has no tree-sitter grammar")
    module = importlib.import_module(spec[0])
    return tree_sitter.Language(getattr(module, spec[1])())


# Content clues for a snippet with no name: (language, pattern, weight).
_CLUES: tuple[tuple[str, re.Pattern[bytes], int], ...] = tuple(
    (lang, re.compile(pattern, re.MULTILINE), weight)
    for lang, pattern, weight in (
        ("python", rb"^\s*(def|class)\s+\w+.*:\s*$", 3),
        ("python", rb"^\s*(import \w+|from [\w.]+ import)", 2),
        ("python", rb"\bself\.|\bNone\b|\belif\b|:\s*$", 1),
        ("c", rb"^\s*#\s*(include|define|ifdef|ifndef|endif)\b", 2),
        ("c", rb"\b(static|unsigned|struct|void|size_t)\b.*[;{]\s*$", 1),
        ("c", rb"->\w+|\bsizeof\b|\bNULL\b", 1),
        ("cpp", rb"\b(std::|template\s*<|namespace\s+\w+|class\s+\w+\s*[:{]|nullptr)", 3),
        ("javascript", rb"\b(function\s*\w*\s*\(|=>|const |let |var )", 2),
        ("javascript", rb"\b(require\(|module\.exports|console\.log|===|!==)", 2),
        ("typescript", rb"\b(interface\s+\w+|:\s*(string|number|boolean)\b|export type)", 3),
        (
            "java",
            rb"\b(public|private|protected)\s+(static\s+)?(final\s+)?\w+(<.*>)?\s+\w+\s*\(",
            3,
        ),
        ("java", rb"\bSystem\.out\.|@Override|\bimport java\.", 3),
        ("go", rb"^\s*func\s+(\(\w+ \*?\w+\)\s*)?\w+\(|^package \w+|:=", 3),
        ("rust", rb"\bfn\s+\w+|\blet\s+mut\b|\bimpl\b|->\s*\w+\s*\{|::<|&mut\b|\bpub fn\b", 3),
        ("shell", rb"^\s*(fi|done|esac)\s*$|\$\{?\w+\}?|^\s*echo\s", 1),
    )
)


def guess_language(text: bytes) -> str:
    """Best guess for an unnamed snippet from content clues (python when nothing fits)."""
    head = text[:20000]
    language = language_for_shebang(head)
    if language:
        return language
    scores: dict[str, int] = {}
    for lang, pattern, weight in _CLUES:
        hits = len(pattern.findall(head))
        if hits:
            scores[lang] = scores.get(lang, 0) + weight * min(hits, 20)
    if not scores:
        return "python"
    return max(scores, key=lambda lang: (scores[lang], lang == "python"))
