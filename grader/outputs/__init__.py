"""Grading a whole folder (:mod:`.batch`) and what it writes: the gradebook and feedback
(:mod:`.report`), report.html (:mod:`.htmlreport`, :mod:`.charts`), the contest's leaderboard."""
