import sys

from lipmat.cli import main

sys.exit(main())
