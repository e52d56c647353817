// node_tls.js -- Node.js HTTPS peers (OpenSSL through Node's own memory BIO): a server, and a keep-alive client.
//   node node_tls.js server PORT CERT KEY      200 and "node says TARGET\n"
//   node node_tls.js client PORT N EXPECT      N GETs of /node/0.. on one
//                                              connection; EXPECT gets
//                                              "GET TARGET STATUS BODY_SIZE"
'use strict';
const https = require('https');
const fs = require('fs');

const [mode, port] = [process.argv[2], Number(process.argv[3])];
if (mode === 'server') {
  const opts = { cert: fs.readFileSync(process.argv[4]), key: fs.readFileSync(process.argv[5]) };
  https.createServer(opts, (req, res) => {
    const body = `node says ${req.url}\n`;
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  }).listen(port, '127.0.0.1');
} else if (mode === 'client') {
  const n = Number(process.argv[4]);
  const out = [];
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
  const get = (i) => {
    if (i === n) {
      fs.writeFileSync(process.argv[5], out.join(''));
      agent.destroy();
      return;
    }
    const target = `/node/${i}`;
    https.get({ host: '127.0.0.1', port, path: target, agent, rejectUnauthorized: false }, (res) => {
      let size = 0;
      res.on('data', (d) => { size += d.length; });
      res.on('end', () => {
        out.push(`GET ${target} ${res.statusCode} ${size}\n`);
        get(i + 1);
      });
    }).on('error', (e) => { console.error(e.message); process.exit(1); });
  };
  get(0);
} else {
  console.error('usage: node node_tls.js server PORT CERT KEY | client PORT N EXPECT');
  process.exit(2);
}
