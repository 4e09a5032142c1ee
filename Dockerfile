# The marqo-base image: Python with the locked dependencies of one target of the target table in
# Cargo.toml. Build it with `cargo xtask build`, which picks the platforms, tags and build
# arguments; a plain `docker buildx build --platform linux/arm64 .` works too.
#
# Each platform installs its own lockfile. `cargo xtask validate` checks that the platform to
# lockfile mapping in the `case` below matches the target table, so keep one
# `PLATFORM) lockfile=NAME ;;` arm per target.

# The base image must provide python3 with pip, at PYTHON_VERSION.
ARG PYTHON_VERSION=3.11
ARG BASE_IMAGE=python:${PYTHON_VERSION}-slim-bookworm

FROM ${BASE_IMAGE}

ARG PYTHON_VERSION
ARG TARGETPLATFORM
# `auto` installs with --require-hashes when the lockfile carries hashes, `true` always does
# (and so fails on a lockfile without them), `false` never does.
ARG REQUIRE_HASHES=auto

SHELL ["/bin/bash", "-o", "pipefail", "-c"]

COPY requirements/ /opt/marqo-base/requirements/

RUN case "${TARGETPLATFORM}" in \
        linux/amd64) lockfile=amd64-gpu-requirements.txt ;; \
        linux/arm64) lockfile=arm64-requirements.txt ;; \
        *) echo "error: no lockfile for platform '${TARGETPLATFORM}'; this image builds for linux/amd64 and linux/arm64" >&2; exit 1 ;; \
    esac \
    && python_version="$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')" \
    && if [ "${python_version}" != "${PYTHON_VERSION}" ]; then \
        echo "error: the base image has Python ${python_version}, but PYTHON_VERSION is ${PYTHON_VERSION}" >&2; exit 1; \
    fi \
    && lockfile_path="/opt/marqo-base/requirements/${lockfile}" \
    && hash_options=() \
    && case "${REQUIRE_HASHES}" in \
        true) hash_options=(--require-hashes) ;; \
        false) ;; \
        auto) if grep -q -- '--hash=' "${lockfile_path}"; then hash_options=(--require-hashes); fi ;; \
        *) echo "error: REQUIRE_HASHES must be auto, true or false, not '${REQUIRE_HASHES}'" >&2; exit 1 ;; \
    esac \
    && python3 -m pip install --no-cache-dir --no-deps --disable-pip-version-check \
        "${hash_options[@]}" --requirement "${lockfile_path}" \
    && ln -s "${lockfile_path}" /opt/marqo-base/requirements.txt
