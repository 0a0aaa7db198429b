# servekit prebuilt server for TensorFlow SavedModels (no libtensorflow: tfjs on WebAssembly).
# KServe runtime conventions: the storage initializer puts the model in /mnt/models; HTTP 8080, gRPC 8081.
FROM node:20-slim
WORKDIR /opt/servekit
COPY package.json package-lock.json .npmrc tsconfig.json tsconfig.base.json ./
COPY protos ./protos
COPY packages ./packages
COPY examples ./examples
COPY scripts ./scripts
RUN sh scripts/install-runtime.sh \
 && ln -s /opt/servekit/packages/cli/dist/bin.js /usr/local/bin/servekit \
 && chmod +x packages/cli/dist/bin.js
USER node
EXPOSE 8080 8081
ENTRYPOINT ["servekit", "serve"]
CMD ["--model_dir", "/mnt/models", "--model_format", "tensorflow", "--http_port", "8080", "--grpc_port", "8081"]
