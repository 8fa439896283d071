"""Similarity (copy-detection) report, computed locally: ``python -m grader similarity``.

Modules, one job each:

* :mod:`.fingerprint`: tokenize and fingerprint one file (copydetect's normalisation and
  winnowing);
* :mod:`.boilerplate`: drop the template's fingerprints and those most of the class shares;
* :mod:`.pairs`: score the pairs of files of one task;
* :mod:`.compare`: a whole class, found with the same discovery as ``grade``;
* :mod:`.page`: ``similarity.html``;
* :mod:`.command`: the command line and the ``grade --similarity`` sections;
* :mod:`.options`: defaults and command-line options (light: nothing heavy is imported here,
  so ``python -m grader grade`` and ``check`` do not pay for this package).

Use :func:`grader.similarity.compare.compare_folder` from Python.
"""
