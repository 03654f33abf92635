// An MCP client of the official TypeScript SDK for t/mcp.t:
//
//   node client.mjs URL [ISSUER CLIENT_ID CLIENT_SECRET [SCOPE]]
//
// It connects to the MCP server at URL (Streamable HTTP) and calls its `echo` tool. With
// credentials, it authorizes as the SDK does (a ClientCredentialsProvider): on a 401 it reads
// the protected resource metadata that the challenge names, the authorization server's
// metadata, asks for a token for the resource (RFC 8707) with SCOPE, and tries again with it.
//
// Prints `result TEXT` and `token TOKEN`, or `error NAME MESSAGE` (exit status 1).

import process from 'node:process';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ClientCredentialsProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js';

const [url, issuer, clientId, clientSecret, scope] = process.argv.slice(2);
const authProvider = clientId
  ? new ClientCredentialsProvider({ clientId, clientSecret, scope, expectedIssuer: issuer })
  : undefined;
const transport = new StreamableHTTPClientTransport(new URL(url), { authProvider });
const client = new Client({ name: 't-mcp', version: '1.0.0' });

try {
  await client.connect(transport);
  const result = await client.callTool({ name: 'echo', arguments: { text: 'hello' } });
  process.stdout.write(`result ${result.content[0].text}\n`);
  process.stdout.write(`token ${authProvider?.tokens()?.access_token ?? ''}\n`);
  await client.close();
  process.exit(0);
} catch (err) {
  process.stdout.write(`error ${err.constructor.name} ${err.message}\n`);
  process.exit(1);
}
