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
// MCF_S3_WORKERS=N (N > 1, the bench only): N node processes (the cluster
// module) share the port, each connection served by one of them in turn, so
// parts of one upload sent on several connections are handled at once. s3rver
// keeps every upload's state in DIR (parts, key, metadata), so any process can
// take any request of an upload. The injected failures and the request gauge
// below are per process, which is why the tests run one process.
const cluster = require('cluster');
const workers = Number(process.env.MCF_S3_WORKERS || '1');
if (!Number.isInteger(workers) || workers < 1 || workers > 64) {
  console.error('MCF_S3_WORKERS must be a whole number from 1 to 64');
  process.exit(2);
}
if (workers > 1 && cluster.isPrimary) {
  let listening = 0, stopping = false;
  const stop = (code) => {
    if (stopping) return;
    stopping = true;
    let alive = Object.keys(cluster.workers).length;
    if (alive === 0) process.exit(code);
    cluster.on('exit', () => { if (--alive === 0) process.exit(code); });
    for (const w of Object.values(cluster.workers)) w.process.kill('SIGTERM');
  };
  cluster.on('listening', () => {
    if (++listening === workers) console.log('s3 ready on 127.0.0.1:%d (%d processes)', Number(port), workers);
  });
  cluster.on('exit', (w, code, signal) => {
    if (!stopping) {
      console.error('s3 worker %d ended (%s); stopping', w.process.pid, signal || code);
      stop(1);
    }
  });
  process.on('SIGTERM', () => stop(0));
  process.on('SIGINT', () => stop(0));
  for (let i = 0; i < workers; i++) cluster.fork();
  return;
}
if (workers > 1) process.on('disconnect', () => process.exit(0));   // the primary is gone
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
// CompleteMultipartUpload as S3 does it: the object's ETag is the MD5 of the
// parts' MD5s followed by "-" and the part count, and a part whose ETag is not
// the one the server gave it is refused (InvalidPart). s3rver itself hashes
// the whole object again while it joins the parts, which took about as long as
// uploading all the parts; here the parts are only copied into the object.
{
  const fsp = require('fs').promises;
  const path = require('path');
  const crypto = require('crypto');
  const S3Object = require('@20minutes/s3rver/lib/models/object');
  const S3Error = require('@20minutes/s3rver/lib/models/error');
  const store = server.store;
  store.putObjectMultipart = async function (bucket, uploadId, parts) {
    const uploadDir = path.join(this.getResourcePath(bucket, undefined, 'uploads'), uploadId);
    const [objectKey, metadata] = await Promise.all([
      fsp.readFile(path.join(uploadDir, 'key')).then((data) => data.toString()),
      fsp.readFile(path.join(uploadDir, 'metadata')).then(JSON.parse),
    ]);
    const sorted = [...parts].sort((a, b) => a.number - b.number);
    const digests = [];
    for (const part of sorted) {
      const md5 = await fsp.readFile(path.join(uploadDir, `${part.number}.md5`)).then((d) => d.toString(), () => '');
      if (!md5 || md5 !== part.etag) {
        throw new S3Error('InvalidPart', 'One or more of the specified parts could not be found or its entity tag did not match.');
      }
      digests.push(Buffer.from(md5, 'hex'));
    }
    const object = new S3Object(bucket, objectKey, null, metadata);
    const objectPath = this.getResourcePath(bucket, objectKey, 'object');
    await fsp.mkdir(path.dirname(objectPath), { recursive: true });
    const out = await fsp.open(objectPath, 'w');
    const buf = Buffer.allocUnsafe(8 << 20);
    let size = 0;
    try {
      for (const part of sorted) {
        const inp = await fsp.open(path.join(uploadDir, String(part.number)), 'r');
        try {
          for (;;) {
            const { bytesRead } = await inp.read(buf, 0, buf.length, null);
            if (bytesRead === 0) break;
            for (let at = 0; at < bytesRead;) at += (await out.write(buf, at, bytesRead - at)).bytesWritten;
            size += bytesRead;
          }
        } finally {
          await inp.close();
        }
      }
    } finally {
      await out.close();
    }
    const etag = crypto.createHash('md5').update(Buffer.concat(digests)).digest('hex') + '-' + sorted.length;
    await this.putMetadata(bucket, objectKey, object.metadata, etag);
    await fsp.rm(uploadDir, { recursive: true });
    return { size, md5: etag };
  };
}
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
  (info) => { if (workers === 1) console.log('s3 ready on %s:%d', info.address, info.port); },
  (err) => { console.error(err); process.exit(1); });
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
