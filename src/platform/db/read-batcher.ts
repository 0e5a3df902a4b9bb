interface Waiting<K, R> {
  key: K;
  resolve: (result: R | undefined) => void;
  reject: (error: unknown) => void;
}

/**
 * Reads of concurrent callers by key, made together: keys asked for in the same turn of the event
 * loop (or while the previous read runs) go in one `read`, up to `maxKeys`. Each caller gets the
 * row of its key, or undefined. A failed read fails each of its callers.
 */
export class ReadBatcher<K, R> {
  private waiting: Array<Waiting<K, R>> = [];
  private scheduled = false;
  private reading = false;

  constructor(
    private readonly o: {
      /** Returns the rows found for `keys`, in any order. */
      read: (keys: K[]) => Promise<R[]>;
      keyOf: (row: R) => K;
      maxKeys: number;
    },
  ) {}

  get(key: K): Promise<R | undefined> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ key, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.reading) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.readAll();
    });
  }

  private async readAll(): Promise<void> {
    this.reading = true;
    try {
      while (this.waiting.length > 0) {
        const batch = this.waiting.splice(0, this.o.maxKeys);
        try {
          const found = new Map((await this.o.read([...new Set(batch.map((w) => w.key))])).map((row) => [this.o.keyOf(row), row]));
          for (const w of batch) w.resolve(found.get(w.key));
        } catch (error) {
          for (const w of batch) w.reject(error);
        }
      }
    } finally {
      this.reading = false;
    }
  }
}
