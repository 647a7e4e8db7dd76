"""The errors aitrail raises to its callers; each message names the file, key or path at fault.

Kept in one small module so the command line can catch them without importing the machinery.
"""

from __future__ import annotations


class AitrailError(Exception):
    """Base class: the input cannot be used as given (the CLI exits 2)."""


class InputError(AitrailError):
    """The target itself cannot be scanned (missing, unreadable, nothing recognisable)."""


class ManifestError(AitrailError):
    """An aitrail.yaml is malformed; the message names the file and the key."""


class PolicyError(AitrailError):
    """A policy file is malformed; the message names the file and the key."""


class NothingToScan(InputError):
    """No file in the target is one aitrail recognises: a gate pointed at the wrong folder must fail."""
