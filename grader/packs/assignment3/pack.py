"""The second assignment pack, "assignment3" (contract: ASSIGNMENT.md in this folder).

Two code files: numeric answers to two momentum questions, and a one-sample 1-D
convolution written as a matrix; and one data file, the predictions of a classroom
contest, graded against hidden labels. Like every pack, this file is the single place
where names, points, signatures, allowed imports and time limits are declared.
"""

from __future__ import annotations

from ...assignment import Assignment, GradedName, Signature, TaskFile
from ...data import contest_ids
from ...judging.reference import SOLUTIONS, TEMPLATES
from . import answers, contest, convmat

ASSIGNMENT = Assignment(
    name="assignment3",
    title="Assignment 3: momentum by hand, and convolution as a matrix",
    solutions_dir=str(SOLUTIONS),
    templates_dir=str(TEMPLATES),
    files=(
        # Module-level numbers: no signature (None), a short time limit.
        TaskFile(
            "answers",
            "answers_template.py",
            "answers.py",
            (
                GradedName("answers", "Q1", 5, None, answers.Answer("Q1", asked=167, points=5), 10),
                GradedName("answers", "Q2", 5, None, answers.Answer("Q2", asked=167, points=5), 10),
            ),
            allowed_packages=frozenset({"numpy"}),
        ),
        TaskFile(
            "convmat",
            "convmat_template.py",
            "convmat.py",
            (
                GradedName(
                    "convmat", "conv1d_matrix", 8, Signature("(W, in_width, stride=1)"), convmat.ForwardMatrix(), 20
                ),
                GradedName(
                    "convmat",
                    "conv1d_backward_matrix",
                    7,
                    Signature("(W, in_width, stride=1)"),
                    convmat.BackwardMatrix(),
                    20,
                ),
            ),
            allowed_packages=frozenset({"numpy"}),
            allow_stdlib=False,
        ),
        # Data, not code: a CSV of predictions for the contest digits (grader.data.contest_digits).
        # 30% of the ids, drawn once with the seed, rank the public leaderboard; points use all ids.
        TaskFile(
            "predictions",
            "predictions_template.csv",
            "",
            (
                GradedName(
                    "predictions",
                    "accuracy",
                    10,
                    None,
                    contest.Predictions(
                        10, classes=10, expected_ids=contest_ids, public_fraction=0.3, public_seed=2026
                    ),
                    20,
                ),
            ),
            allowed_packages=frozenset(),
            kind="data",
            suffix=".csv",
        ),
    ),
    notes={
        "predictions": (
            "The contest: train any classifier on the shipped digits and label the 1,000 contest digits "
            "(`grader.data.contest_digits()` gives their ids and images); `notebooks/contest_run.ipynb` trains a "
            "baseline and writes a valid file. The file holds an `id,label` header and one `id,label` row per digit, "
            "at most 2 MiB. Points: 10 x (accuracy - 0.5) / (0.8 - 0.5), between 0 and 10 (the course may choose "
            "other cutoffs than 50 % and 80 %)."
        )
    },
)
