// A real PostgreSQL for the tests (Debian's postgresql package; .ci/run starts the cluster
// and creates a superuser role for the user running the tests). Each test gets its own
// database with a unique name, dropped afterwards. KEYLESS_TEST_DATABASE_URL points
// elsewhere (a superuser connection to an admin database). A test that needs PostgreSQL
// fails loudly when it is not reachable; it is never skipped.
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { userInfo } from 'node:os';

export const ADMIN_URL =
  process.env.KEYLESS_TEST_DATABASE_URL ?? `postgres://${userInfo().username}@localhost/postgres?host=/var/run/postgresql`;

const HOW_TO_START =
  'start it with `pg_ctlcluster 15 main start` and create your role with ' +
  '`runuser -u postgres -- createuser --superuser "$(whoami)"` (bash .ci/run does both), ' +
  'or set KEYLESS_TEST_DATABASE_URL to a superuser connection string';

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (e) {
    throw new Error(`PostgreSQL is not reachable at ${ADMIN_URL} (${(e as Error).message}): ${HOW_TO_START}`, { cause: e });
  }
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export interface TestDatabase {
  name: string;
  /** Connection string of the new database. */
  url: string;
  drop(): Promise<void>;
}

/** Creates an empty database named after `label` plus a random suffix. */
export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const name = `keyless_test_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${randomBytes(5).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => {}),
  };
}

/** Runs SQL on a test database (to inspect or tamper with it). */
export async function sql<R extends pg.QueryResultRow = pg.QueryResultRow>(
  url: string,
  text: string,
  params: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(text, params)).rows;
  } finally {
    await client.end();
  }
}
