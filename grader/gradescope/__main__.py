import sys

from grader.gradescope import main

sys.exit(main())
