// `npm run build:portal`: builds the admin portal (portal/ → portal/dist) when missing or older than its
// sources; `--force` builds it anyway. scripts/test.mjs runs it before the tests.
import { buildPortal, ensurePortalBuilt } from '../src/admin-portal/build.js';

if (process.argv.includes('--force')) await buildPortal();
else await ensurePortalBuilt((line) => console.log(line));
