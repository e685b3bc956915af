// call.mjs URL TOKEN TOOL [JSON-ARGS]: calls one tool through a vault with the
// official SDK and prints the result (used by scripts/screenshots.sh).
import { connect } from '../helpers.mjs';

const [url, token, tool, args = '{}'] = process.argv.slice(2);
const client = await connect(url, token);
try {
  const res = await client.callTool({ name: tool, arguments: JSON.parse(args) }, undefined, { timeout: 300000 });
  console.log(JSON.stringify(res));
} finally {
  await client.close();
}
