"""`python3 -m tests.bench [--quick] [NAME ...]` from the checkout: see tests/bench/run.py."""

import sys

from tests.bench.run import main

sys.exit(main())
