"""The forkserver's preload for batch grading: the preload, then the server's memory moved
onto huge pages (:mod:`.hugepages`), which makes each of the many forks of a batch run
cheaper and costs the server about half a second once.
"""

from grader.sandbox import hugepages, preload

hugepages.collapse()
preload.freeze_heap()
