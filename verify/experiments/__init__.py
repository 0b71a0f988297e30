"""Empirical studies that check the paper's claims against the estimators.

* :mod:`verify.experiments.sinusoid`: the sinusoid study of Figure 3 (Section 4.1, Appendix C.1);
* :mod:`verify.experiments.plots`: Figure 3 (a) and (b) from its result;
* :mod:`verify.experiments.cli`: ``binomgbml experiment sinusoid``.
"""
