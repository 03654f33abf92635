// An MCP server of the official TypeScript SDK (Streamable HTTP, stateless) for t/mcp.t:
//
//   node server.mjs PORT
//
// It listens on 127.0.0.1:PORT, behind the test's nginx, and has one tool, `echo`, which
// answers its text with the client id nginx passed in X-Client. "ready" on stdout once
// listening.

import http from 'node:http';
import process from 'node:process';

import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) {
  process.stderr.write('usage: node server.mjs PORT\n');
  process.exit(2);
}

function server(client) {
  const mcp = new McpServer({ name: 'echo', version: '1.0.0' });
  mcp.registerTool('echo', {
    description: 'Says the text back',
    inputSchema: { text: z.string() },
  }, async ({ text }) => ({ content: [{ type: 'text', text: `${text}, said ${client}` }] }));
  return mcp;
}

http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', async () => {
    const body = Buffer.concat(chunks).toString();
    const mcp = server(req.headers['x-client'] ?? 'nobody');
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      transport.close();
      mcp.close();
    });
    try {
      await mcp.connect(transport);
      await transport.handleRequest(req, res, body ? JSON.parse(body) : undefined);
    } catch (err) {
      process.stderr.write(`server.mjs: ${err.message}\n`);
      if (!res.headersSent) res.writeHead(500).end();
    }
  });
}).listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));

const stop = () => process.exit(0);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
