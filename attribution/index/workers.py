"""Worker processes that never outlive the command that started them.

A build or scan killed with SIGKILL cannot stop its pool; on Linux each worker asks the
kernel for SIGKILL when its parent dies (prctl PR_SET_PDEATHSIG), and leaves at once if
the parent is already gone. Elsewhere this does nothing: the pool's own shutdown applies.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
    """Call first in a pool worker: be killed when process `parent` ends."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the request was made
        os._exit(1)
