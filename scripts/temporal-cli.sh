#!/usr/bin/env bash
# Ensures the official Temporal CLI is installed in the per-machine cache and prints its path.
#
# The CLI is built from the official module on the Go module proxy with `go install` (never vendored);
# a cold install takes minutes, so the binary is kept outside the repository under $HOME/.cache, keyed
# by version, and later runs reuse it.
#
# Usage: scripts/temporal-cli.sh            # prints the binary's path on stdout
#        TEMPORAL_CLI_VERSION=v1.5.1 scripts/temporal-cli.sh
#
# v1.5.1 is pinned: later releases carry a replace directive in go.mod that `go install pkg@version`
# refuses.
set -euo pipefail

version="${TEMPORAL_CLI_VERSION:-v1.5.1}"
dir="${HOME}/.cache/duro/temporal-cli-${version}"
bin="${dir}/temporal"

if [ ! -x "${bin}" ]; then
  mkdir -p "${dir}"
  # Install into a temporary GOBIN first so an interrupted build never leaves a half-written binary
  # at the cached path; the rename is atomic on one filesystem.
  tmp="$(mktemp -d "${dir}/.install.XXXXXX")"
  trap 'rm -rf "${tmp}"' EXIT
  start=$(date +%s)
  echo "temporal-cli: installing github.com/temporalio/cli/cmd/temporal@${version} into ${dir} (cold; takes minutes)" >&2
  # Outside any module (cd to the temp dir) so the repository's go.mod neither constrains nor
  # records the CLI's dependencies; GOFLAGS from the caller (e.g. -mod=vendor) must not leak in.
  (cd "${tmp}" && GOFLAGS=-mod=mod GOBIN="${tmp}" go install "github.com/temporalio/cli/cmd/temporal@${version}")
  mv -f "${tmp}/temporal" "${bin}"
  echo "temporal-cli: installed in $(( $(date +%s) - start ))s" >&2
fi

echo "${bin}"
