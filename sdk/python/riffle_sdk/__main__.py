import sys

from .entries import main

sys.exit(main())
