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
# BEGIN SOLUTION
# TEMPLATE: Q1 = None  # your answer: w(167), truncated to three decimals
import math

BETA, ETA = 0.9, 0.1


def _momentum(gradient, w, step, last=167):
    """Run the momentum update from w(1) (reached by the step Delta_w(1)) and return w(last)."""
    for _ in range(last - 1):           # w(2), w(3), ..., w(last): that is last - 1 updates
        step = BETA * step - ETA * gradient(w)
        w = w + step
    return w


def _truncate(value, decimals=3):
    """Cut the digits after the given decimal, toward zero (no rounding)."""
    scale = 10 ** decimals
    return math.trunc(value * scale) / scale


def _relu_l2_gradient(w, x=0.5, d=1.0):
    # dL/dy = y - d, and dy/dw = x while the unit is on (w * x > 0); an off unit passes nothing.
    return (w * x - d) * x if w * x > 0 else 0.0


# w oscillates around d / x = 2 with a shrinking amplitude; w(167) is about 2.00002.
Q1 = _truncate(_momentum(_relu_l2_gradient, w=1.0, step=0.5))
# END SOLUTION

# Question 2. One logistic unit, y = 1 / (1 + exp(-w * x)), is trained on the single
# example (x, d) = (-0.5, 1.0) by minimizing the cross-entropy
# L = -d * log(y) - (1 - d) * log(1 - y).
# Starting point: w(1) = 0.0 and Delta_w(1) = 0.5. What is w(167)?
# BEGIN SOLUTION
# TEMPLATE: Q2 = None  # your answer: w(167), truncated to three decimals
def _logistic_cross_entropy_gradient(w, x=-0.5, d=1.0):
    # For a sigmoid with cross-entropy, dL/dz = y - d at z = w * x, so dL/dw = (y - d) * x.
    y = 1.0 / (1.0 + math.exp(-w * x))
    return (y - d) * x


# y only reaches 1 as w * x grows without end, so w keeps drifting down: w(167) is about -7.5548,
# which truncates to -7.554 (rounding would give -7.555).
Q2 = _truncate(_momentum(_logistic_cross_entropy_gradient, w=0.0, step=0.5))
# END SOLUTION
