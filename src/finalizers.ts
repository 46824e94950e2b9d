/**
 * Registry of outputs still being finalised after their subscriber went away.
 *
 * Unsubscribing is synchronous in RxJS, but closing a video file is not: ffmpeg must flush its
 * encoder and write the index. Writers register that work here so a runner can wait for it before
 * it reports a run as finished.
 */

/** Finalisations in progress. Each promise removes itself when it settles. */
const pending = new Set<Promise<void>>();

/**
 * Registers a finalisation that outlives its subscription. The promise should not reject; a
 * rejection is swallowed here because the writer reports its own failure through its logger.
 */
export function trackFinalization(work: Promise<unknown>): void {
  const settled: Promise<void> = work.then(
    () => undefined,
    () => undefined,
  );
  pending.add(settled);
  void settled.then(() => pending.delete(settled));
}

/** Number of finalisations in progress. */
export function pendingFinalizationCount(): number {
  return pending.size;
}

/** Resolves once every finalisation registered so far, and any registered while waiting, has settled. */
export async function whenFinalized(): Promise<void> {
  while (pending.size > 0) {
    await Promise.all([...pending]);
  }
}
