# syntax=docker/dockerfile:1
# netraven-db on the official PostgreSQL image (Debian, glibc). The binary is built from source in the first
# stage and copied to /usr/local/bin/netraven-db; docker/initdb-netraven.sh runs `netraven-db init` the first time
# the container initialises an empty data directory. Alpine/musl variant: Dockerfile.alpine.
#
#   docker build -t netraven-postgres:15 .                                  # PostgreSQL 15 (default)
#   docker build --build-arg PG_VERSION=16 -t netraven-postgres:16 .
#   docker run -e POSTGRES_PASSWORD_FILE=/run/secrets/pg -v pgdata:/var/lib/postgresql/data netraven-postgres:15
#
# The image builds for the platform it runs on (linux/amd64 or linux/arm64): `npm run build` compiles for the
# build container's own architecture. Everything else about the image is the upstream postgres image.
ARG PG_VERSION=15
ARG NODE_VERSION=22

FROM node:${NODE_VERSION}-bookworm-slim AS build
# git stamps the revision into the binary (`netraven-db --version`); without it the revision reads "unknown".
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first (cached until the lock file changes). npm ci also installs Bun from the npm registry and runs
# the postinstall patch in build/.
COPY package.json package-lock.json ./
COPY build/ build/
RUN npm ci --no-audit --no-fund
# The sources. .dockerignore keeps the host's node_modules/ and dist/ out of the context.
COPY . .
# compile.ts smoke-tests the binary it builds; run it once more from an empty environment to be sure.
RUN npm run build \
 && env -i ./dist/netraven-db --version

FROM postgres:${PG_VERSION}
COPY --from=build /src/dist/netraven-db /usr/local/bin/netraven-db
# Mode 0755: the entrypoint executes executable hooks (a non-executable one would be sourced into its shell).
# "10-" runs it before your own 20-*.sql/.sh seed files, which can then rely on the schema.
COPY --chmod=0755 docker/initdb-netraven.sh /docker-entrypoint-initdb.d/10-netraven-db.sh
# Fail the image build, not the first container start, if the binary cannot run on this base image.
RUN ["netraven-db", "--version"]
