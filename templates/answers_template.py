"""Assignment 3, answers: two momentum questions, answered with numbers.

Replace each ``None`` below with your answer, a plain number assigned at the top level of
this file (``Q1 = 1.234``). You may also compute the answers in this file with Python
(the standard library and NumPy are allowed), as long as ``Q1`` and ``Q2`` are numbers
once the file has run.

Notation, as in class. w(k) is the weight after k steps, and Delta_w(k) = w(k) - w(k-1)
is the step that produced it. With momentum, every new step keeps a fraction beta of the
previous step and adds a plain gradient step:

    Delta_w(k) = beta * Delta_w(k-1) - eta * dL/dw, evaluated at w(k-1)
    w(k)       = w(k-1) + Delta_w(k)

In both questions you stand at w(1), the step that brought you there was
Delta_w(1) = 0.5, and beta = 0.9, eta = 0.1. Report w(167) truncated to three decimals:
keep three digits after the decimal point and drop the others, without rounding, toward
zero (3.14159 gives 3.141, and -3.14159 gives -3.141).
"""

# Question 1. One ReLU unit, y = max(0, w * x), is trained on the single example
# (x, d) = (0.5, 1.0) by minimizing the L2 divergence L = 1/2 * (y - d)**2.
# Starting point: w(1) = 1.0 and Delta_w(1) = 0.5. What is w(167)?
Q1 = None  # your answer: w(167), truncated to three decimals

# Question 2. One logistic unit, y = 1 / (1 + exp(-w * x)), is trained on the single
# example (x, d) = (-0.5, 1.0) by minimizing the cross-entropy
# L = -d * log(y) - (1 - d) * log(1 - y).
# Starting point: w(1) = 0.0 and Delta_w(1) = 0.5. What is w(167)?
Q2 = None  # your answer: w(167), truncated to three decimals
