# toolkit: train the course's CNN on Fashion-MNIST (or any config) with MLflow and W&B tracking, on the CPU.
#   docker build -t toolkit .
#   mkdir -p runs
#   docker run --rm --user "$(id -u):$(id -g)" -v "$PWD/runs:/app/runs" toolkit
#   docker run --rm --user "$(id -u):$(id -g)" -e WANDB_API_KEY -v "$PWD/runs:/app/runs" toolkit \
#       train examples/digits_cnn.yaml --set epochs=10
# The bind-mounted runs/ folder (MLflow's mlflow.db with its mlruns/ beside it, W&B's wandb/) belongs
# to you on the host: --user "$(id -u):$(id -g)" runs the container as you, so it can write there and
# what it writes stays yours. Without --user the container runs as uid 10001, which can write to the
# folder only if you let it (chown 10001 runs, or chmod o+w runs).
# No secret is baked in: a W&B key comes from the environment at run time (offline without one).
FROM python:3.11-slim

# HOME is set here because Docker gives a --user without an account here HOME=/, where Keras,
# Matplotlib and W&B could not write their settings; the folder is writable by any user.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TF_CPP_MIN_LOG_LEVEL=2 \
    MPLBACKEND=Agg \
    HOME=/home/toolkit \
    MLFLOW_TRACKING_URI=sqlite:////app/runs/mlflow.db \
    WANDB_DIR=/app/runs

# Fashion-MNIST from Debian's package (60,000 + 10,000 images in /usr/share/datasets/fashion-mnist);
# toolkit checks the files against Zalando's published MD5s when it loads them.
RUN apt-get update \
    && apt-get install -y --no-install-recommends dataset-fashion-mnist=0.0~git20200523.55506a9-1 \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 toolkit \
    && useradd --system --uid 10001 --gid toolkit --create-home --home-dir /home/toolkit toolkit \
    && chmod 1777 /home/toolkit

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
CMD ["train", "examples/fashion_mnist_cnn.yaml"]
