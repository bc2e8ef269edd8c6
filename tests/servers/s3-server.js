#!/usr/bin/env node
// Loopback S3 server for tests/test_remote.c: @20minutes/s3rver 4.0.4, which
// verifies SigV4 header signatures. Path-style only, 127.0.0.1 only.
// Usage: node s3-server.js DIR PORT ACCESS_KEY SECRET [BUCKET...]
// Needs NODE_PATH pointing at the node_modules that holds @20minutes/s3rver.
'use strict';
const [dir, port, key, secret, ...buckets] = process.argv.slice(2);
if (!dir || !port || !key || !secret) {
  console.error('usage: s3-server.js DIR PORT ACCESS_KEY SECRET [BUCKET...]');
  process.exit(2);
}
const S3rver = require('@20minutes/s3rver');
// s3rver knows one account (key pair S3RVER/S3RVER); give it our pair as well.
require('@20minutes/s3rver/lib/models/account').DUMMY_ACCOUNT.createKeyPair(key, secret);
const server = new S3rver({
  address: '127.0.0.1',
  port: Number(port),
  directory: dir,
  silent: true,
  vhostBuckets: false,
  configureBuckets: buckets.map((name) => ({ name, configs: [] })),
});
// Injected failures and a request gauge for the parallel-transfer tests:
//  - a key with a path segment fault-get-once-N / fault-get-always-N: a GET
//    whose Range starts at byte N answers 500 (the first time / every time);
//  - fault-part-once-N / fault-part-always-N: the upload of part N does so;
//  - GET /__mcf/stats: the most requests in flight at once and the distinct
//    client connections since the last GET /__mcf/reset.
const failed = new Set();
let inflight = 0, inflightMax = 0, sockets = new Set();
server.middleware.unshift(async (ctx, next) => {
  if (ctx.path === '/__mcf/stats' || ctx.path === '/__mcf/reset') {
    if (ctx.path === '/__mcf/reset') { inflightMax = 0; sockets = new Set(); }
    const pad = (n) => String(n).padStart(8, '0');
    ctx.type = 'text/plain';
    ctx.body = `inflight_max=${pad(inflightMax)} sockets=${pad(sockets.size)}\n`;
    return;
  }
  sockets.add(ctx.req.socket.remotePort);
  inflight++;
  inflightMax = Math.max(inflightMax, inflight);
  try {
    const m = /\/fault-(get|part)-(once|always)-(\d+)\//.exec(ctx.path);
    if (m) {
      const [, kind, how, n] = m;
      const hit = kind === 'get'
        ? ctx.method === 'GET' && (ctx.get('range') || '').startsWith(`bytes=${n}-`)
        : ctx.method === 'PUT' && ctx.query.partNumber === n;
      const id = `${ctx.path} ${kind} ${n} ${ctx.query.uploadId || ''}`;
      if (hit && (how === 'always' || !failed.has(id))) {
        failed.add(id);
        ctx.status = 500;
        ctx.type = 'application/xml';
        ctx.body = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code>' +
          '<Message>injected failure</Message></Error>';
        return;
      }
    }
    await next();
  } finally {
    inflight--;
  }
});
server.run().then(
  (info) => console.log('s3 ready on %s:%d', info.address, info.port),
  (err) => { console.error(err); process.exit(1); });
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
