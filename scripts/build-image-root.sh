#!/usr/bin/env sh
# Lay out servekit's runtime tree in DEST from a built checkout (run `npm ci && npm run build` first): the root
# manifests and lockfile, and every workspace's package.json, dist/ and what else its package.json `files` ships
# (the committed bin stub, @servekit/core's proto), as npm would publish it but without sources, tests, maps or
# build info. The image then installs the production dependencies in DEST with `npm ci --omit=dev`.
# Used by Dockerfile.sklearn and Dockerfile.tf, and run by packages/cli/test/image-root.test.ts.
# Usage: scripts/build-image-root.sh DEST
set -eu
dest=${1:?usage: scripts/build-image-root.sh DEST}
cd "$(dirname "$0")/.."
[ -f packages/cli/dist/bin.js ] || { echo "build-image-root: packages/cli/dist/bin.js missing; run npx tsc -b first" >&2; exit 1; }
mkdir -p "$dest"
cp package.json package-lock.json .npmrc "$dest/"
for ws in packages/* examples/*; do
  [ -f "$ws/package.json" ] || continue
  mkdir -p "$dest/$ws"
  cp "$ws/package.json" "$dest/$ws/package.json"
  shipped=$(node -e 'const f = require(process.argv[1]).files ?? []; console.log(f.filter((e) => e !== "src").join("\n"))' "./$ws/package.json")
  for entry in dist $shipped; do
    if [ -e "$ws/$entry" ] && [ ! -e "$dest/$ws/$entry" ]; then cp -R "$ws/$entry" "$dest/$ws/$entry"; fi
  done
done
# The CLI's bundle (`npm run build` makes it after tsc) only when no package was rebuilt after it: a stale one is left
# out, and the image's bin then runs dist/bin.js.
stamp=packages/cli/dist/bundle/bundle.json
if [ -f "$stamp" ] && [ -n "$(find packages -maxdepth 2 -name tsconfig.tsbuildinfo -newer "$stamp")" ]; then
  echo "build-image-root: packages/cli/dist/bundle is older than a package build; left out (npm run build makes it)" >&2
  rm -rf "$dest/packages/cli/dist/bundle"
fi
find "$dest" \( -name '*.map' -o -name '*.tsbuildinfo' \) -type f -exec rm -f {} +
chmod +x "$dest/packages/cli/bin/servekit.js"
