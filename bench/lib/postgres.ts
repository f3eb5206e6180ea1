// The bench's own view of Postgres while a server runs on it: the CPU its
// backends spend for one database, and a count in a database. Postgres runs
// on the same machine (its backends are processes we can read in /proc).
import postgres from "postgres";
import { mainThreadCpuSecondsOf } from "./servers";

type Sql = ReturnType<typeof postgres>;

export class PgProbe {
  private constructor(private readonly sql: Sql) {}

  /** `url`: any database on the server (pg_stat_activity lists every database's backends). */
  static connect(url: string): PgProbe {
    return new PgProbe(postgres(url, { max: 1, onnotice: () => {}, idle_timeout: 0 }));
  }

  /**
   * CPU seconds so far of each backend connected to `database` (client
   * backends only), by pid. A backend is a process of one thread: its run
   * time in ns (schedstat), where /proc/<pid>/stat counts 10 ms ticks. Read
   * from this machine's /proc: Postgres must run here.
   */
  async backendCpu(database: string): Promise<Map<number, number>> {
    const rows = await this.sql<{ pid: number }[]>`SELECT pid FROM pg_stat_activity WHERE datname = ${database} AND backend_type = 'client backend'`;
    const cpu = new Map<number, number>();
    for (const { pid } of rows) {
      try {
        cpu.set(pid, mainThreadCpuSecondsOf(pid));
      } catch {
        // The backend ended between the query and the read.
      }
    }
    return cpu;
  }

  /**
   * CPU seconds `database`'s backends spent since `before` (backendCpu's
   * answer then): backends that started since count from zero; those that
   * ended since are lost (servers keep their pools open, so few are).
   */
  async backendCpuSince(database: string, before: Map<number, number>): Promise<number> {
    const now = await this.backendCpu(database);
    let spent = 0;
    for (const [pid, cpu] of now) spent += cpu - (before.get(pid) ?? 0);
    return spent;
  }

  async close(): Promise<void> {
    await this.sql.end();
  }
}

/** The count `query` (one row, its column `n`) reads in the database at `url` (a fresh connection, closed after). */
export async function countRows(url: string, query: string): Promise<number> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql.unsafe<{ n: string }[]>(query);
    return Number(row!.n);
  } finally {
    await sql.end();
  }
}
