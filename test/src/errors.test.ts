// Every error code the code base can raise is in the README's error table, like fastify's
// "every code is documented" test.
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { errorCatalogue } from '../../src/errors.ts';
import '../../src/contract/errors.ts';
import '../../src/crypto/errors.ts';
import '../../src/media/errors.ts';
import '../../src/store/errors.ts';
import '../../src/config/load.ts';
import '../../src/client/errors.ts';
import '../../relay/errors.ts';
import '../../relay/tls.ts';
import '../../src/sim/errors.ts';
import '../../relay/forward/UpstreamTokens.ts';
import '../../src/crypto/sm3Offload.ts';

t.test('every error code is documented in the README', async (t) => {
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  const rows = readme.split('\n').filter((l) => l.includes('ESEAL_ERR_'));
  t.ok(errorCatalogue().size > 20, `${errorCatalogue().size} codes`);
  for (const [code, kind] of errorCatalogue()) {
    const area = code.split('_').slice(0, 3).join('_') + '_';
    const suffix = code.slice(area.length);
    const documented = rows.some(
      (row) => row.includes(code) || (row.includes(area) && (row.includes(`_${suffix}\``) || row.includes(`\`${suffix}\``))),
    );
    t.ok(documented, `${code} (${kind.summary}) is in the README`);
  }
});
