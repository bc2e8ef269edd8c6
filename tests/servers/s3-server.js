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
server.run().then(
  (info) => console.log('s3 ready on %s:%d', info.address, info.port),
  (err) => { console.error(err); process.exit(1); });
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
