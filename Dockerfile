# raftflow engine: one static binary, nothing else in the image.
#
# The binary is built on the host, not in a build stage (no base image is
# pulled): scripts/docker.sh runs
#   CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o <context>/engine .
# and builds this file with that context, which also holds an empty data/
# directory so the volume mount point belongs to the unprivileged user.
FROM scratch
COPY engine /engine
COPY --chown=65532:65532 data/ /data/
USER 65532:65532
ENV ENGINE_DATA_DIR=/data
VOLUME /data
# gRPC (Temporal API), raft, HTTP (/metrics, /livez, /readyz, /status)
EXPOSE 7233 7234 7235
ENTRYPOINT ["/engine"]
