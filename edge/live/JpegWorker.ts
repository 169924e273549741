// JPEG encoding off the main thread. jpeg-js takes 25–75 ms for a 704×576 frame; the platform may
// watch every camera's live stream all day, and four cameras at 5 fps would then spend most of a
// core on the thread that also runs capture, the analyses and the uploads. One worker serves every
// camera's live server; frames are transferred, not copied; a worker that dies is replaced and the
// frames it held fail (their viewers simply get the next one).
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

// Plain CommonJS, evaluated: it needs no TypeScript loader, so it runs the same from the sources
// and from the build. jpeg-js is resolved here and handed over as a path.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const jpeg = require(workerData.jpegJs);
parentPort.on('message', (m) => {
  try {
    const rgb = new Uint8Array(m.rgb);
    const pixels = m.width * m.height;
    const rgba = new Uint8Array(pixels * 4);
    for (let p = 0, i = 0, j = 0; p < pixels; p++, i += 3, j += 4) {
      rgba[j] = rgb[i]; rgba[j + 1] = rgb[i + 1]; rgba[j + 2] = rgb[i + 2]; rgba[j + 3] = 255;
    }
    const out = jpeg.encode({ width: m.width, height: m.height, data: rgba }, m.quality).data;
    const bytes = new Uint8Array(out.length);
    bytes.set(out);
    parentPort.postMessage({ id: m.id, jpeg: bytes.buffer }, [bytes.buffer]);
  } catch (err) {
    parentPort.postMessage({ id: m.id, error: String(err && err.message || err) });
  }
});
`;

interface Job {
  resolve: (jpeg: Buffer) => void;
  reject: (err: Error) => void;
}

class JpegWorker {
  #worker: Worker | undefined;
  readonly #jobs = new Map<number, Job>();
  #next = 1;

  #start(): Worker {
    if (this.#worker) return this.#worker;
    const jpegJs = createRequire(import.meta.url).resolve('jpeg-js');
    const worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [], workerData: { jpegJs } });
    worker.unref();
    worker.on('message', (m: { id: number; jpeg?: ArrayBuffer; error?: string }) => {
      const job = this.#jobs.get(m.id);
      if (!job) return;
      this.#jobs.delete(m.id);
      if (this.#jobs.size === 0) worker.unref();
      if (m.jpeg) job.resolve(Buffer.from(m.jpeg));
      else job.reject(new Error(`JPEG encoding failed: ${m.error ?? 'unknown'}`));
    });
    const fail = (err: Error) => {
      if (this.#worker === worker) this.#worker = undefined;
      for (const job of this.#jobs.values()) job.reject(err);
      this.#jobs.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the JPEG worker exited (${code})`)));
    this.#worker = worker;
    return worker;
  }

  /** Encodes RGB24 (the buffer is taken over: do not use it afterwards). */
  encode(rgb: Uint8Array, width: number, height: number, quality: number): Promise<Buffer> {
    const worker = this.#start();
    const id = this.#next++;
    return new Promise<Buffer>((resolve, reject) => {
      this.#jobs.set(id, { resolve, reject });
      // keep the process alive only while a frame is being encoded
      worker.ref();
      const buffer = rgb.byteOffset === 0 && rgb.byteLength === rgb.buffer.byteLength ? rgb.buffer : rgb.slice().buffer;
      worker.postMessage({ id, width, height, quality, rgb: buffer }, [buffer as ArrayBuffer]);
    });
  }
}

/** The one worker of this process. */
export const jpegWorker = new JpegWorker();
