# toolkit: train the digits CNN (or any config) with MLflow and W&B tracking, on the CPU.
#   docker build -t toolkit .
#   docker run --rm -v "$PWD/runs:/app/runs" toolkit
#   docker run --rm -e WANDB_API_KEY -v "$PWD/runs:/app/runs" toolkit train examples/digits_cnn.yaml --set epochs=10
# No secret is baked in: a W&B key comes from the environment at run time (offline without one).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TF_CPP_MIN_LOG_LEVEL=2 \
    MPLBACKEND=Agg \
    MLFLOW_TRACKING_URI=sqlite:////app/runs/mlflow.db \
    WANDB_DIR=/app/runs

RUN groupadd --system --gid 10001 toolkit \
    && useradd --system --uid 10001 --gid toolkit --create-home --home-dir /home/toolkit toolkit

WORKDIR /app

# The core and every first-party plugin (TensorFlow CPU comes with toolkit-keras).
COPY setup.cfg pyproject.toml README.md ./
COPY toolkit ./toolkit
COPY plugins ./plugins
RUN pip install --no-cache-dir . ./plugins/*/ \
    && mkdir -p /app/runs \
    && chown -R 10001:10001 /app/runs

COPY examples ./examples

USER 10001:10001

VOLUME ["/app/runs"]
ENTRYPOINT ["toolkit"]
CMD ["train", "examples/digits_cnn.yaml"]
