#!/usr/bin/env sh
# Install and build servekit for a runtime image (used by Dockerfile.sklearn and Dockerfile.tf, and by a test).
# Usage: scripts/install-runtime.sh   (run in the repository root)
set -eu
# onnxruntime-node's install script would download CUDA parts; the CPU binaries ship in the package.
export ONNXRUNTIME_NODE_INSTALL=skip
npm ci --no-audit --no-fund
npx tsc -b
# Keep only what the server needs at run time.
npm prune --omit=dev --no-audit --no-fund
