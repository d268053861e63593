# GAN studio on a CUDA host (or CPU): docker build -t gan-studio . && docker run --gpus all -p 7860:7860 gan-studio
# PyPI's torch wheels carry their own CUDA runtime; the host needs only the NVIDIA driver and container toolkit.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    GRADIO_ANALYTICS_ENABLED=False \
    HF_HUB_DISABLE_TELEMETRY=1 \
    GRADIO_SERVER_NAME=0.0.0.0 \
    GRADIO_SERVER_PORT=7860

RUN useradd --create-home --uid 1000 user
WORKDIR /home/user/app

COPY --chown=user:user requirements.txt .
RUN pip install -r requirements.txt

COPY --chown=user:user app.py ./
COPY --chown=user:user ui ./ui
COPY --chown=user:user gan ./gan
COPY --chown=user:user weights ./weights

USER user
ENV HOME=/home/user HF_HOME=/home/user/.cache/huggingface
EXPOSE 7860
CMD ["python", "app.py", "--host", "0.0.0.0", "--port", "7860"]
