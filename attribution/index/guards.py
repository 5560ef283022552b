"""What a build over an existing index promises, whichever engine builds it (build.py,
ray_build.py): a build that indexes nothing leaves the index as it was; replacing it by
one of fewer sources needs --replace (IndexShrinkError); the opt-outs kept with the index
(kept.py) are honoured again, so removed code never comes back. See FORMAT.md
("Recovery")."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from attribution.index import kept
from attribution.index.format import MANIFEST_FILE
from attribution.index.optout import OptOut
from attribution.index.writer import IndexShrinkError, live_sources

if TYPE_CHECKING:
    from attribution.index.build import BuildReport


def check_replace(root: Path, report: BuildReport, before: int | None, shrink: bool) -> None:
    """Refuse a build of fewer sources than the index it replaces, unless `shrink`."""
    if before is None or not report.files or report.files >= before or shrink:
        return
    raise IndexShrinkError(
        f"the build holds {report.files:,} sources and the index at {root} holds "
        f"{before:,}: replacing it would remove {before - report.files:,}; nothing was "
        f"changed (pass --replace to replace it)"
    )


@dataclass(frozen=True)
class Guard:
    """The index a build replaces, as it was when the writer lock was taken."""

    root: Path
    before: int | None  # its live sources (None: no index, or too damaged to count)
    existed: bool
    held: OptOut  # the opt-outs kept with it

    @classmethod
    def take(cls, root: Path) -> Guard:
        """Under the writer lock, before the build writes anything."""
        exists = (root / MANIFEST_FILE).exists()
        return cls(root, live_sources(root), exists, kept.opt_out(root))

    def rules(self, given: OptOut) -> OptOut:
        """The build's opt-out list: the one given, and the kept ones (whose contents
        left out are learnt into `given.excluded`)."""
        return given.merged(self.held)

    def allows(self, report: BuildReport, shrink: bool) -> bool:
        """Whether to publish the build: False when it indexed nothing over an index
        (which then stays exactly as it was); IndexShrinkError when it would shrink it."""
        report.replaced_sources = self.before
        check_replace(self.root, report, self.before, shrink)
        return bool(report.files) or not self.existed

    def reapply(self, report: BuildReport, given: OptOut) -> None:
        """After a publish: remove again the copies of kept opt-outs the build met."""
        if report.published and self.held:
            from attribution.index.maintain import enforce

            held = self.held
            enforce(
                self.root, OptOut(held.repos, held.authors, excluded=given.excluded), keep=False
            )
