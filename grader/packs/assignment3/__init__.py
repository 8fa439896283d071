"""The pack "assignment3". Its declaration is ``pack.py``; this file stays empty, because a
child imports ``probes.py`` through it and must not pull in the grader side."""
