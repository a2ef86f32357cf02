# rbacmig in a minimal image: the static binary (scripts/build-static.sh, the build that
# tests/static.sh runs in an empty root) and the CA bundle, nothing else.
#   docker build -t rbacmig .
#   docker run --rm -v "$PWD:/project" -e DATABASE_URL rbacmig rbacmig upgrade head
# No ENTRYPOINT: the command is `rbacmig ...`, as in `docker compose run --rm SERVICE rbacmig
# upgrade head`, and the binary can be copied into another image with
#   COPY --from=rbacmig /usr/local/bin/rbacmig /usr/local/bin/rbacmig
# This file is not built by the test suite (no Docker daemon there); its builder runs the
# same script, and the final stage holds exactly what the empty-root test holds.

FROM debian:12 AS build
WORKDIR /src
COPY . .
RUN bash scripts/build-static.sh --no-test \
 && cmake --install build-static --strip --prefix /out \
 && mkdir -m 1777 /out/tmp \
 && /out/bin/rbacmig --version

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/tmp /tmp
COPY --from=build /out/bin/rbacmig /usr/local/bin/rbacmig
ENV PATH=/usr/local/bin
WORKDIR /project
CMD ["rbacmig", "--help"]
