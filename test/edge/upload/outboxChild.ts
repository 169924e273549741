// Run by Outbox.test.ts in its own process so that it can be killed with SIGKILL mid-write: adds
// records and clips (copies of argv[4]) without end and prints `added <id> <kind> <n>` on stdout
// each time an add resolved, i.e. each time the outbox promised the entry is durable.
import { EVIDENCE_ENDPOINTS, RECORD_ENDPOINTS, formatJsonTime } from '../../../src/contract/index.ts';
import { evidenceName } from '../../helpers/evidence.ts';
import { openOutbox } from '../../../edge/upload/Outbox.ts';

const [dir, mineId, clip] = process.argv.slice(2);
// a test runner given the whole folder runs this file too: without arguments it does nothing
if (!dir || !mineId || !clip) process.exit(0);
const outbox = await openOutbox({ dir: dir! });
process.stdout.write('ready\n');
for (let n = 0; ; n++) {
  if (n % 3 === 2) {
    const id = await outbox.addEvidence(EVIDENCE_ENDPOINTS.personVideo, evidenceName(EVIDENCE_ENDPOINTS.personVideo, mineId!), clip!, { keepSource: true });
    process.stdout.write(`added ${id} evidence ${n}\n`);
  } else {
    const body = { mineId: mineId!, cameraId: '20', aiTypeCode: '01', inWellNumber: String(n % 10000).padStart(4, '0'), time: formatJsonTime() };
    const id = await outbox.addRecord(RECORD_ENDPOINTS.person, body);
    process.stdout.write(`added ${id} record ${n}\n`);
  }
}
