"""The TA's term, around grading: who is in the class (:mod:`.roster`), submissions as an LMS
hands them over (:mod:`.downloads`), late work (:mod:`.late`), manual overrides
(:mod:`.overrides`), the grade each student gets from all of that (:mod:`.grades`), the
options that bundle it (:mod:`.course`), grades for an LMS (:mod:`.export`), and a class
graded in shards on several machines (:mod:`.shards`).

None of it runs student code or changes an autograded score: a result stays what the
checks gave, and everything here is applied after grading, on every run, from the TA's
files.
"""
