/**
 * Named models: listing the manifest with the cache state, pulling an entry into the cache, and
 * resolving a `--model` argument that is either a file path or a name.
 */
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { FramewiseError, invalidArgument } from '../errors.js';
import type { Logger } from '../logger.js';
import { resolveCacheDir } from './cache-dir.js';
import { downloadVerified, type DownloadProgress } from './download.js';
import { cacheFileName, entryUrl, findManifestEntry, loadManifest, MANIFEST_ENV_VARIABLE, type ManifestEntry } from './manifest.js';

/** Environment variable that replaces the base URL of every manifest entry, for mirrors and tests. */
export const BASE_URL_ENV_VARIABLE = 'FRAMEWISE_MODEL_BASE_URL';

/** Cache folder and download source. Every field falls back to an environment variable. */
export interface ModelCacheOptions {
  /** Cache folder. Default: `$FRAMEWISE_CACHE_DIR`, `$XDG_CACHE_HOME/framewise` or `~/.cache/framewise`. */
  readonly cacheDir?: string;
  /** Replaces the base URL of every entry, such as a local mirror. Default `$FRAMEWISE_MODEL_BASE_URL`. */
  readonly baseUrl?: string;
  /** JSON file of extra entries (see `loadManifest`). Default `$FRAMEWISE_MODEL_MANIFEST`. */
  readonly manifestPath?: string;
  /** Environment to read the defaults from. Default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
}

/** One manifest entry and its state in the cache. */
export interface CachedEntry {
  readonly entry: ManifestEntry;
  /** Path of the file, now or once pulled. */
  readonly path: string;
  /** True when a file of the expected size is at `path`. Only verified downloads are renamed there. */
  readonly cached: boolean;
}

/** Options of {@link pullModel}. */
export interface PullOptions extends ModelCacheOptions {
  readonly onProgress?: (progress: DownloadProgress) => void;
  readonly signal?: AbortSignal;
  readonly logger?: Logger;
}

/** Outcome of {@link pullModel}. */
export interface PullResult {
  readonly entry: ManifestEntry;
  readonly path: string;
  /** False when the file was already in the cache and nothing was downloaded. */
  readonly downloaded: boolean;
  /** Bytes kept from an earlier, interrupted attempt. */
  readonly resumedFromBytes: number;
}

/** A `--model` argument resolved to a file. */
export interface ResolvedModel {
  readonly path: string;
  /** The manifest entry, when the argument was a name. */
  readonly entry?: ManifestEntry;
}

/**
 * Lists every manifest entry with its cache path and whether it is cached.
 *
 * @throws FramewiseError `INVALID_ARGUMENT` (as a rejection) when the manifest file is invalid.
 * @example
 * import { listModels } from 'framewise';
 *
 * for (const { entry, cached } of await listModels()) console.log(entry.name, cached);
 */
export async function listModels(options: ModelCacheOptions = {}): Promise<CachedEntry[]> {
  const manifest = await loadManifest(manifestPathOf(options));
  const cacheDir = resolveCacheDir(options.cacheDir, options.env);
  return Promise.all(manifest.map((entry) => describeEntry(entry, cacheDir)));
}

/**
 * Downloads a named entry into the cache unless it is already there, verifying its SHA-256.
 * An interrupted pull leaves a `.partial` file that the next pull resumes.
 *
 * @throws FramewiseError `INVALID_ARGUMENT` at call time for an empty name or a base URL that is
 *   not http or https.
 * @returns A promise that rejects with FramewiseError: `MODEL_NOT_FOUND` for a name the manifest
 *   lacks; `DOWNLOAD_FAILED`, `CHECKSUM_MISMATCH` or `ABORTED` from the download (see
 *   `downloadVerified`); `INVALID_ARGUMENT` for an invalid manifest file.
 * @example
 * import { loadDetector, pullModel } from 'framewise';
 *
 * const { path, entry } = await pullModel('tiny-yolov3');
 * const detector = await loadDetector(path, { family: entry.family });
 */
export function pullModel(name: string, options: PullOptions = {}): Promise<PullResult> {
  if (typeof name !== 'string' || name === '') throw invalidArgument('name', name, 'the name of a manifest entry, such as "tiny-yolov3"');
  const baseUrl = baseUrlOf(options);
  return pull(name, baseUrl, options);
}

async function pull(name: string, baseUrl: string | undefined, options: PullOptions): Promise<PullResult> {
  const manifest = await loadManifest(manifestPathOf(options));
  const entry = requireEntry(manifest, name);
  const cacheDir = resolveCacheDir(options.cacheDir, options.env);
  const existing = await describeEntry(entry, cacheDir);
  if (existing.cached) return { entry, path: existing.path, downloaded: false, resumedFromBytes: 0 };

  await mkdir(cacheDir, { recursive: true });
  const result = await downloadVerified({
    url: entryUrl(entry, baseUrl),
    destination: existing.path,
    expectedBytes: entry.sizeBytes,
    sha256: entry.sha256,
    onProgress: options.onProgress,
    signal: options.signal,
    logger: options.logger,
  });
  return { entry, path: result.path, downloaded: true, resumedFromBytes: result.resumedFromBytes };
}

/**
 * Resolves a `--model` argument: an existing file is used as it is; otherwise a manifest name
 * resolves to its cached file. Anything else that looks like a path (it has a `/` or a `.`)
 * comes back as a path, so that loading it reports the missing file.
 *
 * @throws FramewiseError `MODEL_NOT_FOUND` (as a rejection) for a named model that is not in
 *   the cache yet, saying which command pulls it, and for a bare name that is neither a file nor
 *   in the manifest, listing the known names.
 */
export async function resolveModel(nameOrPath: string, options: ModelCacheOptions = {}): Promise<ResolvedModel> {
  if (await isFile(nameOrPath)) return { path: nameOrPath };

  const manifest = await loadManifest(manifestPathOf(options));
  const entry = findManifestEntry(manifest, nameOrPath);
  if (!entry && !/[./\\]/.test(nameOrPath)) {
    const known = manifest.filter((candidate) => candidate.kind === 'model').map((candidate) => candidate.name);
    throw new FramewiseError(
      'MODEL_NOT_FOUND',
      `Model ${JSON.stringify(nameOrPath)} is neither a file nor a known model name. Known names: ${known.join(', ')} ` +
        '(see "framewise models list"); otherwise pass the path of an ONNX file.',
      { name: nameOrPath, knownNames: known },
    );
  }
  if (!entry || entry.kind !== 'model') return { path: nameOrPath };

  const cached = await describeEntry(entry, resolveCacheDir(options.cacheDir, options.env));
  if (cached.cached) return { path: cached.path, entry };
  throw new FramewiseError(
    'MODEL_NOT_FOUND',
    `Model "${entry.name}" is not downloaded yet (expected at ${JSON.stringify(cached.path)}). ` +
      `Run "framewise models pull ${entry.name}" first, or call pullModel("${entry.name}").`,
    { name: entry.name, path: cached.path },
  );
}

function requireEntry(manifest: readonly ManifestEntry[], name: string): ManifestEntry {
  const entry = findManifestEntry(manifest, name);
  if (entry) return entry;
  throw new FramewiseError(
    'MODEL_NOT_FOUND',
    `No model named ${JSON.stringify(name)} in the manifest. Known names: ${manifest.map((known) => known.name).join(', ')}. ` +
      'Ultralytics models are not downloadable by name: export them with "yolo export model=yolov8n.pt format=onnx" and pass the file path.',
    { name, knownNames: manifest.map((known) => known.name) },
  );
}

async function describeEntry(entry: ManifestEntry, cacheDir: string): Promise<CachedEntry> {
  const path = join(cacheDir, cacheFileName(entry));
  const size = await stat(path).then(
    (stats) => (stats.isFile() ? stats.size : -1),
    () => -1,
  );
  return { entry, path, cached: size === entry.sizeBytes };
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (stats) => stats.isFile(),
    () => false,
  );
}

function manifestPathOf(options: ModelCacheOptions): string | undefined {
  return options.manifestPath ?? (options.env ?? process.env)[MANIFEST_ENV_VARIABLE];
}

/**
 * Returns the base-URL override, if any.
 *
 * @throws FramewiseError `INVALID_ARGUMENT` when it is not an http or https URL.
 */
function baseUrlOf(options: ModelCacheOptions): string | undefined {
  const baseUrl = options.baseUrl ?? (options.env ?? process.env)[BASE_URL_ENV_VARIABLE];
  if (baseUrl === undefined || baseUrl === '') return undefined;
  let protocol: string | undefined;
  try {
    protocol = new URL(baseUrl).protocol;
  } catch {
    // Not a URL at all; reported below like a URL of another scheme.
  }
  if (protocol !== 'http:' && protocol !== 'https:') {
    throw invalidArgument('baseUrl', baseUrl, `an http or https URL (from the baseUrl option or $${BASE_URL_ENV_VARIABLE})`);
  }
  return baseUrl;
}
