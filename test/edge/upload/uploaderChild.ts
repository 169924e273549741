// Run by resume.test.ts in its own process so that it can be killed with SIGKILL mid-upload: an
// uploader over the outbox in argv[2], sending to argv[3] with small tus chunks, logging to stdout.
import { createLogger } from '../../../src/log.ts';
import { openOutbox } from '../../../edge/upload/Outbox.ts';
import { Uploader } from '../../../edge/upload/Uploader.ts';

const [dir, url, username, password, chunkBytes] = process.argv.slice(2);
// a test runner given the whole folder runs this file too: without arguments it does nothing
if (!dir || !url || !username || !password || !chunkBytes) process.exit(0);
const outbox = await openOutbox({ dir: dir! });
const uploader = new Uploader({
  outbox,
  url: url!,
  username: username!,
  password: password!,
  concurrency: 1,
  retry: { baseSeconds: 1, maxSeconds: 1 },
  tus: { chunkBytes: Number(chunkBytes) },
  log: createLogger({ level: 'debug' }),
});
uploader.start();
