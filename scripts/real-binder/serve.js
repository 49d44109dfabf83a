// Runs Joyent's binder (its lib/zk.js and lib/server.js, unchanged) on one
// loopback address, to judge the lab's binder DNS (tests/binder_agreement.rs).
//
//   ZK_HOST=IP node serve.js BINDER_SRC ADDRESS PORT DNS_DOMAIN DATACENTER
//
// binder's main.js is not used: it binds every address (DNS and its metrics
// port) and starts the UFDS recursion; the lab is loopback only and has no
// UFDS. This starts what main.js starts without those, with its options.
'use strict';
const path = require('path');

const [src, host, port, dnsDomain, datacenterName] = process.argv.slice(2);
if (!src || !host || !port || !dnsDomain || !datacenterName || !process.env.ZK_HOST) {
    console.error('usage: ZK_HOST=IP node serve.js BINDER_SRC ADDRESS PORT DNS_DOMAIN DATACENTER');
    process.exit(2);
}
if (!/^127\./.test(host)) {
    console.error(`serve.js: ${host} is not a loopback address (127.0.0.0/8)`);
    process.exit(2);
}
const need = (name) => require(path.join(src, 'node_modules', name));
const bunyan = need('bunyan');
const zk = require(path.join(src, 'lib', 'zk.js'));
const server = require(path.join(src, 'lib', 'server.js'));

const log = bunyan.createLogger({ name: 'binder', level: process.env.LOG_LEVEL || 'warn', stream: process.stderr });
const zkCache = new zk.ZKCache({ log, domain: dnsDomain });
const dns = server.createServer({
    name: 'binder',
    log,
    host,
    port: parseInt(port, 10),
    zkCache,
    dnsDomain,
    datacenterName,
});
dns.start(() => console.log(`binder listening on ${host}:${port}`));
process.on('SIGTERM', () => process.exit(0));
