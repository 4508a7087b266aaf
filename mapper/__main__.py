"""``python -m mapper``: the same as the ``mapper`` command."""

import sys

from mapper.cli import main

sys.exit(main())
