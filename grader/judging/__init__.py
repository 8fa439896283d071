"""What the checks' judges use (grader side): comparing outputs with references
(:mod:`.compare`), replaying training runs (:mod:`.torchtools`), the reference solutions
(:mod:`.reference`) and the result types (:mod:`.results`). Nothing here is imported into a
process that runs student code (the import contracts in pyproject.toml)."""
