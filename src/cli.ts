#!/usr/bin/env node
/**
 * `settee`: resolve the configuration, prepare the data directory (creating
 * and printing a first admin if none is configured), serve until SIGTERM or
 * SIGINT, then shut down gracefully and exit 0.
 */
import { ConfigError, resolveConfig, setteeVersion, usage, parseFlags } from './config.js';
import { prepareDataDir, startServer } from './server.js';

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const flags = parseFlags(argv);
  if (flags.help) {
    process.stdout.write(usage);
    return 0;
  }
  if (flags.version) {
    process.stdout.write(`settee ${setteeVersion}\n`);
    return 0;
  }
  // Signal handlers first: a signal during start-up still ends in a clean shutdown.
  const stopped = new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  const prepared = await prepareDataDir(resolveConfig({ argv, env: process.env, cwd: process.cwd() }));
  if (prepared.createdAdmin) {
    process.stdout.write(
      `Created server admin "${prepared.createdAdmin.name}" with password "${prepared.createdAdmin.password}"\n` +
        `(shown once; stored hashed in ${prepared.config.dataDir}/settee.ini)\n`,
    );
  }
  const server = await startServer({ config: prepared.config });
  process.stdout.write(`Settee ${setteeVersion} listening on ${server.address.url} (data: ${prepared.config.dataDir})\n`);
  const signal = await stopped;
  process.stdout.write(`${signal}: shutting down\n`);
  await server.close();
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`settee: ${error instanceof ConfigError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = error instanceof ConfigError ? 2 : 1;
  },
);
