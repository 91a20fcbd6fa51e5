"""Fit the rational erf of crates/core/src/embed/erf.rs: erf(x) ~ x P(x^2) / Q(x^2),
P of degree 6 and Q of degree 4 (Q(0) = 1), over 0 < x <= 3.92 (past which erf is 1
in f32). Least squares on the linearised residual x P - erf(x) Q, relative, reweighted
by 1/Q until it settles (Loeb's method). Prints the coefficients and the error of the
f32 evaluation.  python3 scripts/fit/erf.py"""
from math import erf

import numpy as np

CUT = 3.92
xs = np.concatenate([np.linspace(1e-4, CUT, 4000), CUT * np.sin(np.linspace(0, np.pi / 2, 4000))[1:]])
y = np.array([erf(x) for x in xs])
t = xs**2
weights = np.ones_like(xs)
for _ in range(30):
    a = np.hstack([np.stack([xs * t**k for k in range(7)], 1), np.stack([-y * t**k for k in range(1, 5)], 1)])
    w = weights / np.abs(y)
    solution, *_ = np.linalg.lstsq(a * w[:, None], y * w, rcond=None)
    p, q = solution[:7], np.concatenate([[1.0], solution[7:]])
    weights = 1 / sum(q[k] * t**k for k in range(5))


def horner(c, t):
    r = np.float32(c[-1]) * np.ones_like(t)
    for k in range(len(c) - 2, -1, -1):
        r = r * t + np.float32(c[k])
    return r


x32 = xs.astype(np.float32)
approx = x32 * horner(p.astype(np.float32), x32 * x32) / horner(q.astype(np.float32), x32 * x32)
print("P:", [float(np.float32(c)) for c in p])
print("Q:", [float(np.float32(c)) for c in q])
print("largest error of the f32 evaluation:", float(np.max(np.abs(approx - y))))
