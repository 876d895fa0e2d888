/**
 * `npm run bench`: runs the benchmark sections and prints one table.
 *
 *   node dist/bench/run.js [--quick] [--only <substring>] [--dir <path>]
 *
 * --quick   a short smoke run (small data, short loops); its figures are not for comparing
 * --only    only workloads whose name (or section name) contains the substring, case-insensitive
 * --dir     where temporary databases go (default: the OS temp dir); pick the disk to measure
 *
 * A section is one module exporting `bench<Section>(context)` that returns
 * rows; adding one (the HTTP section, say) is one import and one entry in
 * `sections`. Progress goes to stderr, the table to stdout.
 */
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { benchEngine } from './engine.js';
import { benchJson } from './json.js';
import { benchHttp } from './http.js';
import { benchReplication } from './replication.js';
import { defaultTempRoot, formatNumber, formatTable, type BenchContext, type BenchRow } from './support.js';

interface Section {
  readonly name: string;
  /**
   * For a section that cannot pick workloads itself: the prefixes of its row
   * names, so `--only` can tell whether running it could match anything.
   */
  readonly rowNamePrefixes?: readonly string[];
  run(context: BenchContext): Promise<readonly BenchRow[]>;
}

const sections: readonly Section[] = [
  // benchJson takes no options: it runs its full length even with --quick.
  { name: 'json', rowNamePrefixes: ['json.', 'revid.'], run: () => benchJson() },
  { name: 'engine', run: (context) => benchEngine(context) },
  { name: 'http', run: (context) => benchHttp(context) },
  { name: 'replication', rowNamePrefixes: ['replication.'], run: (context) => benchReplication(context) },
];

interface Arguments {
  readonly quick: boolean;
  readonly only: string | undefined;
  readonly tempRoot: string;
}

const usage = 'usage: node dist/bench/run.js [--quick] [--only <substring>] [--dir <path>]';

function parseArguments(argv: readonly string[]): Arguments {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      dir: { type: 'string' },
    },
    strict: true,
  });
  return {
    quick: values.quick ?? false,
    only: values.only?.toLowerCase(),
    tempRoot: values.dir ?? defaultTempRoot(),
  };
}

function contains(text: string, filter: string | undefined): boolean {
  return filter === undefined || text.toLowerCase().includes(filter);
}

function shouldRun(section: Section, only: string | undefined): boolean {
  if (only === undefined || contains(section.name, only) || section.rowNamePrefixes === undefined) return true;
  return section.rowNamePrefixes.some((prefix) => contains(prefix, only) || only.startsWith(prefix.toLowerCase()));
}

async function main(): Promise<number> {
  let args: Arguments;
  try {
    args = parseArguments(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${usage}\n`);
    return 2;
  }
  const cpuList = cpus();
  const header = [
    `Settee benchmark${args.quick ? ' (--quick: smoke run, figures not comparable)' : ''}`,
    `node ${process.version} on ${process.platform}/${process.arch}, ${cpuList.length} CPU${cpuList.length === 1 ? '' : 's'} (${cpuList[0]?.model.trim() ?? 'unknown model'})`,
    `temporary data under ${args.tempRoot}${args.only === undefined ? '' : `; --only ${JSON.stringify(args.only)}`}`,
  ];
  process.stdout.write(`${header.join('\n')}\n\n`);

  const started = performance.now();
  const rows: BenchRow[] = [];
  let failures = 0;
  for (const section of sections) {
    if (!shouldRun(section, args.only)) continue;
    const sectionSelected = contains(section.name, args.only);
    const context: BenchContext = {
      quick: args.quick,
      selects: (workloadName) => sectionSelected || contains(workloadName, args.only),
      tempRoot: args.tempRoot,
      log: (message) => process.stderr.write(`  ${message}\n`),
    };
    process.stderr.write(`[${section.name}]\n`);
    try {
      const produced = await section.run(context);
      // Sections that pick their own workloads keep their yardstick rows; the others are filtered here.
      const selfSelecting = section.rowNamePrefixes === undefined;
      rows.push(...produced.filter((row) => selfSelecting || sectionSelected || contains(row.name, args.only)));
    } catch (error) {
      failures++;
      process.stderr.write(`section ${section.name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    }
  }

  process.stdout.write(`${formatTable(rows)}\n\n`);
  process.stdout.write(`${rows.length} rows in ${formatNumber((performance.now() - started) / 1000)} s${failures > 0 ? `; ${failures} section(s) failed` : ''}\n`);
  return failures > 0 ? 1 : 0;
}

process.exitCode = await main();
