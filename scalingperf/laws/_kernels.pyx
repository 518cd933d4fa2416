# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, autotestdict=False
"""Vectorised numerics of the scaling laws over contiguous 1-D double arrays.

Each kernel checks lengths while it holds the GIL, then loops without it: the loops
touch only the memoryviews they were given, which the caller keeps alive for the call.
Outputs are written into caller-allocated arrays, so the module needs no NumPy headers.
"""

from libc.math cimport exp, fabs, log


cdef inline void _same_length(Py_ssize_t n, Py_ssize_t m, str what) except *:
    if n != m:
        msg = f"{what} has {m} elements, expected {n}"
        raise ValueError(msg)


def parametric_loss(const double[::1] n, const double[::1] d, double e, double a,
                    double b, double alpha, double beta, double[::1] out):
    """out = e + a n^-alpha + b d^-beta (Hoffmann et al. 2022, eq. 2)."""
    cdef Py_ssize_t i, size = n.shape[0]
    _same_length(size, d.shape[0], "d")
    _same_length(size, out.shape[0], "out")
    with nogil:
        for i in range(size):
            out[i] = e + a * exp(-alpha * log(n[i])) + b * exp(-beta * log(d[i]))


def power_law(const double[::1] x, double coeff, double exponent, double[::1] out):
    """out = coeff x^exponent."""
    cdef Py_ssize_t i, size = x.shape[0]
    _same_length(size, out.shape[0], "out")
    with nogil:
        for i in range(size):
            out[i] = coeff * exp(exponent * log(x[i]))


def kaplan_loss(const double[::1] n, const double[::1] d, double n_c, double d_c,
                double alpha_n, double alpha_d, double[::1] out):
    """out = ((n_c / n)^(alpha_n / alpha_d) + d_c / d)^alpha_d (Kaplan et al. 2020,
    eq. 1.5)."""
    cdef Py_ssize_t i, size = n.shape[0]
    cdef double ratio = alpha_n / alpha_d
    _same_length(size, d.shape[0], "d")
    _same_length(size, out.shape[0], "out")
    with nogil:
        for i in range(size):
            out[i] = exp(alpha_d * log(exp(ratio * log(n_c / n[i])) + d_c / d[i]))


def effective_repeats(const double[::1] unique, const double[::1] total, double r_star,
                      double[::1] out):
    """out = u + u r* (1 - exp(-(t/u - 1) / r*)), u = min(unique, total): the effective
    count of ``total`` draws from ``unique`` distinct items (Muennighoff et al. 2023,
    eqs. 5 and 6)."""
    cdef Py_ssize_t i, size = unique.shape[0]
    cdef double u, repeats
    _same_length(size, total.shape[0], "total")
    _same_length(size, out.shape[0], "out")
    with nogil:
        for i in range(size):
            u = unique[i] if unique[i] < total[i] else total[i]
            repeats = total[i] / u - 1.0
            out[i] = u + u * r_star * (1.0 - exp(-repeats / r_star))


cdef inline double _huber(double r, double delta) noexcept nogil:
    if fabs(r) <= delta:
        return 0.5 * r * r
    return delta * (fabs(r) - 0.5 * delta)


cdef inline double _huber_slope(double r, double delta) noexcept nogil:
    if r > delta:
        return delta
    if r < -delta:
        return -delta
    return r


cdef double _objective(const double[::1] log_n, const double[::1] log_d,
                       const double[::1] log_loss, double a, double b, double e,
                       double alpha, double beta, double delta, double* grad) noexcept nogil:
    # Sum over runs of Huber(LSE(a - alpha log N, b - beta log D, e) - log L); the
    # log-sum-exp is shifted by its largest term so that no exponential overflows.
    cdef Py_ssize_t i, size = log_n.shape[0]
    cdef double t1, t2, t3, top, w1, w2, w3, total, residual, slope, value = 0.0
    if grad != NULL:
        for i in range(5):
            grad[i] = 0.0
    for i in range(size):
        t1 = a - alpha * log_n[i]
        t2 = b - beta * log_d[i]
        t3 = e
        top = t1
        if t2 > top:
            top = t2
        if t3 > top:
            top = t3
        w1 = exp(t1 - top)
        w2 = exp(t2 - top)
        w3 = exp(t3 - top)
        total = w1 + w2 + w3
        residual = top + log(total) - log_loss[i]
        value += _huber(residual, delta)
        if grad != NULL:
            slope = _huber_slope(residual, delta) / total
            grad[0] += slope * w1
            grad[1] += slope * w2
            grad[2] += slope * w3
            grad[3] -= slope * w1 * log_n[i]
            grad[4] -= slope * w2 * log_d[i]
    return value


def huber_lse(const double[::1] log_n, const double[::1] log_d,
              const double[::1] log_loss, const double[::1] params, double delta,
              double[::1] grad):
    """Hoffmann et al. 2022, eq. 3: sum of Huber_delta(LSE(a - alpha log N_i,
    b - beta log D_i, e) - log L_i) at params = (a, b, e, alpha, beta); its gradient
    with respect to params is written to grad. Returns the sum."""
    cdef Py_ssize_t size = log_n.shape[0]
    cdef double value
    _same_length(size, log_d.shape[0], "log_d")
    _same_length(size, log_loss.shape[0], "log_loss")
    _same_length(5, params.shape[0], "params")
    _same_length(5, grad.shape[0], "grad")
    with nogil:
        value = _objective(log_n, log_d, log_loss, params[0], params[1], params[2],
                           params[3], params[4], delta, &grad[0])
    return value


def huber_lse_many(const double[::1] log_n, const double[::1] log_d,
                   const double[::1] log_loss, const double[:, ::1] params, double delta,
                   double[::1] out):
    """The objective of :func:`huber_lse` at each row (a, b, e, alpha, beta) of params,
    without gradients: for ranking a grid of starting points."""
    cdef Py_ssize_t j, size = log_n.shape[0], starts = params.shape[0]
    _same_length(size, log_d.shape[0], "log_d")
    _same_length(size, log_loss.shape[0], "log_loss")
    _same_length(5, params.shape[1], "params row")
    _same_length(starts, out.shape[0], "out")
    with nogil:
        for j in range(starts):
            out[j] = _objective(log_n, log_d, log_loss, params[j, 0], params[j, 1],
                                params[j, 2], params[j, 3], params[j, 4], delta, NULL)
