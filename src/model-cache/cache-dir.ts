import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** Environment variable that sets the cache folder. */
export const CACHE_DIR_ENV_VARIABLE = 'FRAMEWISE_CACHE_DIR';

/**
 * Returns the folder where named models and sample media are stored: `cacheDir` when given, else
 * `$FRAMEWISE_CACHE_DIR`, else `$XDG_CACHE_HOME/framewise`, else `~/.cache/framewise`. Empty
 * variables count as unset, as the XDG base directory specification requires. The path is absolute.
 *
 * @param env Environment to read, `process.env` by default.
 */
export function resolveCacheDir(cacheDir?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (cacheDir !== undefined && cacheDir !== '') return resolve(cacheDir);
  const fromEnv = env[CACHE_DIR_ENV_VARIABLE];
  if (fromEnv) return resolve(fromEnv);
  const xdgCacheHome = env.XDG_CACHE_HOME;
  if (xdgCacheHome) return resolve(xdgCacheHome, 'framewise');
  return join(homedir(), '.cache', 'framewise');
}
