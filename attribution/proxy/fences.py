"""Fenced code blocks in Markdown that arrives in pieces (a model's streamed answer).

`FenceTracker.feed(text)` cuts each piece of text into `Piece`s of prose and of code (a
block's fence lines count as its code pieces) and knows each block's character offsets in
the whole text fed so far. A fence split across pieces, ``` and ~~~ fences, a language tag
and a block still open when the text ends are handled. With `hold=True` a line that may
still turn out to be an opening fence (it starts with backticks or tildes) is kept back
until its newline arrives, so a caller that holds code never lets a fence slip out as prose.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_OPENER = re.compile(r"^[ \t]*(?P<fence>`{3,}|~{3,})(?P<info>[^\n]*?)\s*$")


@dataclass
class Block:
    """One fenced block (or the whole text, for a plain completion)."""

    number: int  # 0-based, in order of opening
    tag: str | None  # the fence's language tag as written, or None
    fence: str  # the opening fence characters ("```", "~~~~", ...)
    open_start: int  # offset of the opening fence line
    code_start: int  # offset of the first code line
    code_end: int = -1  # offset just past the last code line
    close_end: int = -1  # offset just past the closing fence line
    closed: bool = False  # False: the text ended inside the block
    lines: list[str] = field(default_factory=list, repr=False)

    @property
    def code(self) -> str:
        return "".join(self.lines)


@dataclass
class Piece:
    """A run of fed text: prose, or code of `block` (`closes`: it ends the block)."""

    text: str
    kind: str  # "prose" | "code"
    block: Block | None = None
    closes: bool = False


def opener(line: str) -> tuple[str, str | None] | None:
    """(fence, tag) when a line (without its newline) opens a fenced block."""
    m = _OPENER.match(line)
    if m is None:
        return None
    fence, info = m.group("fence"), m.group("info").strip()
    if fence[0] == "`" and "`" in info:
        return None
    tag = info.split()[0].strip("{}.") if info else ""
    return fence, (tag or None)


def closes(line: str, fence: str) -> bool:
    """Whether a line (without its newline) closes a block opened with `fence`."""
    s = line.strip()
    return len(s) >= len(fence) and s == fence[0] * len(s)


def may_open(partial: str) -> bool:
    """Whether an unfinished line could still become an opening fence."""
    s = partial.lstrip(" \t")
    if not s:
        return True
    if set(s) <= {"`"} or set(s) <= {"~"}:
        return True
    return opener(s) is not None


class FenceTracker:
    """Cuts streamed text into prose and code pieces; see the module docstring."""

    def __init__(self, hold: bool = False, whole: bool = False) -> None:
        self.hold = hold
        self.whole = whole  # the whole text is one block (a plain completion)
        self.blocks: list[Block] = []
        self.open: Block | None = None
        self._line = ""  # the current line, without its end
        self._line_start = 0
        self._emitted = 0  # characters of the current line already given out as pieces
        self.length = 0  # characters fed so far
        if whole:
            self.open = Block(0, None, "", 0, 0)
            self.blocks.append(self.open)

    def feed(self, text: str) -> list[Piece]:
        """The pieces of `text` that are decided; an undecided line start may be kept."""
        self.length += len(text)
        if self.whole:
            assert self.open is not None
            self.open.lines.append(text)
            return [Piece(text, "code", self.open)] if text else []
        pieces: list[Piece] = []
        pos = 0
        while pos < len(text):
            end = text.find("\n", pos)
            if end < 0:
                self._line += text[pos:]
                self._partial(pieces)
                break
            self._line += text[pos : end + 1]
            pos = end + 1
            self._complete(pieces)
        return _merged(pieces)

    def finish(self) -> list[Piece]:
        """The rest of the text once it has ended; an open block ends unterminated."""
        pieces: list[Piece] = []
        if self._line:
            self._complete(pieces)
        block = self.open
        if block is not None:
            block.code_end = block.close_end = self.length
            self.open = None
            if pieces and pieces[-1].block is block:
                pieces[-1].closes = True
            else:
                pieces.append(Piece("", "code", block, closes=True))
        return _merged(pieces)

    def _partial(self, pieces: list[Piece]) -> None:
        rest = self._line[self._emitted :]
        if not rest:
            return
        if self.open is not None:
            pieces.append(Piece(rest, "code", self.open))
        elif self.hold and may_open(self._line):
            return
        else:
            pieces.append(Piece(rest, "prose"))
        self._emitted = len(self._line)

    def _complete(self, pieces: list[Piece]) -> None:
        line, rest = self._line, self._line[self._emitted :]
        bare = line.rstrip("\r\n")
        start, end = self._line_start, self._line_start + len(line)
        block = self.open
        if block is None:
            found = opener(bare)
            if found is None:
                pieces.append(Piece(rest, "prose"))
            else:
                block = Block(len(self.blocks), found[1], found[0], start, end)
                self.blocks.append(block)
                self.open = block
                pieces.append(Piece(rest, "code", block))
        elif closes(bare, block.fence):
            block.code_end, block.close_end, block.closed = start, end, True
            self.open = None
            pieces.append(Piece(rest, "code", block, closes=True))
        else:
            block.lines.append(line)
            pieces.append(Piece(rest, "code", block))
        self._line, self._line_start, self._emitted = "", end, 0


def _merged(pieces: list[Piece]) -> list[Piece]:
    """Adjacent pieces of the same kind and block as one (a close ends a run)."""
    out: list[Piece] = []
    for p in pieces:
        last = out[-1] if out else None
        if last and not last.closes and last.kind == p.kind and last.block is p.block:
            last.text += p.text
            last.closes = p.closes
        elif p.text or p.closes:
            out.append(p)
    return out
