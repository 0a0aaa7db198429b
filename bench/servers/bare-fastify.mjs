// Scenario 1 (ceiling): a bare fastify route answering a constant body of the same size as servekit's answer.
import Fastify from 'fastify';

const body = Buffer.from(process.argv[2] ?? '{}', 'base64');
const app = Fastify({ logger: false });
app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, b, done) => done(null, b));
app.post('/*', async (_req, reply) => reply.type('application/json').send(body));
await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`${JSON.stringify({ http: `127.0.0.1:${app.server.address().port}` })}\n`);
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
