# Seawall's gateway image. The default target is the light install (`pip install .`, no extras,
# no torch): it serves with the guard's patterns and rules; start-up says what is off.
#   docker build -t seawall .                      # light (the compose file uses this)
#   docker build --target gateway-ml -t seawall-ml .
# `gateway-ml` adds the injection classifier and the semantic cache: a throw-away stage builds
# their files with torch (`seawall models export`), the image gets the files and ONNX Runtime
# only (`seawall[ml]`), never torch.
ARG PYTHON=3.11

FROM python:${PYTHON}-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# libseccomp: the code sandbox's filter (ctypes); the gateway runs without the sandbox too
RUN apt-get update && apt-get install -y --no-install-recommends libseccomp2 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN useradd --system --home-dir /var/lib/seawall --create-home seawall

# Builds the model files with torch; nothing of it reaches the image. To skip the CUDA wheels,
# pass an index that serves the CPU build: --build-arg TORCH_INDEX_URL=...
FROM base AS models
ARG TORCH_INDEX_URL=
RUN pip install ${TORCH_INDEX_URL:+--extra-index-url "$TORCH_INDEX_URL"} '.[semantic,train]'
ENV SEAWALL_MODEL_DIR=/models HF_HUB_OFFLINE=1
# the int8 graph is what serves; its fp32 parent (~70 MB) stays behind
RUN seawall models export --embedder onnx-int8-l3 && rm -f /models/*-fused.onnx

FROM base AS gateway-ml
RUN pip install '.[ml]' && rm -rf /src
COPY --from=models --chown=seawall /models /models
ENV SEAWALL_MODEL_DIR=/models
USER seawall
WORKDIR /var/lib/seawall
EXPOSE 8080
ENTRYPOINT ["seawall"]
CMD ["serve", "--config", "/etc/seawall/seawall.yaml"]

# The default: the light install.
FROM base AS gateway
RUN pip install . && rm -rf /src
USER seawall
WORKDIR /var/lib/seawall
EXPOSE 8080
ENTRYPOINT ["seawall"]
CMD ["serve", "--config", "/etc/seawall/seawall.yaml"]
