"""The default seed of the hidden inputs (see :func:`grader.assignment._hidden_seed`).

Left out of the student kit (``make student-kit``). Change it per term, or set
``GRADER_HIDDEN_SEED`` when grading.
"""

SEED = 449
