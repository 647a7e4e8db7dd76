"""One guard for every reader: an exception becomes a finding that names the file, the reader and
the error, with a severity that fails closed. Readers fix their own errors at the root; this is
the net under them, so that a bug never ends a scan and never passes a file silently.
"""

from __future__ import annotations

# What a reader's failure means for the verdict (issue: "never fine"): a file whose security
# rules could not finish may hide what they look for, so it fails the default policy (high); a
# cataloger that failed only loses facts, which the completeness report shows (medium).
SECURITY_INCOMPLETE = "high"
CATALOGER_FAILED = "medium"
MAX_DETAIL = 300  # characters of an exception's text kept in a message


def describe(exc: BaseException) -> str:
    """``ErrorClass: message``, bounded and printable: exceptions can carry attacker-chosen text."""
    text = str(exc)
    if len(text) > MAX_DETAIL:
        text = text[: MAX_DETAIL - 1] + "…"
    text = text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\n", " ")
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


HOW_TO_REPORT = "a bug in aitrail: run with AITRAIL_DEBUG=1 for a traceback and report it"
