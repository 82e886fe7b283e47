// Serves a TUF repository directory read-only: versioned metadata, timestamp.json and the
// hash-prefixed targets. Names are checked against the layout before the disk is touched.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import { HttpError } from '../http/index.js';

export interface TufServiceOptions {
  /** The repository directory (the files clients fetch). */
  dir: string;
}

const METADATA = /^(?:[1-9]\d{0,9}\.(?:root|targets|snapshot)|timestamp)\.json$/;
const TARGET = /^[0-9a-f]{64}\.[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

function notFound(what: string): HttpError {
  return new HttpError('TUF_NOT_FOUND', `no such TUF file: ${what}`);
}

export const tufService =
  (options: TufServiceOptions): FastifyPluginAsync =>
  async (app) => {
    const send = async (path: string, name: string, immutable: boolean) => {
      try {
        return { body: await readFile(path), cache: immutable ? 'public, max-age=31536000, immutable' : 'no-cache' };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(name);
        throw e;
      }
    };
    app.get<{ Params: { name: string } }>('/:name', async (req, reply) => {
      const { name } = req.params;
      if (!METADATA.test(name)) throw notFound(name);
      // Versioned files never change; timestamp.json changes with every signing round.
      const file = await send(join(options.dir, name), name, name !== 'timestamp.json');
      return reply.type('application/json').header('cache-control', file.cache).send(file.body);
    });
    app.get<{ Params: { name: string } }>('/targets/:name', async (req, reply) => {
      const { name } = req.params;
      if (!TARGET.test(name)) throw notFound(`targets/${name}`);
      const file = await send(join(options.dir, 'targets', name), `targets/${name}`, true);
      return reply.type('application/octet-stream').header('cache-control', file.cache).send(file.body);
    });
  };
