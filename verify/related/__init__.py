"""Checks of the related papers' statements (iMAML, Ji-Yang-Liang 2022, iBaML), one module per paper."""
