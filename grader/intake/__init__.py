"""Reading a folder of submissions before anything runs: whose file is which task
(:mod:`.discovery`, :mod:`.naming`) and what a file declares (:mod:`.interface`)."""
