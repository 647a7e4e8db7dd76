"""``python -m aitrail.hub run|query|report|index ...``: the hub commands, also where the CLI does not list them."""

from __future__ import annotations

import sys


def main() -> int:
    from .. import cli

    if "aitrail.hub.cli" not in cli.EXTENSIONS:
        cli.EXTENSIONS.append("aitrail.hub.cli")
    return cli.main(["hub", *sys.argv[1:]])


if __name__ == "__main__":
    sys.exit(main())
