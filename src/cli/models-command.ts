import { resolveCacheDir } from '../model-cache/cache-dir.js';
import { listModels, pullModel } from '../model-cache/named-models.js';
import { DownloadProgressBar, formatBytes } from './download-progress.js';
import { UsageError } from './usage-error.js';

/** Parsed options of `framewise models`. */
export interface ModelsCommandOptions {
  /** Words after `models`: `list`, or `pull` and one or more names. */
  readonly args: readonly string[];
  readonly cacheDir?: string;
  readonly baseUrl?: string;
  /** Draw a progress bar on stderr while pulling. */
  readonly progress: boolean;
  readonly signal?: AbortSignal;
}

/**
 * Runs `framewise models list` (the manifest with sizes and cache state) or
 * `framewise models pull NAME...` (verified downloads into the cache), writing to stdout.
 *
 * @throws UsageError for a missing or unknown subcommand, and the FramewiseError of a failed pull.
 */
export async function runModelsCommand(options: ModelsCommandOptions): Promise<void> {
  const [subcommand, ...names] = options.args;
  if (subcommand === 'list') {
    if (names.length > 0) throw new UsageError(`Unexpected arguments: ${names.join(' ')}.`);
    process.stdout.write(await formatModelList(options.cacheDir));
    return;
  }
  if (subcommand === 'pull') {
    if (names.length === 0) throw new UsageError('Missing NAME: the model to download, for example "framewise models pull tiny-yolov3".');
    for (const name of names) await pullOne(name, options);
    return;
  }
  if (subcommand === undefined) throw new UsageError('Missing subcommand of models: list or pull.');
  throw new UsageError(`Unknown subcommand of models: ${JSON.stringify(subcommand)}. Expected list or pull.`);
}

/** Builds the table of `framewise models list`: name, family, size, whether cached, and description. */
export async function formatModelList(cacheDir?: string): Promise<string> {
  const entries = await listModels({ cacheDir });
  const rows = [
    ['NAME', 'FAMILY', 'SIZE', 'CACHED', 'DESCRIPTION'],
    ...entries.map(({ entry, cached }) => [entry.name, entry.family ?? `(${entry.kind})`, formatBytes(entry.sizeBytes), cached ? 'yes' : 'no', entry.description]),
  ];
  const widths = [0, 1, 2, 3].map((column) => Math.max(...rows.map((row) => (row[column] as string).length)));
  const lines = rows.map((row) => row.map((cell, column) => (column < 4 ? cell.padEnd(widths[column] as number) : cell)).join('  ').trimEnd());
  return `Cache: ${resolveCacheDir(cacheDir)}\n${lines.join('\n')}\n`;
}

async function pullOne(name: string, options: ModelsCommandOptions): Promise<void> {
  const bar = options.progress ? new DownloadProgressBar(name) : undefined;
  try {
    const result = await pullModel(name, {
      cacheDir: options.cacheDir,
      baseUrl: options.baseUrl,
      signal: options.signal,
      onProgress: bar ? (progress) => bar.update(progress) : undefined,
    });
    bar?.finish();
    const size = formatBytes(result.entry.sizeBytes);
    if (!result.downloaded) {
      process.stdout.write(`${name} is already in the cache: ${result.path} (${size}).\n`);
      return;
    }
    const resumed = result.resumedFromBytes > 0 ? `, resumed at ${formatBytes(result.resumedFromBytes)}` : '';
    process.stdout.write(`Pulled ${name} to ${result.path} (${size}, SHA-256 verified${resumed}).\n`);
  } catch (error) {
    bar?.finish();
    throw error;
  }
}
