"""Checks of the related papers' statements (iMAML, Ji et al. 2022 multi-step MAML, iBaML), one module per paper."""
