"""gan: a GAN studio's core library: models, sampling, checkpoints, training.

This package never imports gradio, downloads nothing and touches no GPU at import time.
"""

__version__ = "0.1.0"
