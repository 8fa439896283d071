"""Grading one student's files: the children that run their code (:mod:`.runner`), what
self-check uses instead of references (:mod:`.visible_references`, :mod:`.standins`), and
turning what the children report into part scores (:mod:`.judge`)."""
