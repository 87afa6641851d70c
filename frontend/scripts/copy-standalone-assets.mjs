// `next build` with output: "standalone" leaves static assets out of .next/standalone; the docs say
// to copy .next/static and public in, so `node .next/standalone/server.js` serves everything.
import { cpSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const standalone = join(root, ".next", "standalone");
if (!existsSync(join(standalone, "server.js"))) {
  console.error("copy-standalone-assets: .next/standalone/server.js is missing (is output: 'standalone' set?)");
  process.exit(1);
}
cpSync(join(root, ".next", "static"), join(standalone, ".next", "static"), { recursive: true });
if (existsSync(join(root, "public"))) cpSync(join(root, "public"), join(standalone, "public"), { recursive: true });
console.log("copied .next/static and public into .next/standalone");
