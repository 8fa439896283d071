"""Tools for course staff: templates and visible references (:mod:`.templates`), a new pack
(:mod:`.scaffold`), the student kit (:mod:`.student_kit`)."""
