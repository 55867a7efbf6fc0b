"""Runs every Oaken benchmark (`make bench`). Each prints medians and ratios against a
reference program measured in the same run."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import index  # noqa: E402
import put  # noqa: E402
import search  # noqa: E402
import server  # noqa: E402
import upload  # noqa: E402

if __name__ == "__main__":
    put.main()
    upload.main()
    index.main()
    search.main()
    server.main()
