# servekit prebuilt server for TensorFlow SavedModels, without libtensorflow: each signature is lowered to ONNX and
# run on onnxruntime-node when every op maps (else tfjs on WebAssembly).
# KServe runtime conventions: the storage initializer puts the model in /mnt/models; HTTP 8080, gRPC 8081.
# Build: docker build -f Dockerfile.tf -t servekit-tf .
# Node.js 26 "Lithium", the Active LTS line (2026-10-28 to 2027-10-20; end of life 2029-04-30): README, Node.js versions.
FROM node:26-slim AS build
WORKDIR /src
COPY . .
# .npmrc skips onnxruntime-node's install script (its CPU binaries ship in the package).
RUN npm ci --no-audit --no-fund && npm run build && sh scripts/build-image-root.sh /opt/servekit

FROM node:26-slim
WORKDIR /opt/servekit
COPY --from=build /opt/servekit ./
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force \
 && ln -s /opt/servekit/packages/cli/bin/servekit.js /usr/local/bin/servekit
USER node
# The format is an env default (SERVEKIT_<FLAG>), so it survives a ServingRuntime replacing the CMD args.
ENV SERVEKIT_MODEL_FORMAT=tensorflow
EXPOSE 8080 8081
ENTRYPOINT ["servekit", "serve"]
CMD ["--model_dir", "/mnt/models", "--model_format", "tensorflow", "--http_port", "8080", "--grpc_port", "8081"]
